import { useState, type FormEvent, type ReactNode } from 'react';
import {
  api,
  API_ROUTE_GROUPS,
  formatTime,
  roleAtLeast,
  type Account,
  type ApiKey,
  type PublicKey,
  type SigningKey,
  type WebhookSecretStatus,
  type Workspace,
} from './api';
import {
  CheckboxGroup,
  CopyButton,
  DownloadButton,
  EmptyRow,
  ErrorText,
  ExpirySelect,
  FormButtons,
  Modal,
  OnceBox,
  StatusCells,
  useChange,
  useLoad,
} from './ui';

interface Props {
  account: Account;
  workspace: Workspace;
  base: string;
  onWorkspaceChanged: () => void;
}

export function ApiKeysPage({ account, workspace, base, onWorkspaceChanged }: Props) {
  const isAdmin = roleAtLeast(account.role, 'admin');
  return (
    <div data-testid="page-api-keys">
      <h1>API Keys</h1>
      <WorkspaceCredentials account={account} workspace={workspace} base={base} />
      {(
        [
          [ENHANCED_SECURITY, workspace.enhanced_security],
          [SIGNED_CLIENTS, workspace.allow_signed_clients],
        ] as const
      ).map(([text, isOn]) => (
        <WorkspaceSwitch key={text.path} isAdmin={isAdmin} isOn={isOn} text={text} base={base} onChanged={onWorkspaceChanged} />
      ))}
      <ApiKeys isAdmin={isAdmin} base={base} />
      <PublicKeys isAdmin={isAdmin} base={base} />
      <SigningKeys isAdmin={isAdmin} base={base} />
      <WebhookSecret isAdmin={isAdmin} base={base} />
    </div>
  );
}

/** How long a rotated-out secret keeps working. */
function GraceSelect({ value, onChange, testId }: { value: string; onChange: (grace: string) => void; testId: string }) {
  return (
    <label>
      Grace period for the old secret
      <select data-testid={testId} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="0">None (old secret stops now)</option>
        <option value="1h">1 hour</option>
        <option value="24h">24 hours</option>
        <option value="7d">7 days</option>
      </select>
    </label>
  );
}

