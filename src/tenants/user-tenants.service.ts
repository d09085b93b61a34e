import { DEFAULT_TENANT } from '../auth/user-token.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonObject, type JsonObject } from '../lib/json.js';
import { applyOperation, applyUpsertPayload } from '../users/user-operations.js';
import { iso, userView, UserService, type ServiceDeps } from '../users/users.service.js';
import {
  countUserTenants,
  deleteUserTenant,
  ensureUserTenant,
  findUserTenant,
  listUserTenants,
  tenantExists,
  upsertUserTenant,
  type UserTenantRow,
} from './user-tenants.repo.js';

/** A user's membership of a tenant, with properties of its own (e.g. the user's role there). */
export interface UserTenantLink {
  distinct_id: string;
  tenant_id: string;
  tenant_name: string | null;
  properties: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface UserTenantPage {
  meta: { count: number; limit: number; offset: number };
  results: UserTenantLink[];
}

const MAX_LINK_PROPERTIES_BYTES = 64 * 1024;

function linkView(distinctId: string, row: UserTenantRow): UserTenantLink {
  return {
    distinct_id: distinctId,
    tenant_id: row.tenant_id,
    tenant_name: row.tenant_name,
    properties: parseJsonObject(row.properties),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export class UserTenantService {
  private readonly users: UserService;

  constructor(private readonly deps: ServiceDeps) {
    this.users = new UserService(deps);
  }

  /** `default` exists in every workspace without a row; any other tenant must have been created. */
  private async requireTenant(db: ServiceDeps['db'], workspaceId: string, tenantId: string): Promise<void> {
    if (tenantId === DEFAULT_TENANT) return;
    if (!(await tenantExists(db, workspaceId, tenantId))) {
      throw new AppError('NOT_FOUND', `tenant "${tenantId}" not found; create it first (POST /v1/tenant/${tenantId}/)`);
    }
  }

  async list(workspaceId: string, distinctId: string, page: { limit: number; offset: number }): Promise<UserTenantPage> {
    await this.users.get(workspaceId, distinctId);
    const [count, rows] = await Promise.all([
      countUserTenants(this.deps.db, workspaceId, distinctId),
      listUserTenants(this.deps.db, workspaceId, distinctId, page),
    ]);
    return { meta: { count, limit: page.limit, offset: page.offset }, results: rows.map((row) => linkView(distinctId, row)) };
  }

  async get(workspaceId: string, distinctId: string, tenantId: string): Promise<UserTenantLink> {
    const row = await findUserTenant(this.deps.db, workspaceId, distinctId, tenantId);
    if (!row) throw new AppError('NOT_FOUND', `user "${distinctId}" is not in tenant "${tenantId}"`);
    return linkView(distinctId, row);
  }

  /** Adds the user to the tenant, or replaces the link's properties with `body`. */
  async upsert(workspaceId: string, distinctId: string, tenantId: string, body: unknown): Promise<UserTenantLink> {
    if (body !== undefined && body !== null && !isPlainObject(body)) {
      throw new AppError('VALIDATION_FAILED', 'body must be a JSON object of properties for the link, e.g. {"role": "admin"}');
    }
    const properties = JSON.stringify(body ?? {});
    if (Buffer.byteLength(properties) > MAX_LINK_PROPERTIES_BYTES) {
      throw new AppError('VALIDATION_FAILED', `link properties must be at most ${MAX_LINK_PROPERTIES_BYTES / 1024} KiB`);
    }
    await this.users.get(workspaceId, distinctId);
    await this.requireTenant(this.deps.db, workspaceId, tenantId);
    await upsertUserTenant(this.deps.db, { workspaceId, distinctId, tenantId, properties }, this.deps.clock.now());
    return this.get(workspaceId, distinctId, tenantId);
  }

  async remove(workspaceId: string, distinctId: string, tenantId: string): Promise<void> {
    const deleted = await deleteUserTenant(this.deps.db, workspaceId, distinctId, tenantId);
    if (deleted === 0) throw new AppError('NOT_FOUND', `user "${distinctId}" is not in tenant "${tenantId}"`);
  }

  /**
   * `PATCH /v1/user/{id}/tenant/{tenant_id}/`: the same profile edit as `PATCH /v1/user/{id}/`
   * (UserService.edit semantics: `{"operations":[…]}`, or a plain payload treated as an upsert),
   * plus the user's link to the tenant. UserService.edit opens its own transaction and Kysely
   * cannot nest them, so this goes through UserService.mutate to keep edit and link atomic.
   */
  async editUser(workspaceId: string, distinctId: string, tenantId: string, body: unknown): Promise<JsonObject> {
    if (!isPlainObject(body)) throw new AppError('VALIDATION_FAILED', 'body must be {"operations": [...]}');
    const operations = body['operations'];
    if (operations !== undefined && !Array.isArray(operations)) throw new AppError('VALIDATION_FAILED', 'operations must be a list');
    const row = await this.deps.db.transaction().execute(async (trx) => {
      await this.requireTenant(trx, workspaceId, tenantId);
      const edited = await this.users.mutate(trx, workspaceId, distinctId, (profile) => {
        if (operations === undefined) applyUpsertPayload(profile, body);
        else for (const operation of operations) applyOperation(profile, operation);
      });
      await ensureUserTenant(trx, { workspaceId, distinctId, tenantId }, this.deps.clock.now());
      return edited;
    });
    return userView(row);
  }
}
