import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, logout, me, messageOf, reauth, setReauthHandler, ws, type Account, type Workspace, roleAtLeast } from './api';
import { Login } from './Login';
import { ApiKeysPage } from './ApiKeysPage';
import { RequestLogPage } from './RequestLogPage';
import { MessagesPage } from './MessagesPage';
import { AuditLogPage } from './AuditLogPage';
import { UsersPage } from './UsersPage';
import { WorkflowsPage } from './WorkflowsPage';
import { CategoriesPage } from './CategoriesPage';
import { TenantsListsPage } from './TenantsListsPage';
import { GettingStartedPage } from './GettingStartedPage';
import { TeamPage } from './TeamPage';
import { ErrorText, Modal } from './ui';

const PAGES = [
  { id: 'getting-started', label: 'Getting started' },
  { id: 'workflows', label: 'Workflows' },
  { id: 'messages', label: 'Message log' },
  { id: 'users', label: 'Users' },
  { id: 'tenants-lists', label: 'Tenants & lists' },
  { id: 'categories', label: 'Categories' },
  { id: 'api-keys', label: 'Developers → API Keys' },
  { id: 'request-log', label: 'Request log' },
  { id: 'audit-log', label: 'Audit log' },
  { id: 'team', label: 'Team' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

const BASE = '/dashboard/';

interface Location {
  ws: string | null;
  page: PageId;
}

function parseLocation(): Location {
  const rest = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '';
  const [wsPart, pagePart] = rest.split('/');
  const page = PAGES.find((p) => p.id === pagePart)?.id ?? 'getting-started';
  return { ws: wsPart ? decodeURIComponent(wsPart) : null, page };
}

export function App() {
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    me().then(setAccount, (failure: unknown) => {
      setError(failure);
      setAccount(null);
    });
  }, []);

  if (account === undefined) return <p className="loading">Loading…</p>;
  if (account === null) {
    return (
      <>
        <ErrorText error={error} />
        <Login onSignedIn={setAccount} />
      </>
    );
  }
  return <Shell account={account} onSignedOut={() => setAccount(null)} />;
}

