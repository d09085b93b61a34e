import { credentialStatus, LastUseBuffer } from '../credentials/credential-lifecycle.js';
import type { Kysely } from 'kysely';
import { generateServiceToken } from '../credentials/key-format.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { parseJsonArray } from '../lib/json.js';
import type { WorkspaceService } from '../workspaces/workspaces.service.js';
import { isRole, roleAtLeast, workspaceNotFound, type AdminPrincipal, type Role } from './admin-principal.js';
import { ADMIN_AUDIT_ACTIONS, type AuditActor, type AuditSink } from './audit-sink.js';
import {
  findServiceToken,
  findServiceTokenByHash,
  insertServiceToken,
  listServiceTokens,
  markServiceTokenRevoked,
  touchServiceTokens,
  type ServiceTokenRow,
} from './service-tokens.repo.js';

export type ServiceTokenRole = Exclude<Role, 'owner'>;
export type ServiceTokenStatus = 'active' | 'expired' | 'revoked';

/** What may be shown about a token after creation: never the token or its hash. */
export interface ServiceTokenView {
  id: string;
  name: string;
  display_prefix: string;
  role: ServiceTokenRole;
  /** '*' for every workspace (including ones created later), or workspace ids. */
  workspace_ids: '*' | string[];
  status: ServiceTokenStatus;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface CreatedServiceToken extends ServiceTokenView {
  /** Shown exactly once. */
  token: string;
}

export interface ServiceTokenRecord {
  id: string;
  name: string;
  role: ServiceTokenRole;
  workspaceIds: '*' | string[];
  expiresAt: number | null;
  revokedAt: number | null;
}

/** Who asks: the CLI (may grant anything but owner), or a principal that may grant at most what it has. */
export type TokenAuthority = { kind: 'cli' } | { kind: 'principal'; principal: AdminPrincipal };

const MAX_NAME_CHARS = 100;
const MAX_WORKSPACES = 100;

function scopeOf(row: ServiceTokenRow): '*' | string[] {
  return row.workspace_ids === '*' ? '*' : parseJsonArray(row.workspace_ids).filter((v): v is string => typeof v === 'string');
}

/** True when every workspace of `inner` is inside `outer`. */
function isWithin(inner: '*' | string[], outer: '*' | string[]): boolean {
  if (outer === '*') return true;
  return inner !== '*' && inner.every((id) => outer.includes(id));
}

export class ServiceTokenService {
  readonly #uses = new LastUseBuffer();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly workspaces: WorkspaceService,
    private readonly audit: AuditSink,
  ) {}

  private view(row: ServiceTokenRow): ServiceTokenView {
    const now = this.clock.now();
    const status: ServiceTokenStatus = credentialStatus(row, now);
    return {
      id: row.id,
      name: row.name,
      display_prefix: row.display_prefix,
      role: row.role,
      workspace_ids: scopeOf(row),
      status,
      created_at: row.created_at,
      created_by: row.created_by,
      expires_at: row.expires_at,
      last_used_at: row.last_used_at,
      revoked_at: row.revoked_at,
    };
  }

