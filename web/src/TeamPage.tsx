import { useState, type FormEvent } from 'react';
import { api, formatTime, roleAtLeast, type Account, type Role, type ServiceToken, type TeamMember, type Workspace } from './api';
import { CheckboxGroup, EmptyRow, ErrorText, ExpirySelect, FormButtons, OnceBox, StatusBadge, StatusCells, useChange, useLoad } from './ui';

/*
 * Team members (dashboard accounts) and service tokens belong to the installation, not to a
 * workspace: the page is the same whichever workspace is selected. Admins and owners manage
 * them; only an owner may grant or take away the owner role (the server enforces both).
 */

const ROLE_HELP: Record<Role, string> = {
  viewer: 'Viewer: reads logs, users and settings; sees no secret',
  developer: 'Developer: also edits workflows and reveals the workspace secret',
  admin: 'Admin: also manages credentials, team members and service tokens',
  owner: 'Owner: everything, including other owners',
};

function rolesGrantableBy(role: Role): Role[] {
  return role === 'owner' ? ['viewer', 'developer', 'admin', 'owner'] : ['viewer', 'developer', 'admin'];
}

function RoleSelect({ value, roles, onChange, testId }: { value: Role; roles: Role[]; onChange: (role: Role) => void; testId: string }) {
  return (
    <select data-testid={testId} value={value} onChange={(event) => onChange(event.target.value as Role)}>
      {roles.map((role) => (
        <option key={role} value={role} title={ROLE_HELP[role]}>
          {role}
        </option>
      ))}
    </select>
  );
}

export function TeamPage({ account, workspaces }: { account: Account; workspaces: Workspace[] }) {
  return (
    <div data-testid="page-team">
      <h1>Team</h1>
      <p className="muted">Dashboard accounts and service tokens apply to every workspace of this installation.</p>
      <Members account={account} />
      <ServiceTokens account={account} workspaces={workspaces} />
    </div>
  );
}

