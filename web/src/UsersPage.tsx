import { useState, type FormEvent } from 'react';
import { api } from './api';
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
                    <td>{String(user['updated_at'] ?? '')}</td>
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

function UserProfile({ base, id }: { base: string; id: string }) {
  const detail = useLoad(
    () => api<{ user: Json; preferences: unknown; notifications: Json[] }>('GET', `${base}/users/${encodeURIComponent(id)}`),
    [base, id],
  );
  if (detail.error) return <ErrorText error={detail.error} />;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { user, preferences, notifications } = detail.data;
  return (
    <section className="card" data-testid="user-profile">
      <h2>{id}</h2>
      <h3>Properties</h3>
      <pre>{JSON.stringify(user['properties'] ?? {}, null, 2)}</pre>
      <h3>Channels</h3>
      <ul data-testid="user-channels">
        {CHANNELS.filter((c) => Array.isArray(user[c]) && (user[c] as unknown[]).length).map((c) => (
          <li key={c}>
            <strong>{c}</strong>: <code>{JSON.stringify(user[c])}</code>
          </li>
        ))}
      </ul>
      <h3>Preferences</h3>
      <pre data-testid="user-preferences">{JSON.stringify(preferences, null, 2)}</pre>
      <h3>Latest notifications ({notifications.length})</h3>
      <pre data-testid="user-notifications">{JSON.stringify(notifications, null, 2)}</pre>
    </section>
  );
}
