import { Fragment, useEffect, useState, type ReactNode } from 'react';
import { api, formatIsoTime, type ListMembers, type OffsetPage, type SubscriberList, type Tenant } from './api';
import { ErrorText } from './ui';

/**
 * Tenants and subscriber lists as the workspace's backend stored them (read only: the backend
 * SDKs create and change them). Tenant fields and properties read as labelled values, nested ones
 * as nested lists, never as JSON text.
 */

const PAGE_SIZE = 25;
const MEMBER_PAGE_SIZE = 50;

/** Shown in the tenant table itself, or computed by Herald; the details list leaves them out. */
const TENANT_TABLE_KEYS = new Set(['tenant_id', 'tenant_name', 'created_at', 'updated_at', 'timezone']);

const TENANT_FIELD_LABELS: Record<string, string> = {
  logo: 'Logo',
  blocked_channels: 'Blocked channels',
  embedded_preference_url: 'Embedded preference page',
  hosted_preference_domain: 'Hosted preference domain',
  preference_page_url: 'Preference page',
  primary_color: 'Primary colour',
  secondary_color: 'Secondary colour',
  tertiary_color: 'Tertiary colour',
  social_links: 'Social links',
  properties: 'Properties',
};

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function isColour(value: unknown): value is string {
  return typeof value === 'string' && /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/.test(value);
}

function Swatch({ colour }: { colour: string }) {
  return <span className="swatch" style={{ background: colour }} title={colour} />;
}

