import { z } from 'zod';
import { offsetMeta, type LimitOffset } from '../http/pagination.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonObject, type JsonObject } from '../lib/json.js';
import { checkIdText, MAX_TENANT_ID_CHARS } from '../lib/text.js';
import { iso, type ServiceDeps } from '../users/users.service.js';
import {
  countTenantCategories,
  countTenants,
  deleteTenant,
  ensureTenant,
  ensureTenantCategory,
  findTenant,
  findTenantCategory,
  findTenantCategoryForUpdate,
  findTenantForUpdate,
  findWorkspaceCreatedAt,
  listTenantCategories,
  listTenants,
  saveTenant,
  saveTenantCategory,
  type TenantCategoryRow,
  type TenantRow,
} from './tenants.repo.js';

/** Every workspace has this tenant, saved or not: triggers without a tenant_id use it. */
export const DEFAULT_TENANT_ID = 'default';
const DEFAULT_TENANT_NAME = 'Default';
const MAX_TENANT_JSON_BYTES = 64 * 1024;
const MAX_CATEGORY_JSON_BYTES = 16 * 1024;
const CATEGORY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export interface TenantView extends JsonObject {
  tenant_id: string;
  tenant_name: string;
  created_at: string;
  updated_at: string;
}

/** Shown for fields a tenant was never given, so every tenant has the same keys (as SuprSend returns them). */
const TENANT_FIELD_DEFAULTS: JsonObject = {
  logo: null,
  timezone: null,
  blocked_channels: [],
  embedded_preference_url: null,
  hosted_preference_domain: null,
  primary_color: null,
  secondary_color: null,
  tertiary_color: null,
  social_links: {},
  properties: {},
};