  /**
   * Creates a token. `workspaces` are slugs or ids, or '*' (the default) for all. A principal
   * can grant neither a higher role nor a workspace it cannot see itself (an unseen workspace
   * answers 404 like a missing one).
   */
  async create(
    input: { name: unknown; role: unknown; workspaces?: unknown; expiresInMs?: number | undefined },
    authority: TokenAuthority,
    actor: AuditActor,
  ): Promise<CreatedServiceToken> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0 || name.length > MAX_NAME_CHARS) {
      throw new AppError('VALIDATION_FAILED', `service token name must be 1-${MAX_NAME_CHARS} characters`);
    }
    if (!isRole(input.role) || input.role === 'owner') {
      throw new AppError('VALIDATION_FAILED', 'service token role must be admin, developer or viewer (owner is for people only)');
    }
    const role: ServiceTokenRole = input.role;
    if (input.expiresInMs !== undefined && (!Number.isSafeInteger(input.expiresInMs) || input.expiresInMs <= 0)) {
      throw new AppError('VALIDATION_FAILED', 'service token expiry must be a positive duration such as 90d');
    }
    const granter = authority.kind === 'principal' ? authority.principal : null;
    if (granter && !roleAtLeast(granter.role, 'admin')) {
      throw new AppError('FORBIDDEN', `creating service tokens needs the admin role or higher; you have ${granter.role}`);
    }
    if (granter && !roleAtLeast(granter.role, role)) {
      throw new AppError('FORBIDDEN', `you cannot grant the ${role} role: it is above your own (${granter.role})`);
    }
    const scope = await this.resolveScope(input.workspaces, granter);

    const now = this.clock.now();
    const generated = generateServiceToken();
    const row: ServiceTokenRow = {
      id: newId('serviceToken'),
      name,
      token_hash: generated.hash,
      display_prefix: generated.displayPrefix,
      role,
      workspace_ids: scope === '*' ? '*' : JSON.stringify(scope),
      created_at: now,
      created_by: actor.label,
      expires_at: input.expiresInMs === undefined ? null : now + input.expiresInMs,
      last_used_at: null,
      revoked_at: null,
    };
    await insertServiceToken(this.db, row);
    await this.record(actor, ADMIN_AUDIT_ACTIONS.serviceTokenCreated, row.id, {
      name,
      role,
      workspace_ids: scope,
      expires_at: row.expires_at,
    });
    return { ...this.view(row), token: generated.key };
  }

  private async resolveScope(input: unknown, granter: AdminPrincipal | null): Promise<'*' | string[]> {
    const limit = granter?.workspaceIds ?? '*';
    if (input === undefined || input === '*') {
      if (limit !== '*') throw new AppError('FORBIDDEN', 'your own access is limited to some workspaces: list them in workspaces');
      return '*';
    }
    if (!Array.isArray(input) || input.length === 0 || input.length > MAX_WORKSPACES || !input.every((v) => typeof v === 'string')) {
      throw new AppError('VALIDATION_FAILED', `workspaces must be "*" or a list of 1-${MAX_WORKSPACES} workspace slugs or ids`);
    }
    const ids: string[] = [];
    for (const ref of input as string[]) {
      const workspace = await this.workspaces.get(ref);
      if (limit !== '*' && !limit.includes(workspace.id)) throw workspaceNotFound(ref);
      if (!ids.includes(workspace.id)) ids.push(workspace.id);
    }
    return ids;
  }

  /** Tokens the principal may see: a workspace-scoped principal sees only tokens inside its scope. */
  async list(viewer: AdminPrincipal | null = null): Promise<ServiceTokenView[]> {
    await this.flushUses();
    const rows = await listServiceTokens(this.db);
    return rows.filter((row) => viewer === null || isWithin(scopeOf(row), viewer.workspaceIds)).map((row) => this.view(row));
  }

  async revoke(id: string, authority: TokenAuthority, actor: AuditActor): Promise<ServiceTokenView> {
    const row = await findServiceToken(this.db, id);
    const viewer = authority.kind === 'principal' ? authority.principal : null;
    // A token outside the caller's scope answers exactly like a missing one.
    if (!row || (viewer && !isWithin(scopeOf(row), viewer.workspaceIds))) {
      throw new AppError('NOT_FOUND', `no service token "${id}" (GET /admin/api/service-tokens lists them)`);
    }
    if (viewer && !roleAtLeast(viewer.role, 'admin')) {
      throw new AppError('FORBIDDEN', `revoking service tokens needs the admin role or higher; you have ${viewer.role}`);
    }
    if (row.revoked_at !== null) return this.view(row);
    const now = this.clock.now();
    const isMine = await markServiceTokenRevoked(this.db, id, now);
    if (!isMine) return this.view((await findServiceToken(this.db, id)) ?? row);
    await this.record(actor, ADMIN_AUDIT_ACTIONS.serviceTokenRevoked, id, { name: row.name });
    return this.view({ ...row, revoked_at: now });
  }

  async findByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined> {
    const row = await findServiceTokenByHash(this.db, tokenHash);
    if (!row) return undefined;
    return { id: row.id, name: row.name, role: row.role, workspaceIds: scopeOf(row), expiresAt: row.expires_at, revokedAt: row.revoked_at };
  }

  /** Records a use in memory; `flushUses` writes them in one batch (no write per request). */
  noteUse(id: string, at: number): void {
    this.#uses.note(id, at);
  }

  async flushUses(): Promise<void> {
    const uses = this.#uses.drain();
    if (uses.length === 0) return;
    await this.db.transaction().execute((trx) => touchServiceTokens(trx, uses));
  }

  private async record(actor: AuditActor, action: string, tokenId: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record({
      workspaceId: null,
      actorType: actor.type,
      actorId: actor.id,
      actorLabel: actor.label,
      action,
      targetType: 'service_token',
      targetId: tokenId,
      ip: actor.ip,
      details,
    });
  }
}
