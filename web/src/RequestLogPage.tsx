import { useState } from 'react';
import { api, formatTime, type RequestLogEntry } from './api';
import { ErrorText, useLoad } from './ui';

function credentialOf(entry: RequestLogEntry): string {
  if (entry.credential.type === 'none') return 'none';
  return entry.credential.id ? `${entry.credential.type} ${entry.credential.id}` : entry.credential.type;
}

export function RequestLogPage({ base }: { base: string }) {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const log = useLoad(
    () =>
      api<{ entries: RequestLogEntry[]; next: string | null }>(
        'GET',
        `${base}/request-log?limit=100&status=${errorsOnly ? 'errors' : 'all'}`,
      ),
    [base, errorsOnly],
  );
  return (
    <div data-testid="page-request-log">
      <div className="section-head">
        <h1>Request log</h1>
        <div className="row">
          <label className="checkbox">
            <input type="checkbox" data-testid="errors-only" checked={errorsOnly} onChange={(e) => setErrorsOnly(e.target.checked)} />{' '}
            Errors only
          </label>
          <button type="button" className="secondary" data-testid="refresh" onClick={log.reload}>
            Refresh
          </button>
        </div>
      </div>
      <p className="muted">API requests to this workspace, newest first (written about once a second). Rejections say why.</p>
      <ErrorText error={log.error} />
      <section className="card">
        <table data-testid="request-log-table" data-loading={log.loading ? 'true' : 'false'}>
          <thead>
            <tr>
              <th>Time</th>
              <th>Method</th>
              <th>Path</th>
              <th>Credential</th>
              <th>Status</th>
              <th>Latency</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {log.data?.entries.map((entry) => (
              <tr
                key={entry.request_id}
                data-testid="request-log-row"
                data-status={entry.status}
                data-credential={entry.credential.id ?? ''}
                className={entry.status >= 400 ? 'row-error' : ''}
              >
                <td>{formatTime(entry.time)}</td>
                <td>{entry.method}</td>
                <td>
                  <code>{entry.path}</code>
                </td>
                <td>
                  <code>{credentialOf(entry)}</code>
                </td>
                <td>
                  <span className={entry.status >= 400 ? 'badge status-revoked' : 'badge status-active'}>{entry.status}</span>
                </td>
                <td>{Math.round(entry.latency_ms)} ms</td>
                <td data-testid="request-log-reason">
                  {entry.error ? `${entry.error.code}${entry.error.reason ? `: ${entry.error.reason}` : ''}` : ''}
                </td>
              </tr>
            ))}
            {log.data?.entries.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No requests yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </div>
  );
}
