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

export interface Database {
  meta: MetaTable;
  organisations: OrganisationsTable;
  workspaces: WorkspacesTable;
  workspace_secrets: WorkspaceSecretsTable;
  api_keys: ApiKeysTable;
  public_keys: PublicKeysTable;
  signing_keys: SigningKeysTable;
  change_log: ChangeLogTable;
}
