import { useState } from 'react';
import { api, formatTime, type AuditEntry } from './api';
import { ErrorText, pageQuery, usePagedLoad, type Page } from './ui';

/**
 * Workspace events (credentials, reveals, mode changes) and, for admins, the installation's own
 * events (sign-ins, failed sign-ins, accounts, service tokens), which belong to no workspace.
 * Read as sentences: human action names, the target's name, details as labelled fields.
 */

const PAGE_SIZE = 50;

const ACTIONS: Record<string, string> = {
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key revoked',
  'public_key.created': 'Public key created',
  'public_key.revoked': 'Public key revoked',
  'signing_key.created': 'Signing key generated',
  'signing_key.imported': 'Signing key imported',
  'signing_key.revoked': 'Signing key revoked',
  'workspace.created': 'Workspace created',
  'workspace_secret.revealed': 'Workspace secret revealed',
  'workspace_secret.rotated': 'Workspace secret rotated',
  'webhook_secret.rolled': 'Webhook signing secret generated',
  'enhanced_security.enabled': 'Enhanced security turned on',
  'enhanced_security.disabled': 'Enhanced security turned off',
  'signed_clients.allowed': 'Key+secret signed client calls allowed',
  'signed_clients.refused': 'Key+secret signed client calls refused',
  'login.succeeded': 'Signed in',
  'login.failed': 'Sign-in failed',
  'login.locked': 'Sign-in locked after failures',
  logout: 'Signed out',
  'reauth.succeeded': 'Password confirmed',
  'reauth.failed': 'Password confirmation failed',
  'account.created': 'Account created',
  'account.role_changed': 'Role changed',
  'account.disabled': 'Account disabled',
  'account.enabled': 'Account enabled',
  'account.password_set': 'Password set',
  'service_token.created': 'Service token created',
  'service_token.revoked': 'Service token revoked',
  'category.created': 'Category created',
  'category.updated': 'Category changed',
};

const TARGETS: Record<string, string> = {
  api_key: 'API key',
  public_key: 'Public key',
  signing_key: 'Signing key',
  workspace: 'Workspace',
  workspace_secret: 'Workspace secret',
  webhook_secret: 'Webhook secret',
  admin_account: 'Account',
  service_token: 'Service token',
  category: 'Category',
};

const ACTOR_TYPES: Record<string, string> = {
  admin_account: 'account',
  service_token: 'service token',
  cli: 'command line',
  system: 'Herald',
  anonymous: 'not signed in',
};

/** `api_key.created` → "API key created"; an action this page does not know reads tidily too. */
export function actionLabel(action: string): string {
  const known = ACTIONS[action];
  if (known) return known;
  const text = action.replace(/[._]/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function fieldLabel(key: string): string {
  const text = key.replace(/_ms$/, '').replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function fieldValue(key: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && /(_at|_until)$/.test(key)) return formatTime(value);
  if (typeof value === 'number' && key.endsWith('_ms')) return formatSpan(value);
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.map((item) => fieldValue('', item)).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  // Codes such as wrong_password read as words.
  return typeof value === 'string' && /^[a-z]+(_[a-z]+)+$/.test(value) ? value.replace(/_/g, ' ') : String(value);
}

function formatSpan(ms: number): string {
  if (ms === 0) return 'none';
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? '' : 's'}`;
  }
  return `${ms} ms`;
}

function Details({ details }: { details: Record<string, unknown> }) {
  const fields = Object.entries(details).filter(([key]) => key !== 'name');
  if (fields.length === 0) return null;
  const list = (
    <dl className="details-list">
      {fields.map(([key, value]) => (
        <div key={key}>
          <dt>{fieldLabel(key)}</dt>
          <dd>{fieldValue(key, value)}</dd>
        </div>
      ))}
    </dl>
  );
  // Short details inline; longer ones fold away so the table stays readable.
  return fields.length <= 2 ? (
    list
  ) : (
    <details>
      <summary>{fields.length} details</summary>
      {list}
    </details>
  );
}

export function AuditLogPage({ base, canSeeAccountEvents }: { base: string; canSeeAccountEvents: boolean }) {
  const [scope, setScope] = useState<'workspace' | 'account'>('workspace');
  const path = scope === 'account' ? '/audit-log' : `${base}/audit-log`;
  const { entries, next, error, loadOlder, reload } = usePagedLoad(
    (before) => api<Page<AuditEntry>>('GET', `${path}?${pageQuery(PAGE_SIZE, before)}`),
    [path],
  );

  return (
    <div data-testid="page-audit-log">
      <div className="section-head">
        <h1>Audit log</h1>
        <button type="button" className="secondary" data-testid="refresh" onClick={reload}>
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
      <ErrorText error={error} />
      <section className="card">
        <div className="table-scroll">
          <table data-testid="audit-log-table" className="audit-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Who</th>
                <th>What</th>
                <th>Target</th>
                <th>From</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {entries?.map((entry) => (
                <tr key={entry.id} data-testid="audit-log-row" data-action={entry.action}>
                  <td className="nowrap">{formatTime(entry.time)}</td>
                  <td>
                    {entry.actor.label}
                    <div className="muted small">{ACTOR_TYPES[entry.actor.type] ?? entry.actor.type}</div>
                  </td>
                  <td data-testid="audit-action">{actionLabel(entry.action)}</td>
                  <td>
                    {entry.target ? (
                      <>
                        {TARGETS[entry.target.type] ?? entry.target.type}
                        {typeof entry.details['name'] === 'string' && <strong> “{entry.details['name']}”</strong>}
                        {entry.target.id && <div className="muted small mono">{entry.target.id}</div>}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="nowrap">{entry.ip ?? '—'}</td>
                  <td>
                    <Details details={entry.details} />
                  </td>
                </tr>
              ))}
              {entries?.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No events yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {next && (
          <button type="button" className="secondary load-more" data-testid="audit-load-more" onClick={loadOlder}>
            Load older events
          </button>
        )}
      </section>
    </div>
  );
}