function Members({ account }: { account: Account }) {
  const list = useLoad(() => api<{ accounts: TeamMember[] }>('GET', '/accounts'), []);
  const [adding, setAdding] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const { error, run } = useChange(list.reload);
  const grantable = rolesGrantableBy(account.role);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const isDone = await run(() => api('POST', '/accounts', { email, password, role }));
    if (!isDone) return;
    setAdding(false);
    setEmail('');
    setPassword('');
  };

  const setDisabled = (member: TeamMember, disabled: boolean) => {
    const question = disabled
      ? `Disable ${member.email}? Their sessions end now and they cannot sign in until enabled again.`
      : `Enable ${member.email} again?`;
    void run(() => api('PATCH', `/accounts/${encodeURIComponent(member.id)}`, { disabled }), question);
  };

  return (
    <section className="card">
      <div className="section-head">
        <h2>Team members</h2>
        {!adding && (
          <button type="button" data-testid="add-member" onClick={() => setAdding(true)}>
            Add member
          </button>
        )}
      </div>
      {adding && (
        <form className="inline-form" onSubmit={(event) => void add(event)} data-testid="member-form">
          <label>
            Email
            <input
              required
              type="email"
              maxLength={254}
              data-testid="member-email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            Initial password
            <input
              required
              type="password"
              autoComplete="new-password"
              minLength={12}
              data-testid="member-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <label>
            Role
            <RoleSelect value={role} roles={grantable} onChange={setRole} testId="member-role" />
          </label>
          <FormButtons label="Add" testId="member-create" onCancel={() => setAdding(false)} />
          <p className="hint">{ROLE_HELP[role]}. Share the password with them; they can sign in at once.</p>
        </form>
      )}
      <ErrorText error={error ?? list.error} />
      <div className="table-scroll">
        <table data-testid="members-table">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Last sign-in</th>
              <th>Added</th>
              <th>Added by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.accounts.map((member) => {
              const isSelf = member.id === account.id;
              const mayManage = account.role === 'owner' || member.role !== 'owner';
              return (
                <tr key={member.id} data-testid="member-row" data-email={member.email} data-status={member.status}>
                  <td>
                    {member.email}
                    {isSelf && <span className="muted"> (you)</span>}
                  </td>
                  <td>
                    {mayManage && !isSelf ? (
                      <RoleSelect
                        value={member.role}
                        roles={grantable}
                        testId="member-role-select"
                        onChange={(next) => void run(() => api('PATCH', `/accounts/${encodeURIComponent(member.id)}`, { role: next }))}
                      />
                    ) : (
                      member.role
                    )}
                  </td>
                  <td>
                    <StatusBadge status={member.status} />
                  </td>
                  <td>{member.last_login_at ? formatTime(member.last_login_at) : 'Never'}</td>
                  <td>{formatTime(member.created_at)}</td>
                  <td>{member.created_by ?? '—'}</td>
                  <td>
                    {mayManage && !isSelf && (
                      <button
                        type="button"
                        className={member.status === 'active' ? 'danger small' : 'secondary small'}
                        data-testid={member.status === 'active' ? 'disable-member' : 'enable-member'}
                        onClick={() => setDisabled(member, member.status === 'active')}
                      >
                        {member.status === 'active' ? 'Disable' : 'Enable'}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function scopeText(token: ServiceToken, workspaces: Workspace[]): string {
  if (token.workspace_ids === '*') return 'All workspaces';
  return token.workspace_ids.map((id) => workspaces.find((w) => w.id === id)?.slug ?? id).join(', ');
}

function ServiceTokens({ account, workspaces }: { account: Account; workspaces: Workspace[] }) {
  const list = useLoad(() => api<{ service_tokens: ServiceToken[] }>('GET', '/service-tokens'), []);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const [allWorkspaces, setAllWorkspaces] = useState(true);
  const [chosen, setChosen] = useState<string[]>([]);
  const [expiresIn, setExpiresIn] = useState('90d');
  const [created, setCreated] = useState<string | null>(null);
  const { error, run } = useChange(list.reload);
  // A service token cannot be an owner: owners are people.
  const grantable = rolesGrantableBy(account.role).filter((r) => r !== 'owner');

  const create = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await api<{ token: string }>('POST', '/service-tokens', {
        name,
        role,
        workspaces: allWorkspaces ? '*' : chosen,
        ...(expiresIn ? { expires_in: expiresIn } : {}),
      });
      setCreated(answer.token);
      setCreating(false);
      setName('');
      setChosen([]);
    });
  };

  const revoke = (token: ServiceToken) =>
    run(
      () => api('DELETE', `/service-tokens/${encodeURIComponent(token.id)}`),
      `Revoke the service token "${token.name}"? Automation using it is refused from now on.`,
    );

  return (
    <section className="card">
      <div className="section-head">
        <h2>Service tokens</h2>
        {!creating && (
          <button type="button" data-testid="create-service-token" onClick={() => setCreating(true)}>
            Create service token
          </button>
        )}
      </div>
      <p className="muted">
        For automation (CI, scripts) against the admin API: send <code>Authorization: ServiceToken &lt;token&gt;</code>.
      </p>
      {creating && (
        <form className="inline-form" onSubmit={(event) => void create(event)} data-testid="service-token-form">
          <label>
            Name
            <input required maxLength={100} data-testid="service-token-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Role
            <RoleSelect value={role} roles={grantable} onChange={setRole} testId="service-token-role" />
          </label>
          <ExpirySelect value={expiresIn} onChange={setExpiresIn} testId="service-token-expiry" />
          <CheckboxGroup
            legend="Workspaces"
            options={allWorkspaces ? [] : workspaces.map((w) => w.slug)}
            selected={chosen}
            onChange={setChosen}
            testId="service-token-workspaces"
          >
            <label className="checkbox">
              <input type="checkbox" checked={allWorkspaces} onChange={(e) => setAllWorkspaces(e.target.checked)} />
              All (including ones created later)
            </label>
          </CheckboxGroup>
          <FormButtons label="Create" testId="service-token-create" onCancel={() => setCreating(false)} />
        </form>
      )}
      {created && <OnceBox label="service token" value={created} testId="new-service-token" onDone={() => setCreated(null)} />}
      <ErrorText error={error ?? list.error} />
      <div className="table-scroll">
        <table data-testid="service-tokens-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Role</th>
              <th>Workspaces</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Expires</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.service_tokens.map((token) => (
              <tr key={token.id} data-testid="service-token-row" data-name={token.name} data-status={token.status}>
                <td>{token.name}</td>
                <td>
                  <code>{token.display_prefix}…</code>
                </td>
                <td>{token.role}</td>
                <td>{scopeText(token, workspaces)}</td>
                <td>
                  {formatTime(token.created_at)}
                  {token.created_by && <span className="muted"> by {token.created_by}</span>}
                </td>
                <td>{token.last_used_at ? formatTime(token.last_used_at) : 'Never'}</td>
                <td>{token.expires_at ? formatTime(token.expires_at) : 'Never'}</td>
                <StatusCells
                  status={token.status}
                  isAdmin={roleAtLeast(account.role, 'admin')}
                  revokeTestId="revoke-service-token"
                  onRevoke={() => void revoke(token)}
                />
              </tr>
            ))}
            {list.data?.service_tokens.length === 0 && <EmptyRow colSpan={9} text="No service tokens yet." />}
          </tbody>
        </table>
      </div>
    </section>
  );
}
