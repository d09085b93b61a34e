import { useState } from 'react';
import { api, formatTime, type RequestLogEntry } from './api';
import { ErrorText, pageQuery, usePagedLoad, type Page } from './ui';

const CREDENTIAL_KINDS: Record<string, string> = {
  none: 'none',
  hmac: 'workspace signature',
  api_key: 'API key',
  public_key: 'public key',
};

const PAGE_SIZE = 100;

export function RequestLogPage({ base }: { base: string }) {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const { entries, next, isLoading, error, loadOlder, reload } = usePagedLoad(
    (before) =>
      api<Page<RequestLogEntry>>('GET', `${base}/request-log?${pageQuery(PAGE_SIZE, before)}&status=${errorsOnly ? 'errors' : 'all'}`),
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
          <button type="button" className="secondary" data-testid="refresh" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      <p className="muted">API requests to this workspace, newest first (written about once a second). Rejections say why.</p>
      <ErrorText error={error} />
      <section className="card">
        <div className="table-scroll">
          <table data-testid="request-log-table" data-loading={isLoading ? 'true' : 'false'}>
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
              {entries?.map((entry) => (
                <tr
                  key={entry.request_id}
                  data-testid="request-log-row"
                  data-status={entry.status}
                  data-credential={entry.credential.id ?? ''}
                  className={entry.status >= 400 ? 'row-error' : ''}
                >
                  <td className="nowrap">{formatTime(entry.time)}</td>
                  <td>{entry.method}</td>
                  <td>
                    <code>{entry.path}</code>
                  </td>
                  <td>
                    {CREDENTIAL_KINDS[entry.credential.type] ?? entry.credential.type}
                    {entry.credential.id && <div className="muted small mono">{entry.credential.id}</div>}
                  </td>
                  <td>
                    <span className={entry.status >= 400 ? 'badge status-revoked' : 'badge status-active'}>{entry.status}</span>
                  </td>
                  <td className="nowrap">{Math.round(entry.latency_ms)} ms</td>
                  <td data-testid="request-log-reason">
                    {entry.error ? `${entry.error.code}${entry.error.reason ? `: ${entry.error.reason}` : ''}` : ''}
                  </td>
                </tr>
              ))}
              {entries?.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No requests yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {next && (
          <button type="button" className="secondary load-more" data-testid="request-log-load-more" onClick={loadOlder}>
            Load older requests
          </button>
        )}
      </section>
    </div>
  );
}
