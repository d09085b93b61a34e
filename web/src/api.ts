/** The dashboard's one way to the admin API: same-origin fetch with the session cookie and CSRF token. */

export type Role = 'viewer' | 'developer' | 'admin' | 'owner';

const ROLE_ORDER: readonly Role[] = ['viewer', 'developer', 'admin', 'owner'];

export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(min);
}

export interface Account {
  id: string;
  email: string;
  role: Role;
}

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  mode: 'test' | 'live';
  workspace_key: string;
  enhanced_security: boolean;
  /** Key+secret signed client SDKs accepted even with enhanced security on. */
  allow_signed_clients: boolean;
  created_at: number;
}

export interface ApiKey {
  id: string;
  name: string;
  display_prefix: string;
  status: 'active' | 'expired' | 'revoked';
  scope: 'full' | 'trigger' | 'read';
  route_groups: string[] | null;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface WebhookSecretStatus {
  has_own_secret: boolean;
  current: { id: string; created_at: number } | null;
  previous: Array<{ id: string; created_at: number; valid_until: number }>;
}

/** Route groups an API key can be limited to (src/auth/api-key-scope.ts). */
export const API_ROUTE_GROUPS = ['ingest', 'users', 'tenants', 'lists', 'objects', 'preferences', 'messages'] as const;

export interface PublicKey {
  id: string;
  key: string;
  name: string;
  allowed_origins: string[];
  status: 'active' | 'revoked';
  created_at: number;
  revoked_at: number | null;
}

export interface SigningKey {
  id: string;
  kid: string;
  name: string;
  algorithm: string;
  source: 'generated' | 'imported';
  status: 'active' | 'revoked';
  created_at: number;
  revoked_at: number | null;
}

export interface RequestLogEntry {
  request_id: string;
  time: number;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  credential: { type: string; id: string | null };
  subscriber_id: string | null;
  error: { code: string; reason: string | null } | null;
}

export interface AuditEntry {
  id: number;
  time: number;
  actor: { type: string; id: string | null; label: string };
  action: string;
  target: { type: string; id: string | null } | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
/** Asks the person for their password again; resolves false when they cancel. */
let reauthHandler: (() => Promise<boolean>) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setReauthHandler(handler: (() => Promise<boolean>) | null): void {
  reauthHandler = handler;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  return fetch(`/admin/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const json = (await response.json()) as { message?: string; error?: { type?: string; message?: string } };
    return new ApiError(
      response.status,
      json.error?.type ?? `HTTP_${response.status}`,
      json.error?.message ?? json.message ?? response.statusText,
    );
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'request failed');
  }
}

/** One admin API call; a 403 SESSION_NOT_FRESH asks for the password and tries once more. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let response = await send(method, path, body);
  if (!response.ok) {
    let error = await errorOf(response);
    if (error.code === 'SESSION_NOT_FRESH' && reauthHandler) {
      if (!(await reauthHandler())) throw new ApiError(403, 'REAUTH_CANCELLED', 'cancelled: your password is needed for this');
      response = await send(method, path, body);
      if (!response.ok) error = await errorOf(response);
    }
    if (!response.ok) throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function login(email: string, password: string): Promise<Account> {
  const answer = await api<{ account: Account; csrf_token: string }>('POST', '/login', { email, password });
  setCsrfToken(answer.csrf_token);
  return answer.account;
}

export async function me(): Promise<Account | null> {
  try {
    const answer = await api<{ kind: string; account?: Account; csrf_token?: string }>('GET', '/me');
    if (answer.kind !== 'session' || !answer.account) return null;
    setCsrfToken(answer.csrf_token ?? null);
    return answer.account;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function reauth(password: string): Promise<void> {
  await api('POST', '/reauth', { password });
}

export async function logout(): Promise<void> {
  await api('POST', '/logout');
  setCsrfToken(null);
}

export function ws(slug: string): string {
  return `/workspaces/${encodeURIComponent(slug)}`;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString();
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** A dashboard account as the admin API shows it (never its password hash). */
export interface TeamMember {
  id: string;
  email: string;
  role: Role;
  status: 'active' | 'disabled';
  created_at: number;
  created_by: string | null;
  disabled_at: number | null;
  last_login_at: number | null;
}

export interface ServiceToken {
  id: string;
  name: string;
  display_prefix: string;
  role: Role;
  /** '*' for every workspace, including ones created later; otherwise workspace ids. */
  workspace_ids: '*' | string[];
  status: 'active' | 'expired' | 'revoked';
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** How a category starts for a user who never chose (src/preferences/preferences.resolution.ts). */
export type CategoryDefault = 'opt_in' | 'opt_out' | 'cant_unsubscribe';

export const CATEGORY_DEFAULT_LABELS: Record<CategoryDefault, string> = {
  opt_in: 'On by default',
  opt_out: 'Off by default',
  cant_unsubscribe: 'Mandatory',
};

export interface Category {
  slug: string;
  name: string;
  section: string | null;
  description: string | null;
  default_preference: CategoryDefault;
  created_at: number;
  updated_at: number;
}

/** An offset-paged answer of the SuprSend list endpoints (tenants, lists): `count` is the total. */
export interface OffsetPage<T> {
  meta: { count: number; limit: number; offset: number };
  results: T[];
}

/** A tenant as the API shows it: the named fields, then any others its backend stored. Times are ISO text. */
export interface Tenant extends Record<string, unknown> {
  tenant_id: string;
  tenant_name: string;
  created_at: string;
  updated_at: string;
}

export interface SubscriberList {
  list_id: string;
  list_name: string;
  list_description: string | null;
  subscribers_count: number;
  created_at: string;
  updated_at: string;
}

export interface ListMembers {
  list: SubscriberList;
  members: string[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** An ISO time as the API's SuprSend-shaped answers give it, in the reader's local time. */
export function formatIsoTime(iso: string | null | undefined): string {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? '—' : formatTime(ms);
}

/** A webhook message's delivery (the outbox keeps the latest attempt's outcome only). */
export interface MessageWebhook {
  target_host: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_attempt_at: number | null;
  last_error: string | null;
  last_http_status: number | null;
  next_attempt_at: number | null;
  /** The trigger's data as sent; detail view only. */
  data?: Record<string, unknown> | null;
}

/** As the hub API shows a message (`/v1/message`), with `time` in epoch ms and the webhook's state. */
export interface MessageLogEntry {
  message_id: string;
  time: number;
  /** RFC 3339. */
  updated_at: string;
  recipient_id: string;
  tenant_id: string;
  workflow: string;
  category: string;
  channel: string;
  status: string;
  execution_id: string;
  webhook: MessageWebhook | null;
}

export interface MessageNotification {
  title: string | null;
  body: string | null;
  url: string | null;
  subtext: string | null;
  actions: Array<{ name: string | null; url: string | null }>;
  tags: string[];
  seen_at: number | null;
  read_at: number | null;
  interacted_at: number | null;
  archived_at: number | null;
  expires_at: number | null;
}

export interface MessageDetail extends MessageLogEntry {
  notification: MessageNotification | null;
}