function WebhookSecret({ isAdmin, base }: { isAdmin: boolean; base: string }) {
  const status = useLoad(() => api<WebhookSecretStatus>('GET', `${base}/webhook-secret`), [base]);
  const [rolling, setRolling] = useState(false);
  const [grace, setGrace] = useState('24h');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const roll = async () => {
    setError(null);
    try {
      const answer = await api<{ webhook_secret: string }>('POST', `${base}/webhook-secret/roll`, { grace });
      setCreated(answer.webhook_secret);
      status.reload();
    } catch (failure) {
      setError(failure);
    }
    setRolling(false);
  };

  const current = status.data?.current;
  return (
    <section className="card" data-testid="webhook-secret">
      <div className="section-head">
        <h2>Webhook signing secret</h2>
        {isAdmin && (
          <button type="button" className="secondary" data-testid="roll-webhook-secret" onClick={() => setRolling(true)}>
            Generate new secret
          </button>
        )}
      </div>
      <p className="muted">
        Webhook steps are signed with this secret (<code>x-herald-signature: t=…,v1=…</code>), not with the workspace secret, so a receiver
        holds nothing that can call the API. It is shown once, when generated.
      </p>
      {status.data && (
        <dl className="fields" data-testid="webhook-secret-status">
          <dt>Current secret</dt>
          <dd>
            {!status.data.has_own_secret
              ? 'None yet: webhooks are signed with the workspace secret. Generate one to separate them.'
              : current
                ? `Generated ${formatTime(current.created_at)}`
                : 'None'}
          </dd>
          {status.data.previous.map((previous) => (
            <div key={previous.id} className="contents">
              <dt>Previous secret</dt>
              <dd>Still signs until {formatTime(previous.valid_until)}</dd>
            </div>
          ))}
        </dl>
      )}
      {created && (
        <OnceBox
          label="webhook signing secret"
          value={created}
          testId="new-webhook-secret"
          onDone={() => setCreated(null)}
          why="Herald keeps it encrypted, only to sign webhooks."
        />
      )}
      <ErrorText error={error ?? status.error} />
      {rolling && (
        <Modal title="Generate a new webhook signing secret" testId="roll-webhook-secret-dialog">
          <p>
            During the grace period every webhook carries two signatures, one with each secret, so your receivers can switch to the new
            secret before the old one stops.
          </p>
          <GraceSelect value={grace} onChange={setGrace} testId="webhook-secret-grace" />
          <div className="row">
            <button type="button" className="danger" data-testid="roll-webhook-secret-confirm" onClick={() => void roll()}>
              Generate secret
            </button>
            <button type="button" className="secondary" onClick={() => setRolling(false)}>
              Cancel
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

function WorkspaceCredentials({ account, workspace, base }: { account: Account; workspace: Workspace; base: string }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [rotating, setRotating] = useState(false);
  const [grace, setGrace] = useState('24h');
  const [notice, setNotice] = useState<string | null>(null);

  const reveal = async () => {
    setError(null);
    try {
      const answer = await api<{ workspace_secret: string }>('GET', `${base}/secret`);
      setSecret(answer.workspace_secret);
    } catch (failure) {
      setError(failure);
    }
  };

  const rotate = async () => {
    setError(null);
    try {
      const answer = await api<{ previous_valid_until: number | null }>('POST', `${base}/secret/rotate`, { grace });
      setSecret(null);
      setRotating(false);
      setNotice(
        answer.previous_valid_until
          ? `Rotated. The previous secret keeps working until ${formatTime(answer.previous_valid_until)}. Reveal the new one to copy it.`
          : 'Rotated. The previous secret stopped working now. Reveal the new one to copy it.',
      );
    } catch (failure) {
      setError(failure);
      setRotating(false);
    }
  };

  return (
    <section className="card">
      <h2>Workspace credentials</h2>
      <dl className="fields">
        <dt>Workspace Key</dt>
        <dd>
          <code data-testid="workspace-key">{workspace.workspace_key}</code>{' '}
          <CopyButton text={workspace.workspace_key} testId="workspace-key-copy" />
        </dd>
        <dt>Workspace Secret</dt>
        <dd>
          {secret === null ? (
            <code data-testid="workspace-secret-masked">••••••••••••••••••••••••</code>
          ) : (
            <code className="secret" data-testid="workspace-secret">
              {secret}
            </code>
          )}{' '}
          {roleAtLeast(account.role, 'developer') &&
            (secret === null ? (
              <button type="button" className="secondary" data-testid="reveal-secret" onClick={() => void reveal()}>
                Reveal
              </button>
            ) : (
              <>
                <CopyButton text={secret} testId="copy-secret" />{' '}
                <button type="button" className="secondary" data-testid="hide-secret" onClick={() => setSecret(null)}>
                  Hide
                </button>
              </>
            ))}{' '}
          {roleAtLeast(account.role, 'admin') && (
            <button type="button" className="danger" data-testid="rotate-secret" onClick={() => setRotating(true)}>
              Rotate
            </button>
          )}
        </dd>
      </dl>
      {notice && (
        <p className="notice" data-testid="rotate-notice">
          {notice}
        </p>
      )}
      <ErrorText error={error} />
      {rotating && (
        <Modal title="Rotate the workspace secret" testId="rotate-dialog">
          <p>
            A new secret is generated. Servers signing with the old secret keep working only for the grace period you choose; update them
            before it ends.
          </p>
          <GraceSelect value={grace} onChange={setGrace} testId="rotate-grace" />
          <div className="row">
            <button type="button" className="danger" data-testid="rotate-confirm" onClick={() => void rotate()}>
              Rotate secret
            </button>
            <button type="button" className="secondary" onClick={() => setRotating(false)}>
              Cancel
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

interface SwitchText {
  title: string;
  /** `/admin/api/workspaces/:ws/<path>` takes `{"enabled"}`. */
  path: string;
  testId: string;
  description: ReactNode;
  turnOn: string;
  turnOff: string;
  warnOn: string;
  warnOff: string;
}

const ENHANCED_SECURITY: SwitchText = {
  title: 'Enhanced security mode',
  path: 'enhanced-security',
  testId: 'enhanced-security',
  description:
    "When on, browser and mobile SDKs (public keys) must send a user token signed with one of this workspace's signing keys for every user. Requests without a valid token are refused.",
  turnOn: 'Turn on enhanced security',
  turnOff: 'Turn off enhanced security',
  warnOn:
    'Every browser and mobile SDK client of this workspace will need a signed user token. Apps that do not send one yet will stop working immediately.',
  warnOff:
    'Anyone who has a public key will be able to act as any user of this workspace (read their inbox, change preferences) without a signed user token.',
};

const SIGNED_CLIENTS: SwitchText = {
  title: 'Allow key+secret signed client calls',
  path: 'signed-clients',
  testId: 'signed-clients',
  description:
    'Legacy client SDKs (web-sdk 1.x, Android 1.x, iOS legacy builds) sign with the workspace secret, which therefore ships inside the app. With enhanced security on they are refused unless this is on; with it off they are accepted either way.',
  turnOn: 'Allow signed client calls',
  turnOff: 'Refuse signed client calls',
  warnOn:
    'Anyone who extracts the workspace secret from such an app can act as any user of this workspace, and as your backend. Allow this only while those apps are still in use, and rotate the secret once they are gone.',
  warnOff:
    'Apps built with web-sdk 1.x, Android 1.x or legacy iOS SDKs will stop sending events and reading preferences while enhanced security is on.',
};

/** A per-workspace on/off setting: status, what it does, and (for admins) a confirmed toggle. */
function WorkspaceSwitch({
  isAdmin,
  isOn,
  text,
  base,
  onChanged,
}: {
  isAdmin: boolean;
  isOn: boolean;
  text: SwitchText;
  base: string;
  onChanged: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const apply = async () => {
    setError(null);
    try {
      await api('PUT', `${base}/${text.path}`, { enabled: !isOn });
      onChanged();
    } catch (failure) {
      setError(failure);
    }
    setConfirming(false);
  };
  return (
    <section className="card">
      <h2>{text.title}</h2>
      <p>
        Status:{' '}
        <strong data-testid={`${text.testId}-status`} className={isOn ? 'on' : 'off'}>
          {isOn ? 'On' : 'Off'}
        </strong>
      </p>
      <p className="muted">{text.description}</p>
      {isAdmin && (
        <button
          type="button"
          className={isOn ? 'secondary' : 'danger'}
          data-testid={`${text.testId}-toggle`}
          onClick={() => setConfirming(true)}
        >
          {isOn ? text.turnOff : text.turnOn}
        </button>
      )}
      <ErrorText error={error} />
      {confirming && (
        <Modal title={`${isOn ? text.turnOff : text.turnOn}?`} testId={`${text.testId}-dialog`}>
          <p className="warning" data-testid={`${text.testId}-warning`}>
            {isOn ? text.warnOff : text.warnOn}
          </p>
          <div className="row">
            <button type="button" className="danger" data-testid={`${text.testId}-confirm`} onClick={() => void apply()}>
              {isOn ? 'Turn off' : 'Turn on'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

function scopeLabel(key: ApiKey): string {
  const access = { full: 'Full', trigger: 'Trigger only', read: 'Read only' }[key.scope];
  return key.route_groups === null ? access : `${access}: ${key.route_groups.join(', ')}`;
}

function ApiKeys({ isAdmin, base }: { isAdmin: boolean; base: string }) {
  const list = useLoad(() => api<{ api_keys: ApiKey[] }>('GET', `${base}/api-keys`), [base]);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [expiresIn, setExpiresIn] = useState('');
  const [scope, setScope] = useState<ApiKey['scope']>('full');
  const [groups, setGroups] = useState<string[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const { error, run } = useChange(list.reload);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await api<{ key: string }>('POST', `${base}/api-keys`, {
        name,
        ...(expiresIn ? { expires_in: expiresIn } : {}),
        scope,
        ...(scope !== 'trigger' && groups.length > 0 ? { route_groups: groups } : {}),
      });
      setCreated(answer.key);
      setCreating(false);
      setName('');
      setScope('full');
      setGroups([]);
    });
  };

  const revoke = (key: ApiKey) =>
    run(
      () => api('DELETE', `${base}/api-keys/${encodeURIComponent(key.id)}`),
      `Revoke the API key "${key.name}"? Requests using it are refused from now on.`,
    );

  return (
    <section className="card">
      <div className="section-head">
        <h2>API keys</h2>
        {isAdmin && !creating && (
          <button type="button" data-testid="generate-api-key" onClick={() => setCreating(true)}>
            Generate API Key
          </button>
        )}
      </div>
      {creating && (
        <form className="inline-form" onSubmit={(event) => void create(event)} data-testid="api-key-form">
          <label>
            Name
            <input required maxLength={200} data-testid="api-key-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <ExpirySelect value={expiresIn} onChange={setExpiresIn} testId="api-key-expiry" />
          <label>
            Access
            <select data-testid="api-key-scope" value={scope} onChange={(e) => setScope(e.target.value as ApiKey['scope'])}>
              <option value="full">Full access</option>
              <option value="trigger">Trigger only (triggers, events, broadcasts)</option>
              <option value="read">Read only (GET requests)</option>
            </select>
          </label>
          {scope !== 'trigger' && (
            <CheckboxGroup
              legend="Limit to route groups (none checked: all)"
              options={API_ROUTE_GROUPS}
              selected={groups}
              onChange={setGroups}
              testId="api-key-groups"
            />
          )}
          <FormButtons label="Generate" testId="api-key-create" onCancel={() => setCreating(false)} />
        </form>
      )}
      {created && <OnceBox label="API key" value={created} testId="new-api-key" onDone={() => setCreated(null)} />}
      <ErrorText error={error ?? list.error} />
      <table data-testid="api-keys-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Access</th>
            <th>Created</th>
            <th>Created by</th>
            <th>Last used</th>
            <th>Expires</th>
            <th>Status</th>
            {isAdmin && <th />}
          </tr>
        </thead>
        <tbody>
          {list.data?.api_keys.map((key) => (
            <tr key={key.id} data-testid="api-key-row" data-name={key.name} data-status={key.status}>
              <td>{key.name}</td>
              <td>
                <code data-testid="api-key-prefix">{key.display_prefix}…</code>
              </td>
              <td data-testid="api-key-scope-cell">{scopeLabel(key)}</td>
              <td>{formatTime(key.created_at)}</td>
              <td>{key.created_by ?? '—'}</td>
              <td>{key.last_used_at ? formatTime(key.last_used_at) : 'Never'}</td>
              <td>{key.expires_at ? formatTime(key.expires_at) : 'Never'}</td>
              <StatusCells status={key.status} isAdmin={isAdmin} revokeTestId="revoke-api-key" onRevoke={() => void revoke(key)} />
            </tr>
          ))}
          {list.data?.api_keys.length === 0 && <EmptyRow colSpan={9} text="No API keys yet." />}
        </tbody>
      </table>
    </section>
  );
}

function PublicKeys({ isAdmin, base }: { isAdmin: boolean; base: string }) {
  const list = useLoad(() => api<{ public_keys: PublicKey[] }>('GET', `${base}/public-keys`), [base]);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [origins, setOrigins] = useState('');
  const { error, run } = useChange(list.reload);

  const create = (event: FormEvent) => {
    event.preventDefault();
    const allowed = origins
      .split(/[\s,]+/)
      .map((o) => o.trim())
      .filter(Boolean);
    void run(async () => {
      await api('POST', `${base}/public-keys`, { ...(name ? { name } : {}), ...(allowed.length ? { allowed_origins: allowed } : {}) });
      setCreating(false);
      setName('');
      setOrigins('');
    });
  };

  const revoke = (key: PublicKey) =>
    run(
      () => api('DELETE', `${base}/public-keys/${encodeURIComponent(key.id)}`),
      `Revoke the public key "${key.name}"? Browser and mobile apps using it stop working.`,
    );

  return (
    <section className="card">
      <div className="section-head">
        <h2>Public keys</h2>
        {isAdmin && !creating && (
          <button type="button" data-testid="create-public-key" onClick={() => setCreating(true)}>
            Create public key
          </button>
        )}
      </div>
      <p className="muted">Public keys identify this workspace to the browser and mobile SDKs. They are not secret.</p>
      {creating && (
        <form className="inline-form" onSubmit={(event) => void create(event)} data-testid="public-key-form">
          <label>
            Name
            <input maxLength={200} data-testid="public-key-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Allowed origins (space or comma separated; empty = any)
            <input
              data-testid="public-key-origins"
              placeholder="https://app.example.com"
              value={origins}
              onChange={(e) => setOrigins(e.target.value)}
            />
          </label>
          <FormButtons label="Create" testId="public-key-create" onCancel={() => setCreating(false)} />
        </form>
      )}
      <ErrorText error={error ?? list.error} />
      <table data-testid="public-keys-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Allowed origins</th>
            <th>Created</th>
            <th>Status</th>
            {isAdmin && <th />}
          </tr>
        </thead>
        <tbody>
          {list.data?.public_keys.map((key) => (
            <tr key={key.id} data-testid="public-key-row" data-status={key.status}>
              <td>{key.name}</td>
              <td>
                <code>{key.key}</code>
              </td>
              <td>{key.allowed_origins.length ? key.allowed_origins.join(', ') : 'Any'}</td>
              <td>{formatTime(key.created_at)}</td>
              <StatusCells status={key.status} isAdmin={isAdmin} revokeTestId="revoke-public-key" onRevoke={() => void revoke(key)} />
            </tr>
          ))}
          {list.data?.public_keys.length === 0 && <EmptyRow colSpan={6} text="No public keys yet." />}
        </tbody>
      </table>
    </section>
  );
}

function SigningKeys({ isAdmin, base }: { isAdmin: boolean; base: string }) {
  const list = useLoad(() => api<{ signing_keys: SigningKey[] }>('GET', `${base}/signing-keys`), [base]);
  const [created, setCreated] = useState<{ kid: string; pem: string; base64: string } | null>(null);
  const [importing, setImporting] = useState(false);
  const [pem, setPem] = useState('');
  const [importName, setImportName] = useState('');
  const { error, run } = useChange(list.reload);

  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');

  const generate = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await api<{ kid: string; pem: string; base64: string }>('POST', `${base}/signing-keys`, name ? { name } : {});
      setCreated({ kid: answer.kid, pem: answer.pem, base64: answer.base64 });
      setNaming(false);
      setName('');
    });
  };

  const importKey = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await api('POST', `${base}/signing-keys/import`, { public_key_pem: pem, ...(importName ? { name: importName } : {}) });
      setImporting(false);
      setPem('');
      setImportName('');
    });
  };

  const revoke = (key: SigningKey) =>
    run(
      () => api('DELETE', `${base}/signing-keys/${encodeURIComponent(key.kid)}`),
      `Revoke the signing key ${key.kid}? User tokens signed with it are refused from now on.`,
    );

  return (
    <section className="card">
      <div className="section-head">
        <h2>Signing keys</h2>
        {isAdmin && (
          <div className="row">
            <button type="button" data-testid="generate-signing-key" onClick={() => setNaming(true)}>
              Generate signing key
            </button>
            <button type="button" className="secondary" data-testid="import-signing-key" onClick={() => setImporting(true)}>
              Import public key
            </button>
          </div>
        )}
      </div>
      <p className="muted">Your backend signs user tokens (ES256 JWTs) with the private key; Herald keeps only the public half.</p>
      {naming && (
        <form className="inline-form" onSubmit={(event) => void generate(event)} data-testid="signing-key-form">
          <label>
            Name (what signs with it, e.g. the service or environment)
            <input
              maxLength={200}
              data-testid="signing-key-name"
              value={name}
              placeholder="Signing key"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <FormButtons label="Generate" testId="signing-key-create" onCancel={() => setNaming(false)} />
        </form>
      )}
      {created && (
        <div className="once" data-testid="new-signing-key">
          <p className="warning">
            Private key for kid <code>{created.kid}</code>. Store it now: it will not be shown again and Herald does not keep it.
          </p>
          <KeyMaterial title="PEM" text={created.pem} filename={`${created.kid}.pem`} downloadLabel="Download .pem" testIdSuffix="pem" />
          <KeyMaterial
            title="Base64 (for environment variables)"
            text={created.base64}
            filename={`${created.kid}.b64`}
            downloadLabel="Download Base64"
            testIdSuffix="base64"
          >
            <button type="button" data-testid="new-signing-key-done" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </KeyMaterial>
        </div>
      )}
      {importing && (
        <form className="stack-form" onSubmit={(event) => void importKey(event)} data-testid="import-form">
          <label>
            Name
            <input maxLength={200} data-testid="import-name" value={importName} onChange={(e) => setImportName(e.target.value)} />
          </label>
          <label>
            Public key (PEM, P-256)
            <textarea rows={6} required data-testid="import-pem" value={pem} onChange={(e) => setPem(e.target.value)} />
          </label>
          <div className="row">
            <FormButtons label="Import" testId="import-submit" onCancel={() => setImporting(false)} />
          </div>
        </form>
      )}
      <ErrorText error={error ?? list.error} />
      <table data-testid="signing-keys-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>kid</th>
            <th>Source</th>
            <th>Created</th>
            <th>Status</th>
            {isAdmin && <th />}
          </tr>
        </thead>
        <tbody>
          {list.data?.signing_keys.map((key) => (
            <tr key={key.id} data-testid="signing-key-row" data-kid={key.kid} data-status={key.status}>
              <td>{key.name}</td>
              <td>
                <code>{key.kid}</code>
              </td>
              <td>{key.source}</td>
              <td>{formatTime(key.created_at)}</td>
              <StatusCells status={key.status} isAdmin={isAdmin} revokeTestId="revoke-signing-key" onRevoke={() => void revoke(key)} />
            </tr>
          ))}
          {list.data?.signing_keys.length === 0 && <EmptyRow colSpan={6} text="No signing keys yet." />}
        </tbody>
      </table>
    </section>
  );
}

// One shown-once block of a new signing key's private half; test ids stay as the browser tests
// expect (new-signing-key-pem, copy-signing-pem, download-signing-pem, and the base64 twins).
function KeyMaterial({
  title,
  text,
  filename,
  downloadLabel,
  testIdSuffix,
  children,
}: {
  title: string;
  text: string;
  filename: string;
  downloadLabel: string;
  testIdSuffix: string;
  children?: ReactNode;
}) {
  return (
    <>
      <h3>{title}</h3>
      <pre className="secret" data-testid={`new-signing-key-${testIdSuffix}`}>
        {text}
      </pre>
      <div className="row">
        <CopyButton text={text} testId={`copy-signing-${testIdSuffix}`} />
        <DownloadButton text={text} filename={filename} label={downloadLabel} testId={`download-signing-${testIdSuffix}`} />
        {children}
      </div>
    </>
  );
}
