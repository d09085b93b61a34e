import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../lib/duration.js';
import { AppError } from '../lib/errors.js';
import type { AdminGroupDeps } from './admin-group.js';
import { actorOf, requireAdmin } from './admin-principal.js';
import { parseBody } from './admin-session.routes.js';

const CreateTokenBody = z.object({
  name: z.string(),
  role: z.string(),
  workspaces: z.union([z.literal('*'), z.array(z.string())]).optional(),
  expires_in: z.string().optional(),
});

/** Service tokens for automation: owners and admins. */
export function registerServiceTokenRoutes(group: FastifyInstance, deps: AdminGroupDeps): void {
  group.get('/admin/api/service-tokens', async (request) => {
    const principal = requireAdmin(request, 'admin');
    return { service_tokens: await deps.serviceTokens.list(principal) };
  });

  group.post('/admin/api/service-tokens', async (request, reply) => {
    const principal = requireAdmin(request, 'admin', { fresh: true });
    const body = parseBody(CreateTokenBody, request.body);
    let expiresInMs: number | undefined;
    if (body.expires_in !== undefined) {
      const ms = parseDuration(body.expires_in);
      if (ms === null || ms === 0) throw new AppError('VALIDATION_FAILED', 'expires_in must be a duration such as 90d, 12h or 2w');
      expiresInMs = ms;
    }
    const created = await deps.serviceTokens.create(
      { name: body.name, role: body.role, workspaces: body.workspaces, expiresInMs },
      { kind: 'principal', principal },
      actorOf(request, principal),
    );
    return reply.code(201).send(created);
  });

  group.delete<{ Params: { id: string } }>('/admin/api/service-tokens/:id', async (request) => {
    const principal = requireAdmin(request, 'admin');
    return deps.serviceTokens.revoke(request.params.id, { kind: 'principal', principal }, actorOf(request, principal));
  });
}
