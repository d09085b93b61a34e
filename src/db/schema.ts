import type { Generated } from 'kysely';

/**
 * One schema type for both engines. Portable column choices: times are epoch milliseconds in
 * BIGINT, booleans are 0/1 INTEGER, lists are JSON text.
 */

export interface MetaTable {
  key: string;
  value: string;
}

export interface OrganisationsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface WorkspacesTable {
  id: string;
  org_id: string;
  slug: string;
  name: string;
  mode: 'test' | 'live';
  workspace_key: string;
  enhanced_security: number;
  /** 1: key+secret signed client SDK calls are accepted even with enhanced security on (migration 0014). */
  allow_signed_clients: number;
  created_at: number;
}

export interface WorkspaceSecretsTable {
  id: string;
  workspace_id: string;
  /** AES-256-GCM sealed secret; see credentials/encryption.ts. */
  secret_enc: string;
  created_at: number;
  /** null while current; set when rotated out (end of the grace period). */
  expires_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  name: string;
  /** SHA-256 hex of the key. The key itself is never stored. */
  key_hash: string;
  display_prefix: string;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** `full`, `trigger` or `read` (src/auth/api-key-scope.ts). */
  scope: Generated<string>;
  /** JSON array of the route groups the key may call; null = every group. */
  route_groups: string | null;
}

export interface PublicKeysTable {
  id: string;
  workspace_id: string;
  key: string;
  name: string;
  /** JSON array of allowed browser origins; empty array allows any origin. */
  allowed_origins: string;
  created_at: number;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  /** kid: `hsk_` + RFC 7638 thumbprint of the public key. */
  id: string;
  workspace_id: string;
  name: string;
  public_key_pem: string;
  source: 'generated' | 'imported';
  created_at: number;
  revoked_at: number | null;
}

/** Append-only feed of credential changes; every server process polls it to drop cached state. */
export interface ChangeLogTable {
  id: Generated<number>;
  workspace_id: string;
  entity: string;
  entity_id: string;
  created_at: number;
}

export interface UsersTable {
  workspace_id: string;
  distinct_id: string;
  /** JSON object of profile properties ($preferred_language, $timezone, custom keys). */
  properties: string;
  /** JSON object: channel key ($email, $sms, …) → array of identities. */
  channels: string;
  created_at: number;
  updated_at: number;
}

export interface ObjectsTable {
  workspace_id: string;
  object_type: string;
  object_id: string;
  properties: string;
  channels: string;
  created_at: number;
  updated_at: number;
}

export interface ObjectSubscriptionsTable {
  workspace_id: string;
  object_type: string;
  object_id: string;
  /** '' for a user recipient; the object type for an object recipient. */
  recipient_type: string;
  recipient_id: string;
  properties: string;
  created_at: number;
}

export interface TenantsTable {
  workspace_id: string;
  tenant_id: string;
  name: string;
  /** JSON object of everything else the tenant was upserted with (logo, colours, properties, …). */
  properties: string;
  created_at: number;
  updated_at: number;
}

export interface TenantCategoryPreferencesTable {
  workspace_id: string;
  tenant_id: string;
  category: string;
  settings: string;
  updated_at: number;
}

export interface UserTenantsTable {
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  properties: string;
  created_at: number;
  updated_at: number;
}

export interface CategoriesTable {
  workspace_id: string;
  slug: string;
  name: string;
  section: string | null;
  description: string | null;
  default_preference: 'opt_in' | 'opt_out' | 'cant_unsubscribe';
  created_at: number;
  updated_at: number;
}

export interface UserPreferencesTable {
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  category: string;
  preference: 'opt_in' | 'opt_out';
  opt_out_channels: string;
  updated_at: number;
}

export interface UserChannelPreferencesTable {
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  channel: string;
  is_restricted: number;
  updated_at: number;
}