function Shell({ account, onSignedOut }: { account: Account; onSignedOut: () => void }) {
  const [location, setLocation] = useState<Location>(parseLocation);
  const [workspaces, setWorkspaces] = useState<Workspace[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reauthPrompt, setReauthPrompt] = useState<((ok: boolean) => void) | null>(null);

  const loadWorkspaces = useCallback(async () => {
    try {
      const answer = await api<{ workspaces: Workspace[] }>('GET', '/workspaces');
      setWorkspaces(answer.workspaces);
    } catch (failure) {
      setError(failure);
    }
  }, []);

  useEffect(() => {
    void loadWorkspaces();
    const onPop = () => setLocation(parseLocation());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [loadWorkspaces]);

  useEffect(() => {
    setReauthHandler(() => new Promise<boolean>((resolve) => setReauthPrompt(() => resolve)));
    return () => setReauthHandler(null);
  }, []);

  const navigate = (next: Location) => {
    const path = `${BASE}${encodeURIComponent(next.ws ?? '')}/${next.page}`;
    if (path !== window.location.pathname) window.history.pushState(null, '', path);
    setLocation(next);
  };

  const workspace = workspaces?.find((w) => w.slug === location.ws) ?? workspaces?.find((w) => w.slug === 'staging') ?? workspaces?.[0];

  const signOut = async () => {
    try {
      await logout();
    } finally {
      window.history.pushState(null, '', BASE);
      onSignedOut();
    }
  };

  const pages = PAGES.filter((p) => {
    if (p.id === 'audit-log') return roleAtLeast(account.role, 'developer');
    if (p.id === 'team') return roleAtLeast(account.role, 'admin');
    return true;
  });

  return (
    <div className="app">
      <header className="topbar">
        <strong className="brand">Herald</strong>
        {workspaces && workspace && (
          <label className="switcher">
            Workspace
            <select
              data-testid="workspace-switcher"
              value={workspace.slug}
              onChange={(event) => navigate({ ws: event.target.value, page: location.page })}
            >
              {workspaces.map((w) => (
                <option key={w.id} value={w.slug}>
                  {w.name || w.slug}
                  {w.mode === 'live' ? ' (LIVE)' : ''}
                </option>
              ))}
            </select>
          </label>
        )}
        {workspace?.mode === 'live' && (
          <span className="live" data-testid="live-badge" title="Production: changes here affect real users">
            LIVE
          </span>
        )}
        <span className="spacer" />
        <span className="who" data-testid="account">
          {account.email}{' '}
          <span className="role" data-testid="account-role">
            {account.role}
          </span>
        </span>
        <button type="button" className="secondary" data-testid="logout" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className="body">
        <nav className="sidebar">
          {pages.map((p) => (
            <a
              key={p.id}
              href={`${BASE}${encodeURIComponent(workspace?.slug ?? '')}/${p.id}`}
              data-testid={`nav-${p.id}`}
              className={p.id === location.page ? 'active' : ''}
              onClick={(event) => {
                event.preventDefault();
                navigate({ ws: workspace?.slug ?? null, page: p.id });
              }}
            >
              {p.label}
            </a>
          ))}
        </nav>
        <main className={workspace?.mode === 'live' ? 'content live-workspace' : 'content'}>
          <ErrorText error={error} />
          {workspace && (
            <PageView
              key={`${workspace.slug}/${location.page}`}
              page={location.page}
              account={account}
              workspace={workspace}
              workspaces={workspaces ?? []}
              onWorkspaceChanged={() => void loadWorkspaces()}
            />
          )}
        </main>
      </div>
      {reauthPrompt && (
        <ReauthDialog
          onDone={(ok) => {
            reauthPrompt(ok);
            setReauthPrompt(null);
          }}
        />
      )}
    </div>
  );
}

function PageView({
  page,
  account,
  workspace,
  workspaces,
  onWorkspaceChanged,
}: {
  page: PageId;
  account: Account;
  workspace: Workspace;
  workspaces: Workspace[];
  onWorkspaceChanged: () => void;
}) {
  const base = ws(workspace.slug);
  switch (page) {
    case 'api-keys':
      return <ApiKeysPage account={account} workspace={workspace} base={base} onWorkspaceChanged={onWorkspaceChanged} />;
    case 'messages':
      return <MessagesPage base={base} workspaceSlug={workspace.slug} />;
    case 'request-log':
      return <RequestLogPage base={base} />;
    case 'audit-log':
      return <AuditLogPage base={base} canSeeAccountEvents={roleAtLeast(account.role, 'admin')} />;
    case 'users':
      return <UsersPage base={base} />;
    case 'workflows':
      return <WorkflowsPage base={base} account={account} />;
    case 'categories':
      return <CategoriesPage base={base} account={account} workspaceSlug={workspace.slug} />;
    case 'tenants-lists':
      return <TenantsListsPage base={base} />;
    case 'getting-started':
      return <GettingStartedPage account={account} workspace={workspace} base={base} />;
    case 'team':
      return <TeamPage account={account} workspaces={workspaces} />;
  }
}

function ReauthDialog({ onDone }: { onDone: (ok: boolean) => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await reauth(password);
      onDone(true);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return (
    <Modal title="Confirm your password" testId="reauth-dialog">
      <form onSubmit={(event) => void submit(event)}>
        <p>This shows a secret or changes a credential, so Herald needs your password again.</p>
        <label>
          Password
          <input
            ref={input}
            type="password"
            autoComplete="current-password"
            data-testid="reauth-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {error !== null && <p className="error">{messageOf(error)}</p>}
        <div className="row">
          <button type="submit" disabled={busy} data-testid="reauth-submit">
            Confirm
          </button>
          <button type="button" className="secondary" onClick={() => onDone(false)}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
