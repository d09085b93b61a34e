import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireWorkspace, workspaceView, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';
import { actorOf, requireAdmin } from './admin-principal.js';
import { parseBody } from './admin-session.routes.js';

const CreateWorkspaceBody = z
  .object({
    slug: z.string().max(63, 'slug is longer than 63 characters'),
    name: z.string().max(200, 'name is longer than 200 characters').optional(),
    mode: z.enum(['test', 'live'], { error: 'mode must be "test" or "live"' }),
  })
  .strict();

const EnhancedSecurityBody = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }) }).strict();

const SignedClientsBody = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }) }).strict();

/** Workspaces: list (those in scope), create, show, the enhanced security switch and the signed-client switch. */
export function registerAdminWorkspaceRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;

  group.get('/admin/api/workspaces', async (request) => {
    const principal = requireAdmin(request, 'viewer');
    const scope = principal.workspaceIds;
    const workspaces = (await herald.workspaces.list()).filter((w) => scope === '*' || scope.includes(w.id));
    return { workspaces: workspaces.map(workspaceView) };
  });

  group.post('/admin/api/workspaces', async (request, reply) => {
    // A token limited to some workspaces would create one outside its own reach.
    const principal = requireAdmin(request, 'admin', { fresh: true, installationWide: 'creating a workspace' });
    const body = parseBody(CreateWorkspaceBody, request.body);
    const workspace = await herald.workspaces.create(body, actorOf(request, principal));
    return reply.code(201).send(workspaceView(workspace));
  });

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return workspaceView(workspace);
  });

  group.put<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/enhanced-security', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const { enabled } = parseBody(EnhancedSecurityBody, request.body);
    return workspaceView(await herald.workspaces.setEnhancedSecurity(workspace.id, enabled, actorOf(request, principal)));
  });

  // "Allow key+secret signed client calls" (web-sdk 1.x, Android 1.x, iOS legacy): these apps carry
  // the workspace secret, so the switch takes the same role and fresh sign-in as enhanced security.
  group.put<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/signed-clients', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const { enabled } = parseBody(SignedClientsBody, request.body);
    return workspaceView(await herald.workspaces.setSignedClients(workspace.id, enabled, actorOf(request, principal)));
  });
}