export interface ListsTable {
  workspace_id: string;
  list_id: string;
  name: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface ListVersionsTable {
  workspace_id: string;
  list_id: string;
  version_id: string;
  status: 'draft' | 'active' | 'deleted';
  created_at: number;
  updated_at: number;
}

export interface ListMembersTable {
  workspace_id: string;
  list_id: string;
  /** '' is the live list; anything else a version being synced. */
  version_id: string;
  distinct_id: string;
  created_at: number;
}

export interface WorkflowsTable {
  workspace_id: string;
  slug: string;
  name: string;
  category: string;
  /** JSON array of steps; see workflows/workflow-definition.ts. */
  steps: string;
  created_at: number;
  updated_at: number;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  scope: string;
  key: string;
  response: string;
  created_at: number;
}

export interface EventsTable {
  id: string;
  workspace_id: string;
  insert_id: string;
  distinct_id: string;
  event: string;
  tenant_id: string | null;
  properties: string;
  time: number;
  created_at: number;
}

export interface ExecutionsTable {
  id: string;
  workspace_id: string;
  source: string;
  workflow_slug: string;
  category: string;
  tenant_id: string;
  cancellation_key: string | null;
  recipient_count: number;
  created_at: number;
}

export interface NotificationsTable {
  id: string;
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  execution_id: string;
  workflow_slug: string;
  category: string;
  /** JSON: rendered header, text, url, avatar, actions, … */
  content: string;
  tags: string;
  is_pinned: number;
  created_at: number;
  seen_at: number | null;
  read_at: number | null;
  interacted_at: number | null;
  archived_at: number | null;
  expires_at: number | null;
}

export interface MessagesTable {
  id: string;
  workspace_id: string;
  execution_id: string;
  distinct_id: string;
  tenant_id: string;
  workflow_slug: string;
  category: string;
  channel: string;
  status: string;
  notification_id: string | null;
  created_at: number;
  updated_at: number;
}

/** When a user last opened the bell in a tenant (`PATCH /v1/feed/reset_bell_count`). */
/** Kept by database triggers (migration 0008): changes whenever what a feed shows changes. */
export interface InboxVersionsTable {
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  /** A bigint: a string from PostgreSQL, a number (below 2^53) from SQLite. */
  version: number | string;
  max_expiry: number | string | null;
}

export interface InboxBadgesTable {
  workspace_id: string;
  distinct_id: string;
  tenant_id: string;
  reset_at: number;
}

export interface WebhookOutboxTable {
  id: string;
  workspace_id: string;
  message_id: string;
  url: string;
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface JobsTable {
  id: string;
  workspace_id: string;
  kind: string;
  payload: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  /** Not before this time (delayed and scheduled triggers). */
  run_at: number;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** One API request (src/request-log/). Times are epoch ms; `workspace_id` null when unknown. */
export interface RequestLogTable {
  seq: Generated<number>;
  request_id: string;
  workspace_id: string | null;
  created_at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Route pattern, null when no route matched. */
  route: string | null;
  status: number;
  latency_ms: number;
  credential_type: 'hmac' | 'api_key' | 'public_key' | 'none';
  /** Workspace key, API key id (or display prefix), public key id: never a secret. */
  credential_id: string | null;
  subscriber_id: string | null;
  error_code: string | null;
  /** The precise rejection reason (AppError.detail), credential-shaped text redacted. */
  reason: string | null;
  /** 1 when the request's credential was verified; the others have a row budget of their own. */
  is_authenticated: Generated<number>;
}

/** Credential and security events (src/audit/). Append-only: never updated or deleted. */
export interface AuditLogTable {
  id: Generated<number>;
  created_at: number;
  workspace_id: string | null;
  actor_type: 'account' | 'service_token' | 'cli' | 'system' | 'anonymous';
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  /** JSON object; never secrets. */
  details: string;
}

/** Dashboard accounts (src/admin/). `email` is lower-cased; `password_hash` is an argon2id PHC string. */
export interface AdminAccountsTable {
  id: string;
  email: string;
  password_hash: string;
  role: 'owner' | 'admin' | 'developer' | 'viewer';
  created_at: number;
  created_by: string | null;
  updated_at: number;
  disabled_at: number | null;
  last_login_at: number | null;
}

export interface AdminSessionsTable {
  id: string;
  /** SHA-256 hex of the session cookie value. */
  token_hash: string;
  account_id: string;
  created_at: number;
  authenticated_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface AdminServiceTokensTable {
  id: string;
  name: string;
  /** SHA-256 hex of the token. The token itself is never stored. */
  token_hash: string;
  display_prefix: string;
  role: 'admin' | 'developer' | 'viewer';
  /** '*' or a JSON array of workspace ids. */
  workspace_ids: string;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AdminLoginThrottleTable {
  key: string;
  attempts: number;
  last_attempt_at: number;
  locked_until: number | null;
  lockouts: number;
}

export interface Database {
  meta: MetaTable;
  organisations: OrganisationsTable;
  workspaces: WorkspacesTable;
  workspace_secrets: WorkspaceSecretsTable;
  webhook_secrets: WorkspaceSecretsTable;
  api_keys: ApiKeysTable;
  public_keys: PublicKeysTable;
  signing_keys: SigningKeysTable;
  change_log: ChangeLogTable;
  users: UsersTable;
  objects: ObjectsTable;
  object_subscriptions: ObjectSubscriptionsTable;
  tenants: TenantsTable;
  tenant_category_preferences: TenantCategoryPreferencesTable;
  user_tenants: UserTenantsTable;
  categories: CategoriesTable;
  user_preferences: UserPreferencesTable;
  user_channel_preferences: UserChannelPreferencesTable;
  lists: ListsTable;
  list_versions: ListVersionsTable;
  list_members: ListMembersTable;
  workflows: WorkflowsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  executions: ExecutionsTable;
  notifications: NotificationsTable;
  messages: MessagesTable;
  inbox_badges: InboxBadgesTable;
  inbox_versions: InboxVersionsTable;
  webhook_outbox: WebhookOutboxTable;
  jobs: JobsTable;
  admin_accounts: AdminAccountsTable;
  admin_sessions: AdminSessionsTable;
  admin_service_tokens: AdminServiceTokensTable;
  admin_login_throttle: AdminLoginThrottleTable;
  request_log: RequestLogTable;
  audit_log: AuditLogTable;
}
