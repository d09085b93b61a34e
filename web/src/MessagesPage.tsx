import { Fragment, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, formatTime, type MessageDetail, type MessageLogEntry, type MessageWebhook } from './api';
import { ErrorText, usePagedLoad, type Page } from './ui';

/**
 * What Herald delivered to whom: one row per message (an inbox notification or a webhook call),
 * newest first. A row opens to the rendered notification or the webhook's delivery state.
 */

const PAGE_SIZE = 50;

const STATUS_LABELS: Record<string, string> = {
  delivered: 'Delivered',
  seen: 'Seen',
  read: 'Read',
  interacted: 'Clicked',
  archived: 'Archived',
  queued: 'Queued',
  sent: 'Sent',
  failed: 'Failed',
};

const CHANNEL_LABELS: Record<string, string> = {
  inbox: 'In-app inbox',
  webhook: 'Webhook',
};

type Tone = 'ok' | 'pending' | 'failed';

/** A webhook still queued after a failed attempt is retrying, which is worth telling apart from "not tried yet". */
function statusOf(entry: MessageLogEntry): { label: string; tone: Tone } {
  if (entry.status === 'failed') return { label: 'Failed', tone: 'failed' };
  if (entry.status === 'queued') {
    return entry.webhook && entry.webhook.attempts > 0 ? { label: 'Retrying', tone: 'pending' } : { label: 'Queued', tone: 'pending' };
  }
  return { label: STATUS_LABELS[entry.status] ?? entry.status, tone: 'ok' };
}

function MessageStatus({ entry }: { entry: MessageLogEntry }) {
  const { label, tone } = statusOf(entry);
  return (
    <span className={`badge message-${tone}`} data-testid="message-status" data-status={entry.status}>
      {label}
    </span>
  );
}

function lastResult(webhook: MessageWebhook): string {
  if (webhook.attempts === 0) return 'Not attempted yet';
  if (webhook.last_http_status !== null) return `Refused: the target answered HTTP ${webhook.last_http_status}`;
  if (webhook.last_error !== null) return `Failed: ${webhook.last_error}`;
  if (webhook.status !== 'sent') return 'In progress';
  const failed = webhook.attempts - 1;
  return failed > 0 ? `Accepted (HTTP 2xx) after ${failed} failed attempt${failed === 1 ? '' : 's'}` : 'Accepted (HTTP 2xx)';
}

const WEBHOOK_STATES: Record<MessageWebhook['status'], string> = {
  pending: 'Waiting to be sent',
  sent: 'Delivered',
  failed: 'Gave up after the last attempt',
};

