import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseApiKeyScope } from '../auth/api-key-scope.js';
import { parseDuration } from '../lib/duration.js';
import { AppError } from '../lib/errors.js';
import { requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';
import { actorOf } from './admin-principal.js';
import { parseBody } from './admin-session.routes.js';

/*
 * Workspace credentials. Viewers list API keys, public keys and signing keys (never a key, a hash
 * or a private half: the services' list views hold none); developers may also reveal the
 * workspace secret; creating, revoking and rotating is for admins and owners. Everything that
 * shows a secret or creates a credential needs a fresh session (password within 10 minutes).
 * Every change and every reveal is audited by the credential service, with the account or token
 * and the request's IP address, inside the transaction that makes the change.
 */

const MAX_PEM_CHARS = 10_000;

const RotateBody = z.object({ grace: z.string().max(20).optional() }).strict();
const CreateApiKeyBody = z
  .object({
    name: z.string().max(200),
    expires_in: z.string().max(20).optional(),
    scope: z.string().max(20).optional(),
    route_groups: z.array(z.string().max(40)).max(20).optional(),
  })
  .strict();
const CreatePublicKeyBody = z
  .object({
    name: z.string().max(200).optional(),
    allowed_origins: z.array(z.string().max(500)).max(50, 'at most 50 allowed_origins').optional(),
  })
  .strict();
const CreateSigningKeyBody = z.object({ name: z.string().max(200).optional() }).strict();
const ImportSigningKeyBody = z.object({ public_key_pem: z.string().max(MAX_PEM_CHARS), name: z.string().max(200).optional() }).strict();

function durationOf(text: string, field: string, isZeroAllowed: boolean): number {
  const ms = parseDuration(text);
  if (ms === null || (!isZeroAllowed && ms === 0)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${field} must be a duration such as 30d, 24h or 90m${isZeroAllowed ? ', or 0' : ''} (got ${JSON.stringify(text)})`,
    );
  }
  return ms;
}

type IdParams = WorkspaceParams & { id: string };
type KidParams = WorkspaceParams & { kid: string };

export function registerAdminCredentialRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;

  // --- Workspace secret ---------------------------------------------------------------------

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/secret', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'developer', { fresh: true });
    // revealTo writes the audit entry before decrypting: no reveal goes unrecorded.
    const secret = await herald.workspaceSecrets.revealTo(workspace.id, actorOf(request, principal));
    reply.header('cache-control', 'no-store');
    return { workspace_key: workspace.workspaceKey, workspace_secret: secret };
  });

  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/secret/rotate', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(RotateBody, request.body);
    const graceMs = body.grace === undefined ? herald.config.secretGracePeriodMs : durationOf(body.grace, 'grace', true);
    const rotated = await herald.workspaceSecrets.rotate(workspace, graceMs, actorOf(request, principal));
    // The new secret is not in this answer: GET …/secret (an audited reveal) is the one way a
    // secret leaves the admin API, so the audit log lists everyone who has seen it.
    return { workspace_key: workspace.workspaceKey, previous_valid_until: rotated.previous_valid_until };
  });

  // --- Webhook signing secret ----------------------------------------------------------------

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/webhook-secret', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return herald.webhookSecrets.status(workspace.id);
  });

  // The new secret is in this answer and nowhere else, ever (shown once, like an API key).
  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/webhook-secret/roll', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(RotateBody, request.body);
    const graceMs = body.grace === undefined ? herald.config.secretGracePeriodMs : durationOf(body.grace, 'grace', true);
    const rolled = await herald.webhookSecrets.roll(workspace, graceMs, actorOf(request, principal));
    reply.header('cache-control', 'no-store');
    return rolled;
  });

  // --- API keys -----------------------------------------------------------------------------

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/api-keys', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return { api_keys: await herald.apiKeys.list(workspace.id) };
  });

  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/api-keys', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(CreateApiKeyBody, request.body);
    const expiresInMs = body.expires_in === undefined ? undefined : durationOf(body.expires_in, 'expires_in', false);
    const scope = parseApiKeyScope(body.scope, body.route_groups);
    const created = await herald.apiKeys.create(
      workspace,
      { name: body.name, expiresInMs, createdBy: principal.label, scope },
      actorOf(request, principal),
    );
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(created);
  });

  group.delete<{ Params: IdParams }>('/admin/api/workspaces/:ws/api-keys/:id', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin');
    return herald.apiKeys.revoke(workspace, request.params.id, actorOf(request, principal));
  });

  // --- Public keys (not secret: they ship inside browser code) ------------------------------

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/public-keys', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return { public_keys: await herald.publicKeys.list(workspace.id) };
  });

  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/public-keys', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(CreatePublicKeyBody, request.body);
    const created = await herald.publicKeys.create(
      workspace,
      { name: body.name, allowedOrigins: body.allowed_origins },
      actorOf(request, principal),
    );
    return reply.code(201).send(created);
  });

  group.delete<{ Params: IdParams }>('/admin/api/workspaces/:ws/public-keys/:id', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin');
    return herald.publicKeys.revoke(workspace, request.params.id, actorOf(request, principal));
  });

  // --- Signing keys (the list holds public halves only; Herald never stores a private one) --

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/signing-keys', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return { signing_keys: await herald.signingKeys.list(workspace.id) };
  });

  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/signing-keys', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(CreateSigningKeyBody, request.body);
    const created = await herald.signingKeys.create(workspace, { name: body.name }, actorOf(request, principal));
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(created);
  });

  group.post<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/signing-keys/import', async (request, reply) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin', { fresh: true });
    const body = parseBody(ImportSigningKeyBody, request.body);
    const imported = await herald.signingKeys.import(
      workspace,
      { publicKeyPem: body.public_key_pem, name: body.name },
      actorOf(request, principal),
    );
    return reply.code(201).send(imported);
  });

  group.delete<{ Params: KidParams }>('/admin/api/workspaces/:ws/signing-keys/:kid', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'admin');
    return herald.signingKeys.revoke(workspace, request.params.kid, actorOf(request, principal));
  });
}
