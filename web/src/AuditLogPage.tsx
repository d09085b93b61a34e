import { useState } from 'react';
import { api, formatTime, type AuditEntry } from './api';
import { ErrorText, useLoad } from './ui';

/**
 * Workspace events (credentials, reveals, mode changes) and, for admins, the installation's own
 * events (sign-ins, failed sign-ins, accounts, service tokens), which belong to no workspace.
 */
export function AuditLogPage({ base, canSeeAccountEvents }: { base: string; canSeeAccountEvents: boolean }) {
  const [scope, setScope] = useState<'workspace' | 'account'>('workspace');
  const url = scope === 'account' ? '/audit-log?limit=100' : `${base}/audit-log?limit=100`;
  const log = useLoad(() => api<{ entries: AuditEntry[]; next: string | null }>('GET', url), [url]);
  return (
    <div data-testid="page-audit-log">
      <div className="section-head">
        <h1>Audit log</h1>
        <button type="button" className="secondary" data-testid="refresh" onClick={log.reload}>
          Refresh
        </button>
      </div>
      {canSeeAccountEvents && (
        <div className="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={scope === 'workspace'}
            className={scope === 'workspace' ? '' : 'secondary'}
            data-testid="audit-scope-workspace"
            onClick={() => setScope('workspace')}
          >
            This workspace
          </button>{' '}
          <button
            type="button"
            role="tab"
            aria-selected={scope === 'account'}
            className={scope === 'account' ? '' : 'secondary'}
            data-testid="audit-scope-account"
            onClick={() => setScope('account')}
          >
            Sign-ins and accounts
          </button>
        </div>
      )}
      <p className="muted">
        {scope === 'account'
          ? 'Sign-ins, failed sign-ins, accounts and service tokens: who did what, from where.'
          : 'Credential and security events of this workspace: who did what, from where.'}
      </p>
      <ErrorText error={log.error} />
      <section className="card">
        <table data-testid="audit-log-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>IP</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {log.data?.entries.map((entry) => (
              <tr key={entry.id} data-testid="audit-log-row" data-action={entry.action}>
                <td>{formatTime(entry.time)}</td>
                <td>
                  {entry.actor.label} <span className="muted">({entry.actor.type})</span>
                </td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>{entry.target ? `${entry.target.type} ${entry.target.id ?? ''}` : '—'}</td>
                <td>{entry.ip ?? '—'}</td>
                <td>
                  <code className="details">{Object.keys(entry.details).length ? JSON.stringify(entry.details) : ''}</code>
                </td>
              </tr>
            ))}
            {log.data?.entries.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No events yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </div>
  );
}
