import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseTriggerRequest } from '../ingest/ingest.parse.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';
import { WorkflowService, type Workflow } from '../workflows/workflows.service.js';
import { requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';
import { roleAtLeast, type Role } from './admin-principal.js';
import { parseBody } from './admin-session.routes.js';

const MAX_TEST_RECIPIENTS = 100;

const TestTriggerBody = z
  .object({
    recipients: z.array(z.unknown()).min(1, 'recipients must list at least one user').max(MAX_TEST_RECIPIENTS),
    data: z.record(z.string(), z.unknown()).optional(),
    tenant_id: z.string().optional(),
  })
  .strict();

type SlugParams = WorkspaceParams & { slug: string };

/** A webhook URL without what may be a credential: user info, path and query (Slack's secret is its path). */
export function urlForViewers(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[hidden]';
  }
  const isBare = parsed.username === '' && parsed.password === '' && parsed.pathname === '/' && parsed.search === '' && parsed.hash === '';
  return isBare ? url : `${parsed.protocol}//${parsed.host}/[hidden]`;
}

/**
 * Webhook steps often carry the receiving service's own credentials, in headers or in the URL
 * (Slack and Discord put the secret in the path, others in the query), so viewers see header
 * names and the URL's host only. Developers and up, who may edit workflows, see the values.
 */
function workflowFor(role: Role, workflow: Workflow): Workflow {
  if (roleAtLeast(role, 'developer')) return workflow;
  return {
    ...workflow,
    steps: workflow.steps.map((step) =>
      step.type === 'webhook'
        ? {
            ...step,
            url: urlForViewers(step.url),
            ...(step.headers ? { headers: Object.fromEntries(Object.keys(step.headers).map((name) => [name, '[hidden]'])) } : {}),
          }
        : step,
    ),
  };
}

/** Workflows: read (viewer), create or replace and test (developer), delete (admin). */
export function registerAdminWorkflowRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald, delivery } = deps;
  const workflows = new WorkflowService(herald);

  group.get<{ Params: WorkspaceParams }>('/admin/api/workspaces/:ws/workflows', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'viewer');
    return { workflows: (await workflows.list(workspace.id)).map((w) => workflowFor(principal.role, w)) };
  });

  group.get<{ Params: SlugParams }>('/admin/api/workspaces/:ws/workflows/:slug', async (request) => {
    const { principal, workspace } = await requireWorkspace(request, herald, 'viewer');
    return workflowFor(principal.role, await workflows.get(workspace.id, request.params.slug));
  });

  group.put<{ Params: SlugParams }>('/admin/api/workspaces/:ws/workflows/:slug', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'developer');
    const body = request.body;
    if (!isPlainObject(body)) throw new AppError('VALIDATION_FAILED', 'body must be a workflow definition (a JSON object)');
    const { slug } = request.params;
    if (body['slug'] !== undefined && body['slug'] !== slug) {
      throw new AppError(
        'VALIDATION_FAILED',
        `slug in the body (${JSON.stringify(body['slug'])}) differs from the path ("${slug}"); omit it or make them match`,
      );
    }
    // The service validates the whole definition (schema and every template) before writing.
    const applied = await workflows.apply(workspace.id, [{ ...body, slug }]);
    const warnings = await workflows.warningsFor(workspace, applied);
    return { ...applied[0], ...(warnings.length > 0 ? { warnings } : {}) };
  });

  group.delete<{ Params: SlugParams }>('/admin/api/workspaces/:ws/workflows/:slug', async (request, reply) => {
    const { workspace } = await requireWorkspace(request, herald, 'admin');
    await workflows.delete(workspace.id, request.params.slug);
    return reply.code(204).send();
  });

  // A test trigger takes the real delivery path (preferences, inbox, webhooks, realtime push).
  group.post<{ Params: SlugParams }>('/admin/api/workspaces/:ws/workflows/:slug/test', async (request, reply) => {
    const { workspace } = await requireWorkspace(request, herald, 'developer');
    const body = parseBody(TestTriggerBody, request.body);
    const trigger = parseTriggerRequest({
      workflow: request.params.slug,
      recipients: body.recipients,
      data: body.data,
      tenant_id: body.tenant_id,
    });
    const result = await delivery.trigger(workspace, trigger);
    return reply.code(202).send({ message_id: result.message_id });
  });
}
