import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import { MAX_DISTINCT_ID_CHARS } from '../lib/text.js';
import { MessageService, type MessageLogQuery } from '../messages/messages.service.js';
import { queryInt, queryText, requireWorkspace, type AdminApiDeps, type WorkspaceParams } from './admin-api.js';

/**
 * The message log: what each trigger delivered to whom, and how its webhooks fared. Operational
 * data like the request log, so viewers and up; webhook targets show their host only and never the
 * step's headers (both may carry the receiver's credentials, see workflows.routes.ts).
 */

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
/** A base64url (created_at, id) cursor is about 60 characters. */
const MAX_CURSOR_CHARS = 200;
const MAX_SLUG_CHARS = 128;
/** As workflow-definition.ts spells a workflow slug. */
const SLUG_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const MAX_MESSAGE_ID_CHARS = 100;

/** Statuses the delivery pipeline and the inbox write (delivery.service.ts, webhook-sender.ts, messages.service.ts). */
const STATUSES = ['delivered', 'seen', 'read', 'interacted', 'archived', 'queued', 'sent', 'failed'] as const;
const CHANNELS = ['inbox', 'webhook'] as const;
const FILTERS = ['limit', 'before', 'status', 'channel', 'recipient', 'workflow'];

type MessageLogParams = { limit?: string; before?: string; status?: string; channel?: string; recipient?: string; workflow?: string };

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  const given = queryText(value, name, MAX_SLUG_CHARS);
  if (given === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(given))
    throw new AppError('VALIDATION_FAILED', `${name} must be one of ${allowed.join(', ')}`);
  return given as T;
}

export function readMessageLogQuery(query: Record<string, unknown>): MessageLogQuery {
  // A misspelt filter would otherwise widen the list silently.
  for (const key of Object.keys(query)) {
    if (!FILTERS.includes(key)) throw new AppError('VALIDATION_FAILED', `unknown filter "${key}"; supported: ${FILTERS.join(', ')}`);
  }
  const status = oneOf(query['status'], 'status', STATUSES);
  const recipient = queryText(query['recipient'], 'recipient', MAX_DISTINCT_ID_CHARS);
  const workflow = queryText(query['workflow'], 'workflow', MAX_SLUG_CHARS);
  if (workflow !== undefined && !SLUG_RE.test(workflow)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'workflow must be a workflow slug: letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return {
    limit: queryInt(query['limit'], 'limit', { min: 1, max: MAX_PAGE }) ?? DEFAULT_PAGE,
    before: queryText(query['before'], 'before', MAX_CURSOR_CHARS),
    filter: {
      statuses: status === undefined ? undefined : [status],
      channel: oneOf(query['channel'], 'channel', CHANNELS),
      recipientIds: recipient === undefined ? undefined : [recipient],
      workflowSlug: workflow,
    },
  };
}

export function registerAdminMessageRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  const { herald } = deps;
  const messages = new MessageService(herald);

  group.get<{ Params: WorkspaceParams; Querystring: MessageLogParams }>('/admin/api/workspaces/:ws/messages', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    return messages.log(workspace.id, readMessageLogQuery(request.query));
  });

  group.get<{ Params: WorkspaceParams & { id: string } }>('/admin/api/workspaces/:ws/messages/:id', async (request) => {
    const { workspace } = await requireWorkspace(request, herald, 'viewer');
    const id = request.params.id;
    // No stored id is this long: answered like any unknown id, without a query.
    if (id.length > MAX_MESSAGE_ID_CHARS) throw new AppError('NOT_FOUND', `message "${id}" not found`);
    return messages.logEntry(workspace.id, id);
  });
}
