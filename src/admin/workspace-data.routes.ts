import type { FastifyInstance } from 'fastify';
import { auditEntry } from '../audit/audit.service.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';
import { MAX_DISTINCT_ID_CHARS } from '../lib/text.js';
import { ListService } from '../lists/lists.service.js';
import { CategoryService } from '../preferences/categories.service.js';
import { TenantService } from '../tenants/tenants.service.js';
import { queryInt, queryText, requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';
import { actorOf } from './admin-principal.js';

/*
 * What a workspace's backend has stored: notification categories, tenants and lists. Viewers and
 * up read them; developers and up create or edit categories, as they may with `herald category
 * apply` (the same service validates both). Tenants and lists are read only here: the backend SDKs
 * own them. Every read goes through the workspace of the path, so another workspace's list is
 * "not found" exactly like a missing one.
 */

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
/** Far beyond any real offset, but small enough to stay an exact integer in both databases. */
const MAX_OFFSET = 100_000_000;

type PageQuery = { limit?: string; offset?: string };
type MemberQuery = { limit?: string; after?: string };
type SlugParams = WorkspaceParams & { slug: string };
type ListParams = WorkspaceParams & { id: string };

function offsetPage(query: PageQuery): { limit: number; offset: number } {
  return {
    limit: queryInt(query.limit, 'limit', { min: 1, max: MAX_PAGE }) ?? DEFAULT_PAGE,
    offset: queryInt(query.offset, 'offset', { min: 0, max: MAX_OFFSET }) ?? 0,
  };
}

export function registerAdminWorkspaceDataRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;
  const categories = new CategoryService(herald);
  const tenants = new TenantService(herald);
  const lists = new ListService(herald);

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/categories', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return { categories: await categories.list(workspace.id) };
  });

  group.put<{ Params: SlugParams }>('/admin/api/workspaces/:ws/categories/:slug', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'developer');
    const body = request.body;
    if (!isPlainObject(body))
      throw new AppError('VALIDATION_FAILED', 'body must be a category (a JSON object such as {"name": "Billing"})');
    const { slug } = request.params;
    if (body['slug'] !== undefined && body['slug'] !== slug) {
      throw new AppError(
        'VALIDATION_FAILED',
        `slug in the body (${JSON.stringify(body['slug'])}) differs from the path ("${slug}"); omit it or make them match`,
      );
    }
    // The service checks the whole category (the CLI's rules) before it writes anything; the
    // audit entry commits with the change.
    const result = await categories.apply(workspace.id, { ...body, slug }, async (applied, trx) => {
      const category = applied.categories[0];
      await herald.audit.record(
        auditEntry(actorOf(request, principal), {
          workspaceId: workspace.id,
          action: applied.created.includes(slug) ? 'category.created' : 'category.updated',
          targetType: 'category',
          targetId: slug,
          details: { name: category?.name, default_preference: category?.default_preference },
        }),
        trx,
      );
    });
    const category = result.categories[0];
    if (!category) throw new AppError('INTERNAL', `category "${slug}" was applied but not read back`);
    const isCreated = result.created.includes(slug);
    return { category, created: isCreated };
  });

  group.get<{ Params: WorkspaceParams; Querystring: PageQuery }>('/admin/api/workspaces/:ws/tenants', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return tenants.list(workspace.id, offsetPage(request.query));
  });

  group.get<{ Params: WorkspaceParams; Querystring: PageQuery }>('/admin/api/workspaces/:ws/lists', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return lists.list(workspace.id, offsetPage(request.query));
  });

  group.get<{ Params: ListParams; Querystring: MemberQuery }>('/admin/api/workspaces/:ws/lists/:id/members', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    const limit = queryInt(request.query.limit, 'limit', { min: 1, max: MAX_PAGE }) ?? DEFAULT_PAGE;
    const after = queryText(request.query.after, 'after', MAX_DISTINCT_ID_CHARS);
    // The list first: a missing list (or another workspace's) is a 404, not an empty page.
    const list = await lists.get(workspace.id, request.params.id);
    const id = String(list['list_id']);
    // One more than asked tells whether another page follows without a count query.
    const ids = await lists.memberPage(workspace.id, id, after, limit + 1);
    const members = ids.slice(0, limit);
    return { list, members, next: ids.length > limit ? (members[members.length - 1] ?? null) : null };
  });
}