/** Any JSON value as text, a comma list, or a nested labelled list. */
function Value({ value }: { value: unknown }): ReactNode {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (isColour(value)) {
    return (
      <span className="nowrap">
        <Swatch colour={value} /> <span className="mono">{value}</span>
      </span>
    );
  }
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    if (value.every((item) => item === null || typeof item !== 'object')) return value.map((item) => String(item)).join(', ');
    return (
      <ol className="value-list">
        {value.map((item, index) => (
          <li key={index}>
            <Value value={item} />
          </li>
        ))}
      </ol>
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="muted">none</span>;
  return (
    <dl className="details-list">
      {entries.map(([key, item]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <Value value={item} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** An offset-paged collection loaded page by page ("Load more" appends the next one). */
function useOffsetPages<T>(path: string) {
  const [items, setItems] = useState<T[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = async (offset: number) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api<OffsetPage<T>>('GET', `${path}?limit=${PAGE_SIZE}&offset=${offset}`);
      setItems((current) => (offset > 0 && current ? [...current, ...page.results] : page.results));
      setTotal(page.meta.count);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    setItems(null);
    void load(0);
  }, [path]);

  const loaded = items?.length ?? 0;
  return { items, total, error, busy, hasMore: items !== null && loaded < total, loadMore: () => void load(loaded) };
}

export function TenantsListsPage({ base }: { base: string }) {
  return (
    <div data-testid="page-tenants-lists">
      <h1>Tenants &amp; lists</h1>
      <p className="muted">
        What your backend stored through the SDKs or the API. Read only here: change tenants with <code>tenants.upsert</code> and lists with{' '}
        <code>subscriber_lists</code>.
      </p>
      <TenantsSection base={base} />
      <ListsSection base={base} />
    </div>
  );
}

type OffsetPages<T> = ReturnType<typeof useOffsetPages<T>>;

function countText(shown: number, total: number, noun: string): string {
  const plural = total === 1 ? noun : `${noun}s`;
  return shown < total ? `${shown} of ${total} ${plural} shown` : `${total} ${plural}`;
}

/** A card with an offset-paged table: count, error, header row, rows, empty state, "Load more". */
function PagedTable<T>({
  title,
  noun,
  testId,
  pages,
  columns,
  empty,
  children,
}: {
  title: string;
  noun: string;
  testId: string;
  pages: OffsetPages<T>;
  columns: string[];
  empty: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="card" data-testid={`${testId}-section`}>
      <div className="section-head">
        <h2>{title}</h2>
        {pages.items && <span className="muted small">{countText(pages.items.length, pages.total, noun)}</span>}
      </div>
      <ErrorText error={pages.error} />
      <div className="table-scroll">
        <table data-testid={`${testId}-table`}>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column}>{column}</th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {children}
            {pages.items?.length === 0 && (
              <tr>
                <td colSpan={columns.length + 1} className="muted" data-testid={`${testId}-empty`}>
                  {empty}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {pages.hasMore && (
        <button
          type="button"
          className="secondary load-more"
          data-testid={`${testId}-load-more`}
          disabled={pages.busy}
          onClick={pages.loadMore}
        >
          Load more {noun}s
        </button>
      )}
    </section>
  );
}

function TenantsSection({ base }: { base: string }) {
  const tenants = useOffsetPages<Tenant>(`${base}/tenants`);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <PagedTable
      title="Tenants"
      noun="tenant"
      testId="tenants"
      pages={tenants}
      columns={['Tenant', 'Timezone', 'Brand colours', 'Updated']}
      empty={
        <>
          No tenants yet. Your backend creates them with the SDKs’ <code>tenants.upsert</code> (<code>POST /v1/tenant/&#123;id&#125;</code>
          ).
        </>
      }
    >
      {tenants.items?.map((tenant) => {
        const fields = Object.entries(tenant).filter(([key, value]) => !TENANT_TABLE_KEYS.has(key) && !isEmptyValue(value));
        const colours = [tenant['primary_color'], tenant['secondary_color'], tenant['tertiary_color']].filter(isColour);
        const isOpen = open.has(tenant.tenant_id);
        return (
          <Fragment key={tenant.tenant_id}>
            <tr data-testid="tenant-row" data-id={tenant.tenant_id}>
              <td>
                <strong>{tenant.tenant_name}</strong>
                <div className="muted small mono">{tenant.tenant_id}</div>
              </td>
              <td>{typeof tenant['timezone'] === 'string' ? tenant['timezone'] : '—'}</td>
              <td className="nowrap">{colours.length === 0 ? '—' : colours.map((c) => <Swatch key={c} colour={c} />)}</td>
              <td className="nowrap">{formatIsoTime(tenant.updated_at)}</td>
              <td className="nowrap">
                {fields.length === 0 ? (
                  <span className="muted small">No other fields</span>
                ) : (
                  <button
                    type="button"
                    className="secondary small"
                    data-testid="tenant-details-toggle"
                    aria-expanded={isOpen}
                    onClick={() => toggle(tenant.tenant_id)}
                  >
                    {isOpen ? 'Hide details' : `Details (${fields.length})`}
                  </button>
                )}
              </td>
            </tr>
            {isOpen && (
              <tr className="expanded">
                <td colSpan={5}>
                  <dl className="fields tenant-fields" data-testid="tenant-details">
                    {fields.map(([key, value]) => (
                      <div key={key} className="contents">
                        <dt>{TENANT_FIELD_LABELS[key] ?? key}</dt>
                        <dd>
                          <Value value={value} />
                        </dd>
                      </div>
                    ))}
                    <div className="contents">
                      <dt>Created</dt>
                      <dd>{formatIsoTime(tenant.created_at)}</dd>
                    </div>
                  </dl>
                </td>
              </tr>
            )}
          </Fragment>
        );
      })}
    </PagedTable>
  );
}

function ListsSection({ base }: { base: string }) {
  const lists = useOffsetPages<SubscriberList>(`${base}/lists`);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <PagedTable
      title="Lists"
      noun="list"
      testId="lists"
      pages={lists}
      columns={['List', 'Description', 'Members', 'Updated']}
      empty={
        <>
          No lists yet. Your backend creates them with the SDKs’ <code>subscriber_lists.create</code> (<code>POST /v1/subscriber_list</code>
          ) and adds users with <code>subscriber_lists.add</code>.
        </>
      }
    >
      {lists.items?.map((list) => {
        const isOpen = open === list.list_id;
        return (
          <Fragment key={list.list_id}>
            <tr data-testid="list-row" data-id={list.list_id} className={isOpen ? 'selected' : ''}>
              <td>
                <strong>{list.list_name}</strong>
                <div className="muted small mono">{list.list_id}</div>
              </td>
              <td>{list.list_description || '—'}</td>
              <td data-testid="list-member-count">{list.subscribers_count.toLocaleString()}</td>
              <td className="nowrap">{formatIsoTime(list.updated_at)}</td>
              <td className="nowrap">
                <button
                  type="button"
                  className="secondary small"
                  data-testid="list-members-toggle"
                  aria-expanded={isOpen}
                  onClick={() => setOpen(isOpen ? null : list.list_id)}
                >
                  {isOpen ? 'Hide members' : 'Show members'}
                </button>
              </td>
            </tr>
            {isOpen && (
              <tr className="expanded">
                <td colSpan={5}>
                  <ListMembersPanel base={base} listId={list.list_id} />
                </td>
              </tr>
            )}
          </Fragment>
        );
      })}
    </PagedTable>
  );
}

function ListMembersPanel({ base, listId }: { base: string; listId: string }) {
  const [members, setMembers] = useState<string[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const path = `${base}/lists/${encodeURIComponent(listId)}/members`;

  const load = async (after: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api<ListMembers>(
        'GET',
        `${path}?limit=${MEMBER_PAGE_SIZE}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`,
      );
      setMembers((current) => (after !== null && current ? [...current, ...page.members] : page.members));
      setNext(page.next);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void load(null);
  }, [path]);

  return (
    <div className="list-members" data-testid="list-members">
      <ErrorText error={error} />
      {members === null && !error && <p className="muted">Loading members…</p>}
      {members?.length === 0 && (
        <p className="muted">
          No members yet. Add users with <code>subscriber_lists.add</code> (<code>POST /v1/subscriber_list/{listId}/subscriber/add</code>).
        </p>
      )}
      {members && members.length > 0 && (
        <ul className="member-list">
          {members.map((id) => (
            <li key={id} className="mono" data-testid="list-member">
              {id}
            </li>
          ))}
        </ul>
      )}
      {next !== null && (
        <button
          type="button"
          className="secondary small load-more"
          data-testid="list-members-load-more"
          disabled={busy}
          onClick={() => void load(next)}
        >
          Load more members
        </button>
      )}
    </div>
  );
}
