import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import { queryInt, queryText, requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';
import { requireAdmin } from './admin-principal.js';

/*
 * The two logs. The request log (API traffic, with the precise reason of every rejection) is
 * operational data: viewers and up. The audit log is security data (who revealed a secret, who
 * created or revoked which credential, from which address): a workspace's entries need developer
 * or higher (developers may reveal the secret, so they can see who else did); the account-level
 * entries (logins, accounts, service tokens) need admin or higher and an unscoped principal,
 * since they span the whole installation.
 */

const MAX_PAGE = 200;
const MAX_CURSOR_CHARS = 40;
const MAX_ID_CHARS = 600;

type PageQuery = { limit?: string; before?: string };
type RequestLogQuery = PageQuery & { status?: string; credential_id?: string };

function statusFilter(value: unknown): 'all' | 'errors' {
  if (value === undefined || value === '' || value === 'all') return 'all';
  if (value === 'errors') return 'errors';
  throw new AppError('VALIDATION_FAILED', 'status must be "all" or "errors"');
}

function pageOf(query: PageQuery): { limit: number | undefined; before: string | undefined } {
  return {
    limit: queryInt(query.limit, 'limit', { min: 1, max: MAX_PAGE }),
    before: queryText(query.before, 'before', MAX_CURSOR_CHARS),
  };
}

export function registerAdminLogRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;

  group.get<{ Params: WorkspaceParams; Querystring: RequestLogQuery }>('/admin/api/workspaces/:ws/request-log', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    const query = request.query;
    return herald.requestLog.list(workspace.id, {
      ...pageOf(query),
      status: statusFilter(query.status),
      credentialId: queryText(query.credential_id, 'credential_id', MAX_ID_CHARS),
    });
  });

  group.get<{ Params: WorkspaceParams; Querystring: PageQuery }>('/admin/api/workspaces/:ws/audit-log', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'developer');
    return herald.audit.list(workspace.id, pageOf(request.query));
  });

  group.get<{ Querystring: PageQuery }>('/admin/api/audit-log', async (request) => {
    requireAdmin(request, 'admin', { installationWide: 'the account-level audit log' });
    return herald.audit.list(null, pageOf(request.query));
  });
}