/** Label / value rows; empty values are left out. */
function Fields({ rows, testId }: { rows: Array<[string, ReactNode]>; testId?: string }) {
  const shown = rows.filter(([, value]) => value !== null && value !== undefined && value !== '');
  return (
    <dl className="details-list message-fields" data-testid={testId}>
      {shown.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function dataValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function Details({ detail }: { detail: MessageDetail }) {
  const { notification, webhook } = detail;
  return (
    <div className="message-details" data-testid="message-details">
      {notification && (
        <section>
          <h3>Notification</h3>
          <div className="message-preview" data-testid="message-notification">
            {notification.title && <strong>{notification.title}</strong>}
            {notification.body && <p>{notification.body}</p>}
            {notification.subtext && <p className="muted small">{notification.subtext}</p>}
          </div>
          <Fields
            rows={[
              ['Link', notification.url],
              ['Buttons', notification.actions.map((a) => a.name ?? a.url).join(', ')],
              ['Tags', notification.tags.join(', ')],
              ['Seen', notification.seen_at && formatTime(notification.seen_at)],
              ['Read', notification.read_at && formatTime(notification.read_at)],
              ['Clicked', notification.interacted_at && formatTime(notification.interacted_at)],
              ['Archived', notification.archived_at && formatTime(notification.archived_at)],
              ['Expires', notification.expires_at && formatTime(notification.expires_at)],
            ]}
          />
        </section>
      )}
      {detail.channel === 'inbox' && !notification && (
        <p className="muted">The notification was deleted with its user; only the delivery record remains.</p>
      )}
      {webhook && (
        <section>
          <h3>Webhook delivery</h3>
          <Fields
            testId="message-webhook"
            rows={[
              ['Target host', webhook.target_host && <code>{webhook.target_host}</code>],
              ['State', WEBHOOK_STATES[webhook.status]],
              ['Attempts', String(webhook.attempts)],
              ['Last attempt', webhook.last_attempt_at && formatTime(webhook.last_attempt_at)],
              ['Last result', <span data-testid="message-webhook-result">{lastResult(webhook)}</span>],
              ['Next retry', webhook.next_attempt_at && formatTime(webhook.next_attempt_at)],
            ]}
          />
          <p className="muted small">
            Herald keeps the outcome of the latest attempt; failed attempts are retried with growing delays, up to 8 attempts.
          </p>
          {webhook.data && Object.keys(webhook.data).length > 0 && (
            <>
              <h3>Data sent</h3>
              <table className="kv-table" data-testid="message-data">
                <tbody>
                  {Object.entries(webhook.data).map(([key, value]) => (
                    <tr key={key}>
                      <th scope="row">{key}</th>
                      <td>{dataValue(value)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      )}
      {detail.channel === 'webhook' && !webhook && (
        <p className="muted">The delivery record of this webhook has been pruned (retention); its final status is shown above.</p>
      )}
      <Fields
        rows={[
          ['Message', <code>{detail.message_id}</code>],
          ['Trigger', <code>{detail.execution_id}</code>],
          ['Tenant', detail.tenant_id],
          ['Category', detail.category],
          ['Last change', formatTime(Date.parse(detail.updated_at))],
        ]}
      />
    </div>
  );
}

interface Filters {
  status: string;
  channel: string;
  recipient: string;
  workflow: string;
}

const NO_FILTERS: Filters = { status: '', channel: '', recipient: '', workflow: '' };

function FilterSelect({
  label,
  name,
  options,
  draft,
  onChange,
}: {
  label: string;
  name: 'status' | 'channel' | 'workflow';
  options: Record<string, string>;
  draft: Filters;
  onChange: (next: Filters) => void;
}) {
  return (
    <label>
      {label}
      <select data-testid={`filter-${name}`} value={draft[name]} onChange={(e) => onChange({ ...draft, [name]: e.target.value })}>
        <option value="">Any {label.toLowerCase()}</option>
        {Object.entries(options).map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function queryOf(filters: Filters, before: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [key, value] of Object.entries(filters)) if (value.trim() !== '') params.set(key, value.trim());
  if (before) params.set('before', before);
  return params.toString();
}

export function MessagesPage({ base, workspaceSlug }: { base: string; workspaceSlug: string }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [workflows, setWorkflows] = useState<string[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [detail, setDetail] = useState<MessageDetail | null>(null);
  const [detailError, setDetailError] = useState<unknown>(null);

  const { entries, next, isLoading, error, loadOlder, reload } = usePagedLoad(
    (before) => api<Page<MessageLogEntry>>('GET', `${base}/messages?${queryOf(filters, before)}`),
    [base, filters],
  );

  useEffect(() => {
    api<{ workflows: Array<{ slug: string }> }>('GET', `${base}/workflows`).then(
      (answer) => setWorkflows(answer.workflows.map((w) => w.slug)),
      // The filter falls back to "all workflows"; the log itself still loads.
      () => setWorkflows([]),
    );
  }, [base]);

  const toggle = async (id: string) => {
    if (openId === id) {
      setOpenId(null);
      return;
    }
    setOpenId(id);
    setDetail(null);
    setDetailError(null);
    try {
      setDetail(await api<MessageDetail>('GET', `${base}/messages/${encodeURIComponent(id)}`));
    } catch (failure) {
      setDetailError(failure);
    }
  };

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };

  const isFiltered = Object.values(filters).some((value) => value.trim() !== '');

  return (
    <div data-testid="page-messages">
      <div className="section-head">
        <h1>Message log</h1>
        <button type="button" className="secondary" data-testid="refresh" onClick={reload}>
          Refresh
        </button>
      </div>
      <p className="muted">What Herald delivered to whom, newest first. Open a message to see its content or its webhook attempts.</p>
      <form className="inline-form" data-testid="message-filters" onSubmit={apply}>
        <FilterSelect label="Status" name="status" options={STATUS_LABELS} draft={draft} onChange={setDraft} />
        <FilterSelect label="Channel" name="channel" options={CHANNEL_LABELS} draft={draft} onChange={setDraft} />
        <label>
          Recipient
          <input
            data-testid="filter-recipient"
            placeholder="distinct_id"
            value={draft.recipient}
            onChange={(e) => setDraft({ ...draft, recipient: e.target.value })}
          />
        </label>
        <FilterSelect
          label="Workflow"
          name="workflow"
          options={Object.fromEntries(workflows.map((slug) => [slug, slug]))}
          draft={draft}
          onChange={setDraft}
        />
        <button type="submit" data-testid="filter-apply">
          Apply
        </button>
        {isFiltered && (
          <button
            type="button"
            className="secondary"
            data-testid="filter-clear"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
            }}
          >
            Clear
          </button>
        )}
      </form>
      <ErrorText error={error} />
      <section className="card">
        <div className="table-scroll">
          <table data-testid="messages-table" data-loading={isLoading ? 'true' : 'false'} className="messages-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Recipient</th>
                <th>Workflow</th>
                <th>Channel</th>
                <th>Status</th>
                <th>Attempts</th>
                <th aria-label="Details" />
              </tr>
            </thead>
            <tbody>
              {entries?.map((entry) => {
                const isOpen = openId === entry.message_id;
                return (
                  <Fragment key={entry.message_id}>
                    <tr
                      data-testid="message-row"
                      data-id={entry.message_id}
                      data-channel={entry.channel}
                      className={`message-row${isOpen ? ' selected' : ''}${entry.status === 'failed' ? ' row-error' : ''}`}
                      onClick={() => void toggle(entry.message_id)}
                    >
                      <td className="nowrap">{formatTime(entry.time)}</td>
                      <td className="mono">{entry.recipient_id}</td>
                      <td>{entry.workflow}</td>
                      <td className="nowrap">{CHANNEL_LABELS[entry.channel] ?? entry.channel}</td>
                      <td>
                        <MessageStatus entry={entry} />
                      </td>
                      <td data-testid="message-attempts">{entry.webhook ? entry.webhook.attempts : '—'}</td>
                      <td>
                        <button
                          type="button"
                          className="secondary small"
                          aria-expanded={isOpen}
                          data-testid="message-toggle"
                          onClick={(event) => {
                            event.stopPropagation();
                            void toggle(entry.message_id);
                          }}
                        >
                          {isOpen ? 'Hide' : 'Details'}
                        </button>
                      </td>
                    </tr>
                    {isOpen && (
                      <tr className="message-detail-row">
                        <td colSpan={7}>
                          <ErrorText error={detailError} testId="message-detail-error" />
                          {detail?.message_id === entry.message_id ? (
                            <Details detail={detail} />
                          ) : (
                            detailError === null && <p className="muted">Loading…</p>
                          )}
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
              {entries?.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted" data-testid="messages-empty">
                    {isFiltered ? (
                      'No messages match these filters.'
                    ) : (
                      <>
                        No messages yet. Trigger a workflow to send one, for example:{' '}
                        <code>npm run herald -- trigger {workspaceSlug} welcome --user demo-user</code>
                      </>
                    )}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {next && (
          <button type="button" className="secondary load-more" data-testid="messages-load-more" onClick={loadOlder}>
            Load older messages
          </button>
        )}
      </section>
    </div>
  );
}