/** Keys Herald computes; a client posting back a tenant it read must not store them. */
const COMPUTED_KEYS = ['tenant_id', 'tenant_name', 'brand_id', 'brand_name', 'created_at', 'updated_at'];

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const colour = z
  .string()
  .regex(/^(#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}))?$/, 'must be a hex colour such as #ff0000 (or "" / null to clear it)')
  .nullable();
const channelList = z.array(z.string().min(1).max(64)).max(32, 'must list at most 32 channels').nullable();

// Unknown keys are kept: SuprSend tenants carry fields Herald does not interpret, and they reach templates.
const TenantPayload = z.looseObject({
  tenant_name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  logo: text(2048).nullable().optional(),
  timezone: text(64).nullable().optional(),
  primary_color: colour.optional(),
  secondary_color: colour.optional(),
  tertiary_color: colour.optional(),
  social_links: z.record(z.string(), text(2048).nullable()).nullable().optional(),
  embedded_preference_url: text(2048).nullable().optional(),
  hosted_preference_domain: text(255).nullable().optional(),
  preference_page_url: text(2048).nullable().optional(),
  blocked_channels: channelList.optional(),
  properties: z.record(z.string(), z.unknown()).nullable().optional(),
});

// null means "back to the default" for every field; Go sends "" for an unset preference.
const CategoryPatch = z.strictObject({
  enabled_for_tenant: z.boolean().nullable().optional(),
  visible_to_subscriber: z.boolean().nullable().optional(),
  preference: z.enum(['opt_in', 'opt_out', 'cant_unsubscribe', '']).nullable().optional(),
  blocked_channels: channelList.optional(),
  mandatory_channels: channelList.optional(),
  opt_in_channels: channelList.optional(),
  digest_schedule: z.record(z.string(), z.unknown()).nullable().optional(),
  // The Python SDK documents this as "null/[]", other callers send an object.
  properties: z
    .union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .nullable()
    .optional(),
});

const CATEGORY_DEFAULTS: JsonObject = {
  enabled_for_tenant: true,
  visible_to_subscriber: true,
  preference: null,
  blocked_channels: [],
  mandatory_channels: [],
  opt_in_channels: [],
  digest_schedule: null,
  properties: {},
};

function describeIssues(error: z.ZodError, what: string): string {
  return error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`).join('; ');
}

/** Tenant ids are trimmed (as every SDK does) and must fit in one URL path segment. */
export function checkTenantId(value: unknown): string {
  const id = typeof value === 'string' ? value.trim() : '';
  if (id === '') throw new AppError('VALIDATION_FAILED', 'tenant_id must be a non-empty string');
  checkIdText(id, 'tenant_id', MAX_TENANT_ID_CHARS);
  // The Node SDK puts the id in the path through encodeURI, which leaves "/", "?" and "#" as they are:
  // a tenant with one of them could never be read back through it.
  if (/[/?#]/.test(id)) throw new AppError('VALIDATION_FAILED', 'tenant_id must not contain "/", "?" or "#"; use "-" or "_" instead');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new AppError('VALIDATION_FAILED', 'tenant_id must not contain control characters');
  return id;
}

export function checkCategory(value: unknown): string {
  const slug = typeof value === 'string' ? value.trim() : '';
  if (!CATEGORY_RE.test(slug)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'category must be a category slug such as "transactional" (1-128 letters, digits, ".", "_", "-")',
    );
  }
  return slug;
}

/**
 * Splits an upsert payload into the name and the fields stored as JSON, checking known fields'
 * types. Returns `name: undefined` when the payload does not rename the tenant.
 */
export function parseTenantPayload(payload: unknown): { name: string | undefined; fields: JsonObject } {
  if (payload === undefined || payload === null) return { name: undefined, fields: {} };
  if (!isPlainObject(payload))
    throw new AppError('VALIDATION_FAILED', 'tenant payload must be a JSON object such as {"tenant_name": "Acme"}');
  const parsed = TenantPayload.safeParse(payload);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `invalid tenant payload: ${describeIssues(parsed.error, 'payload')}`);
  const fields: JsonObject = { ...parsed.data };
  for (const key of COMPUTED_KEYS) delete fields[key];
  return { name: parsed.data.tenant_name, fields };
}

/**
 * The patch as stored settings: keys set to null are removed (the default applies again), the
 * rest replace what was there.
 */
export function mergeCategorySettings(current: JsonObject, body: unknown): JsonObject {
  if (body === undefined || body === null) return current;
  if (!isPlainObject(body)) throw new AppError('VALIDATION_FAILED', 'body must be a JSON object such as {"preference": "opt_out"}');
  const parsed = CategoryPatch.safeParse(body);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `invalid category settings: ${describeIssues(parsed.error, 'body')}`);
  const next: JsonObject = { ...current };
  for (const [key, value] of Object.entries(parsed.data)) {
    if (value === undefined) continue;
    if (value === null || value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Upsert merge: payload fields replace stored ones; null (or "" for a colour) removes one, so its default shows again. */
export function mergeTenantFields(current: JsonObject, fields: JsonObject): JsonObject {
  const next: JsonObject = { ...current };
  for (const [key, value] of Object.entries(fields)) {
    if (value === null || (value === '' && key.endsWith('_color'))) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** The older `/v1/brand` API shows the same record under brand_* keys. */
export function toBrandView(view: TenantView): JsonObject {
  const { tenant_id, tenant_name, ...rest } = view;
  return { brand_id: tenant_id, brand_name: tenant_name, ...rest };
}

/** A `/v1/brand` payload names the brand with brand_name; tenant_name wins if both are sent. */
export function fromBrandPayload(payload: unknown): unknown {
  if (!isPlainObject(payload) || !('brand_name' in payload) || 'tenant_name' in payload) return payload;
  const { brand_name, ...rest } = payload;
  return { ...rest, tenant_name: brand_name };
}

function tenantView(row: Pick<TenantRow, 'tenant_id' | 'name' | 'properties' | 'created_at' | 'updated_at'>): TenantView {
  return {
    tenant_id: row.tenant_id,
    tenant_name: row.name,
    ...TENANT_FIELD_DEFAULTS,
    ...parseJsonObject(row.properties),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function categoryView(category: string, row: TenantCategoryRow | undefined): JsonObject {
  return {
    category,
    ...CATEGORY_DEFAULTS,
    ...parseJsonObject(row?.settings),
    updated_at: row ? iso(row.updated_at) : null,
  };
}

export class TenantService {
  constructor(private readonly deps: ServiceDeps) {}

  /** The tenant as the API shows it; "default" exists even if it was never saved. */
  async get(workspaceId: string, tenantId: string): Promise<TenantView> {
    const id = checkTenantId(tenantId);
    const row = await findTenant(this.deps.db, workspaceId, id);
    if (row) return tenantView(row);
    if (id === DEFAULT_TENANT_ID) return this.implicitDefault(workspaceId);
    throw new AppError('NOT_FOUND', `tenant "${id}" not found`);
  }

  async list(workspaceId: string, page: LimitOffset): Promise<{ meta: ReturnType<typeof offsetMeta>; results: TenantView[] }> {
    const db = this.deps.db;
    // "default" always comes first, so offsets stay stable whether or not it was ever saved.
    const others = await countTenants(db, workspaceId, DEFAULT_TENANT_ID);
    const results: TenantView[] = [];
    if (page.offset === 0) {
      results.push(await this.get(workspaceId, DEFAULT_TENANT_ID));
      const rows = await listTenants(db, workspaceId, { limit: page.limit - 1, offset: 0, excludeId: DEFAULT_TENANT_ID });
      results.push(...rows.map(tenantView));
    } else {
      const rows = await listTenants(db, workspaceId, { limit: page.limit, offset: page.offset - 1, excludeId: DEFAULT_TENANT_ID });
      results.push(...rows.map(tenantView));
    }
    return { meta: offsetMeta(others + 1, page), results };
  }

  /** Creates or updates a tenant; fields not in the payload keep their stored values. */
  async upsert(workspaceId: string, tenantId: string, payload: unknown): Promise<TenantView> {
    const id = checkTenantId(tenantId);
    const { name, fields } = parseTenantPayload(payload);
    const now = this.deps.clock.now();
    const row = await this.deps.db.transaction().execute(async (trx) => {
      // A tenant created without a name is named after its id, so it still reads well in lists.
      await ensureTenant(trx, workspaceId, id, id === DEFAULT_TENANT_ID ? DEFAULT_TENANT_NAME : id, now);
      const current = await findTenantForUpdate(trx, this.deps.engine, workspaceId, id);
      if (!current) throw new AppError('INTERNAL', 'tenant vanished during an upsert');
      const properties = JSON.stringify(mergeTenantFields(parseJsonObject(current.properties), fields));
      if (Buffer.byteLength(properties) > MAX_TENANT_JSON_BYTES) {
        throw new AppError('VALIDATION_FAILED', `tenant would exceed ${MAX_TENANT_JSON_BYTES / 1024} KiB; store less in properties`);
      }
      const next = { name: name ?? current.name, properties };
      await saveTenant(trx, workspaceId, id, next, now);
      return { ...current, ...next, updated_at: now };
    });
    return tenantView(row);
  }

  async delete(workspaceId: string, tenantId: string): Promise<void> {
    const id = checkTenantId(tenantId);
    if (id === DEFAULT_TENANT_ID) {
      throw new AppError('VALIDATION_FAILED', 'the default tenant cannot be deleted; upsert it to change its name or branding');
    }
    const deleted = await this.deps.db.transaction().execute((trx) => deleteTenant(trx, workspaceId, id));
    if (deleted === 0) throw new AppError('NOT_FOUND', `tenant "${id}" not found`);
  }

  /** The categories this tenant has settings for (categories it never changed follow the workspace defaults). */
  async listCategories(workspaceId: string, tenantId: string, page: LimitOffset): Promise<JsonObject> {
    const id = await this.requireTenant(workspaceId, tenantId);
    const [total, rows] = await Promise.all([
      countTenantCategories(this.deps.db, workspaceId, id),
      listTenantCategories(this.deps.db, workspaceId, id, page),
    ]);
    return { meta: offsetMeta(total, page), results: rows.map((row) => categoryView(row.category, row)) };
  }

  async getCategory(workspaceId: string, tenantId: string, category: string): Promise<JsonObject> {
    const id = await this.requireTenant(workspaceId, tenantId);
    const slug = checkCategory(category);
    return categoryView(slug, await findTenantCategory(this.deps.db, workspaceId, id, slug));
  }

  async updateCategory(workspaceId: string, tenantId: string, category: string, body: unknown): Promise<JsonObject> {
    const slug = checkCategory(category);
    // Validate before touching the database, so a bad body changes nothing.
    mergeCategorySettings({}, body);
    const id = await this.requireTenant(workspaceId, tenantId);
    const now = this.deps.clock.now();
    const row = await this.deps.db.transaction().execute(async (trx) => {
      await ensureTenantCategory(trx, workspaceId, id, slug, now);
      const current = await findTenantCategoryForUpdate(trx, this.deps.engine, workspaceId, id, slug);
      if (!current) throw new AppError('INTERNAL', 'tenant category vanished during an update');
      const settings = JSON.stringify(mergeCategorySettings(parseJsonObject(current.settings), body));
      if (Buffer.byteLength(settings) > MAX_CATEGORY_JSON_BYTES) {
        throw new AppError('VALIDATION_FAILED', `category settings would exceed ${MAX_CATEGORY_JSON_BYTES / 1024} KiB`);
      }
      await saveTenantCategory(trx, workspaceId, id, slug, settings, now);
      return { ...current, settings, updated_at: now };
    });
    return categoryView(slug, row);
  }

  private async requireTenant(workspaceId: string, tenantId: string): Promise<string> {
    const id = checkTenantId(tenantId);
    if (id === DEFAULT_TENANT_ID) return id;
    if (!(await findTenant(this.deps.db, workspaceId, id))) throw new AppError('NOT_FOUND', `tenant "${id}" not found`);
    return id;
  }

  private async implicitDefault(workspaceId: string): Promise<TenantView> {
    const createdAt = await findWorkspaceCreatedAt(this.deps.db, workspaceId);
    if (createdAt === undefined) throw new AppError('NOT_FOUND', `tenant "${DEFAULT_TENANT_ID}" not found`);
    return tenantView({
      tenant_id: DEFAULT_TENANT_ID,
      name: DEFAULT_TENANT_NAME,
      properties: '{}',
      created_at: createdAt,
      updated_at: createdAt,
    });
  }
}
