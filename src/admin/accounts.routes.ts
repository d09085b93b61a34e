import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminGroupDeps } from './admin-group.js';
import { actorOf, requireAdmin } from './admin-principal.js';
import { parseBody } from './admin-session.routes.js';

const CreateAccountBody = z.object({ email: z.string(), password: z.string(), role: z.string() });
const PatchAccountBody = z.object({ role: z.string().optional(), disabled: z.boolean().optional() }).strict();

/**
 * Accounts management: owners and admins (signed in, fresh for changes). Accounts belong to the
 * installation, not to a workspace: a service token limited to some workspaces sees none of them.
 */
const ACCOUNTS = 'managing dashboard accounts';
export function registerAccountRoutes(group: FastifyInstance, deps: AdminGroupDeps): void {
  group.get('/admin/api/accounts', async (request) => {
    requireAdmin(request, 'admin', { installationWide: ACCOUNTS });
    return { accounts: await deps.accounts.list() };
  });

  group.post('/admin/api/accounts', async (request, reply) => {
    const principal = requireAdmin(request, 'admin', { fresh: true, installationWide: ACCOUNTS });
    const body = parseBody(CreateAccountBody, request.body);
    const account = await deps.accounts.create(body, { kind: 'principal', principal }, actorOf(request, principal));
    return reply.code(201).send(account);
  });

  group.patch<{ Params: { id: string } }>('/admin/api/accounts/:id', async (request) => {
    const principal = requireAdmin(request, 'admin', { fresh: true, installationWide: ACCOUNTS });
    const body = parseBody(PatchAccountBody, request.body);
    return deps.accounts.update(request.params.id, body, { kind: 'principal', principal }, actorOf(request, principal));
  });
}
