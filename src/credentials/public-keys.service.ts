import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/audit.types.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { recordChange } from './change-log.repo.js';
import { markRevoked } from './revocation.repo.js';
import { generatePublicKey, type WorkspaceMode } from './key-format.js';
import { findPublicKey, findPublicKeyByKey, insertPublicKey, listPublicKeys, type PublicKeyRow } from './public-keys.repo.js';

export interface PublicKeyView {
  id: string;
  /** Public keys are not secret (they ship inside browser code), so they can be shown again. */
  key: string;
  name: string;
  allowed_origins: string[];
  status: 'active' | 'revoked';
  created_at: number;
  revoked_at: number | null;
}

export interface PublicKeyRecord {
  id: string;
  workspaceId: string;
  allowedOrigins: string[];
  revokedAt: number | null;
}

const MAX_NAME_CHARS = 100;

/** Normalises a browser origin (`https://app.example.com[:port]`); throws on anything else. */
export function normaliseOrigin(text: string): string {
  const trimmed = text.trim().replace(/\/$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new AppError(
      'VALIDATION_FAILED',
      `"${text}" is not an origin; write it as https://app.example.com (scheme, host, optional port)`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin.toLowerCase() !== trimmed.toLowerCase()) {
    throw new AppError(
      'VALIDATION_FAILED',
      `"${text}" is not an origin; write it as https://app.example.com (no path, query or credentials)`,
    );
  }
  return url.origin;
}

function parseOrigins(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function toView(row: PublicKeyRow): PublicKeyView {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    allowed_origins: parseOrigins(row.allowed_origins),
    status: row.revoked_at === null ? 'active' : 'revoked',
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

export class PublicKeyService {
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  async create(
    workspace: { id: string; mode: WorkspaceMode },
    input: { name?: string | undefined; allowedOrigins?: string[] | undefined },
    actor: AuditActor = SYSTEM_ACTOR,
  ): Promise<PublicKeyView> {
    const name = (input.name ?? 'Public key').trim();
    if (name.length === 0 || name.length > MAX_NAME_CHARS)
      throw new AppError('VALIDATION_FAILED', `public key name must be 1-${MAX_NAME_CHARS} characters`);
    const origins = [...new Set((input.allowedOrigins ?? []).map(normaliseOrigin))];
    const row: PublicKeyRow = {
      id: newId('publicKey'),
      workspace_id: workspace.id,
      key: generatePublicKey(workspace.mode),
      name,
      allowed_origins: JSON.stringify(origins),
      created_at: this.clock.now(),
      revoked_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      await insertPublicKey(trx, row);
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'public_key.created',
          targetType: 'public_key',
          targetId: row.id,
          details: { name, allowed_origins: origins },
        }),
        trx,
      );
    });
    return toView(row);
  }

  async list(workspaceId: string): Promise<PublicKeyView[]> {
    return (await listPublicKeys(this.db, workspaceId)).map(toView);
  }

  /** Revokes by id (or by the key itself). */
  async revoke(workspace: { id: string; slug: string }, ref: string, actor: AuditActor = SYSTEM_ACTOR): Promise<PublicKeyView> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await findPublicKey(trx, workspace.id, ref);
      if (!row) throw new AppError('NOT_FOUND', `no public key "${ref}" in workspace "${workspace.slug}"`);
      if (row.revoked_at !== null) return toView(row);
      await markRevoked(trx, 'public_keys', workspace.id, row.id, now);
      await recordChange(trx, { workspaceId: workspace.id, entity: 'public_key', entityId: row.id, at: now });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'public_key.revoked',
          targetType: 'public_key',
          targetId: row.id,
          details: { name: row.name },
        }),
        trx,
      );
      return toView({ ...row, revoked_at: now });
    });
  }

  async findByKey(key: string): Promise<PublicKeyRecord | undefined> {
    const row = await findPublicKeyByKey(this.db, key);
    if (!row) return undefined;
    return { id: row.id, workspaceId: row.workspace_id, allowedOrigins: parseOrigins(row.allowed_origins), revokedAt: row.revoked_at };
  }
}
