import { credentialStatus, LastUseBuffer } from './credential-lifecycle.js';
import { FULL_SCOPE, storedApiKeyScope, type ApiKeyScope, type ApiKeyScopeName, type ApiRouteGroup } from '../auth/api-key-scope.js';
import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/audit.types.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { findApiKey, findApiKeyByHash, insertApiKey, listApiKeys, touchApiKeys, type ApiKeyRow } from './api-keys.repo.js';
import { recordChange } from './change-log.repo.js';
import { markRevoked } from './revocation.repo.js';
import { generateApiKey, type WorkspaceMode } from './key-format.js';

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/** What may be shown about a key after creation: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  display_prefix: string;
  status: ApiKeyStatus;
  /** `full`, `trigger` or `read`. */
  scope: ApiKeyScopeName;
  /** Route groups the key may call; null = every group. */
  route_groups: ApiRouteGroup[] | null;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** Shown exactly once. */
  key: string;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string;
  expiresAt: number | null;
  revokedAt: number | null;
  scope: ApiKeyScope;
}

const MAX_NAME_CHARS = 100;

export class ApiKeyService {
  readonly #uses = new LastUseBuffer();
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  private view(row: ApiKeyRow): ApiKeyView {
    const now = this.clock.now();
    const status: ApiKeyStatus = credentialStatus(row, now);
    const scope = storedApiKeyScope(row.scope, row.route_groups);
    return {
      id: row.id,
      name: row.name,
      display_prefix: row.display_prefix,
      status,
      scope: scope.scope,
      route_groups: scope.groups === null ? null : [...scope.groups],
      created_at: row.created_at,
      created_by: row.created_by,
      expires_at: row.expires_at,
      last_used_at: row.last_used_at,
      revoked_at: row.revoked_at,
    };
  }

  async create(
    workspace: { id: string; mode: WorkspaceMode },
    input: { name: string; expiresInMs?: number | undefined; createdBy?: string | undefined; scope?: ApiKeyScope | undefined },
    actor: AuditActor = SYSTEM_ACTOR,
  ): Promise<CreatedApiKey> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_CHARS) {
      throw new AppError('VALIDATION_FAILED', `API key name must be 1-${MAX_NAME_CHARS} characters`);
    }
    if (input.expiresInMs !== undefined && (!Number.isSafeInteger(input.expiresInMs) || input.expiresInMs <= 0)) {
      throw new AppError('VALIDATION_FAILED', 'API key expiry must be a positive duration such as 30d');
    }
    const scope = input.scope ?? FULL_SCOPE;
    const now = this.clock.now();
    const generated = generateApiKey(workspace.mode);
    const row: ApiKeyRow = {
      id: newId('apiKey'),
      workspace_id: workspace.id,
      name,
      key_hash: generated.hash,
      display_prefix: generated.displayPrefix,
      created_at: now,
      created_by: input.createdBy ?? null,
      expires_at: input.expiresInMs === undefined ? null : now + input.expiresInMs,
      last_used_at: null,
      revoked_at: null,
      scope: scope.scope,
      route_groups: scope.groups === null ? null : JSON.stringify(scope.groups),
    };
    await this.db.transaction().execute(async (trx) => {
      await insertApiKey(trx, row);
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'api_key.created',
          targetType: 'api_key',
          targetId: row.id,
          details: {
            name,
            display_prefix: row.display_prefix,
            expires_at: row.expires_at,
            scope: scope.scope,
            route_groups: scope.groups,
          },
        }),
        trx,
      );
    });
    return { ...this.view(row), key: generated.key };
  }

  async list(workspaceId: string): Promise<ApiKeyView[]> {
    await this.flushUses();
    return (await listApiKeys(this.db, workspaceId)).map((row) => this.view(row));
  }

  async revoke(workspace: { id: string; slug: string }, id: string, actor: AuditActor = SYSTEM_ACTOR): Promise<ApiKeyView> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await findApiKey(trx, workspace.id, id);
      // Another workspace's key answers exactly like a missing one.
      if (!row) throw new AppError('NOT_FOUND', `no API key "${id}" in workspace "${workspace.slug}"`);
      if (row.revoked_at !== null) return this.view(row);
      await markRevoked(trx, 'api_keys', workspace.id, id, now);
      await recordChange(trx, { workspaceId: workspace.id, entity: 'api_key', entityId: id, at: now });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'api_key.revoked',
          targetType: 'api_key',
          targetId: id,
          details: { name: row.name },
        }),
        trx,
      );
      return this.view({ ...row, revoked_at: now });
    });
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await findApiKeyByHash(this.db, keyHash);
    if (!row) return undefined;
    return {
      id: row.id,
      workspaceId: row.workspace_id,
      name: row.name,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      scope: storedApiKeyScope(row.scope, row.route_groups),
    };
  }

  /** Records a use in memory; `flushUses` writes them in one batch (no write per request). */
  noteUse(id: string, at: number): void {
    this.#uses.note(id, at);
  }

  async flushUses(): Promise<void> {
    const uses = this.#uses.drain();
    if (uses.length === 0) return;
    await this.db.transaction().execute((trx) => touchApiKeys(trx, uses));
  }
}
