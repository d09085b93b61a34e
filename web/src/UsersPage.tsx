import { useState, type FormEvent } from 'react';
import { api, formatTime } from './api';
import { ErrorText, useLoad } from './ui';

type Json = Record<string, unknown>;
const CHANNELS = ['$email', '$sms', '$whatsapp', '$androidpush', '$iospush', '$webpush', '$slack', '$ms_teams', '$inbox'];

export function UsersPage({ base }: { base: string }) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const list = useLoad(
    () => api<{ users: Json[]; next: string | null }>('GET', `${base}/users?limit=50&search=${encodeURIComponent(query)}`),
    [base, query],
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery(search);
  };

  return (
    <div data-testid="page-users">
      <h1>Users</h1>
      <form className="inline-form" onSubmit={submit}>
        <label>
          Search (distinct_id prefix, name or email)
          <input data-testid="user-search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <button type="submit" data-testid="user-search-submit">
          Search
        </button>
      </form>
      <ErrorText error={list.error} />
      <div className="split">
        <section className="card">
          <table data-testid="users-table">
            <thead>
              <tr>
                <th>distinct_id</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.users.map((user) => {
                const id = String(user['distinct_id']);
                return (
                  <tr key={id} data-testid="user-row" className={selected === id ? 'selected' : ''}>
                    <td>
                      <a
                        href="#"
                        onClick={(event) => {
                          event.preventDefault();
                          setSelected(id);
                        }}
                      >
                        {id}
                      </a>
                    </td>
                    <td className="nowrap">{formatTime(Date.parse(String(user['updated_at'])))}</td>
                  </tr>
                );
              })}
              {list.data?.users.length === 0 && (
                <tr>
                  <td colSpan={2} className="muted">
                    No users found.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        {selected && <UserProfile key={selected} base={base} id={selected} />}
      </div>
    </div>
  );
}

interface Preferences {
  sections: Array<{
    name: string | null;
    subcategories: Array<{ category: string; name: string; preference: string; is_editable: boolean }>;
  }>;
  channel_preferences: Array<{ channel: string; is_restricted: boolean }>;
}

interface Notification {
  n_id: string;
  n_category: string;
  tenant_id: string;
  created_on: number;
  seen_on: number | null;
  read_on: number | null;
  archived: boolean;
  message: { header?: string; text?: string };
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function stateOf(n: Notification): string {
  if (n.archived) return 'archived';
  if (n.read_on !== null) return 'read';
  if (n.seen_on !== null) return 'seen';
  return 'unseen';
}

function UserProfile({ base, id }: { base: string; id: string }) {
  const detail = useLoad(
    () => api<{ user: Json; preferences: Preferences; notifications: Notification[] }>('GET', `${base}/users/${encodeURIComponent(id)}`),
    [base, id],
  );
  if (detail.error) return <ErrorText error={detail.error} />;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { user, preferences, notifications } = detail.data;
  const properties = Object.entries((user['properties'] as Json | undefined) ?? {});
  const channels = CHANNELS.filter((c) => Array.isArray(user[c]) && (user[c] as unknown[]).length > 0);
  const categories = preferences.sections.flatMap((section) =>
    section.subcategories.map((category) => ({ ...category, section: section.name })),
  );
  return (
    <section className="card" data-testid="user-profile">
      <h2>{id}</h2>
      <p className="muted small">
        Created {formatTime(Date.parse(String(user['created_at'])))} · updated {formatTime(Date.parse(String(user['updated_at'])))}
      </p>
      <h3>Properties</h3>
      {properties.length === 0 ? (
        <p className="muted">No properties.</p>
      ) : (
        <dl className="fields" data-testid="user-properties">
          {properties.map(([key, value]) => (
            <div key={key} className="contents">
              <dt>{key}</dt>
              <dd>{valueText(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      <h3>Channels</h3>
      {channels.length === 0 ? (
        <p className="muted">No channels: email addresses, phone numbers and push tokens the user has show up here.</p>
      ) : (
        <dl className="fields" data-testid="user-channels">
          {channels.map((c) => (
            <div key={c} className="contents">
              <dt>{c.slice(1)}</dt>
              <dd>
                {(user[c] as Array<Json | string>)
                  .map((entry) => (typeof entry === 'string' ? entry : valueText(entry['value'] ?? entry)))
                  .join(', ')}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <h3>Preferences</h3>
      <div data-testid="user-preferences">
        {categories.length === 0 ? (
          <p className="muted">No notification categories are defined in this workspace.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Category</th>
                <th>Section</th>
                <th>Choice</th>
              </tr>
            </thead>
            <tbody>
              {categories.map((category) => (
                <tr key={category.category}>
                  <td>
                    {category.name} <span className="muted small mono">{category.category}</span>
                  </td>
                  <td>{category.section ?? '—'}</td>
                  <td>
                    {category.preference === 'opt_in' ? 'Receives' : 'Opted out'}
                    {!category.is_editable && <span className="muted small"> (mandatory)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="small">
          Channels limited to mandatory notifications:{' '}
          {preferences.channel_preferences
            .filter((channel) => channel.is_restricted)
            .map((channel) => channel.channel)
            .join(', ') || 'none'}
        </p>
      </div>
      <h3>Latest notifications ({notifications.length})</h3>
      {notifications.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <div className="table-scroll">
          <table data-testid="user-notifications">
            <thead>
              <tr>
                <th>Sent</th>
                <th>Message</th>
                <th>Category</th>
                <th>Tenant</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {notifications.map((n) => (
                <tr key={n.n_id}>
                  <td className="nowrap">{formatTime(n.created_on)}</td>
                  <td>
                    {n.message.header && <strong>{n.message.header}</strong>}
                    {n.message.text && <div>{n.message.text}</div>}
                  </td>
                  <td>{n.n_category}</td>
                  <td>{n.tenant_id}</td>
                  <td>{stateOf(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
