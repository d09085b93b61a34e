import type { FastifyInstance } from 'fastify';
import { DEFAULT_TENANT } from '../delivery/delivery.service.js';
import { latestNotifications } from '../inbox/inbox.service.js';
import { PreferenceService } from '../preferences/preferences.service.js';
import { checkDistinctId, UserService } from '../users/users.service.js';
import { queryInt, queryText, requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const MAX_SEARCH_CHARS = 200;
const MAX_DISTINCT_ID_CHARS = 512;
const MAX_TENANT_CHARS = 64;
/** Notifications shown on a user's page. */
const LATEST_NOTIFICATIONS = 50;

type UserQuery = { search?: string; limit?: string; after?: string };

/** Users of a workspace, as the dashboard browses them (viewer and up; read only). */
export function registerAdminUserRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;
  const users = new UserService(herald);
  const preferences = new PreferenceService(herald);

  group.get<{ Params: WorkspaceParams; Querystring: UserQuery }>('/admin/api/workspaces/:ws/users', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    const query = request.query;
    return users.search(workspace.id, {
      search: queryText(query.search, 'search', MAX_SEARCH_CHARS),
      limit: queryInt(query.limit, 'limit', { min: 1, max: MAX_PAGE }) ?? DEFAULT_PAGE,
      after: queryText(query.after, 'after', MAX_DISTINCT_ID_CHARS),
    });
  });

  group.get<{ Params: WorkspaceParams & { id: string }; Querystring: { tenant_id?: string } }>(
    '/admin/api/workspaces/:ws/users/:id',
    async (request) => {
      const { workspace } = await requireWorkspace(request, herald, 'viewer');
      const distinctId = checkDistinctId(request.params.id);
      const tenantId = queryText(request.query.tenant_id, 'tenant_id', MAX_TENANT_CHARS) ?? DEFAULT_TENANT;
      const user = await users.get(workspace.id, distinctId);
      const [preferenceData, notifications] = await Promise.all([
        preferences.getPreferences(workspace.id, distinctId, { tenantId, showOptOutChannels: true }),
        latestNotifications(herald, workspace.id, distinctId, LATEST_NOTIFICATIONS),
      ]);
      return { user, preferences: preferenceData, notifications };
    },
  );
}
