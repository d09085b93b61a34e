import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { AppError } from '../lib/errors.js';
import type { ServiceDeps } from '../users/users.service.js';
import type { MessageFilter } from './messages.repo.js';
import { MessageService, type MessageListQuery } from './messages.service.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/** Filters that may repeat; messages_api.js sends arrays as `key[]=a&key[]=b`. */
const MULTI_VALUE = ['recipient_id', 'status', 'category'] as const;
const SINGLE_VALUE = [
  'limit',
  'after',
  'before',
  'workflow',
  'workflow_slug',
  'channel',
  'tenant_id',
  'execution_id',
  'message_id',
  'created_at_gte',
  'created_at_lte',
] as const;
/** SuprSend filters on data Herald does not record; ignoring them would silently widen the result. */
const UNSUPPORTED = ['idempotency_key', 'object_type', 'object_id', 'is_campaign'];
const KNOWN = new Set<string>([...SINGLE_VALUE, ...MULTI_VALUE, ...MULTI_VALUE.map((k) => `${k}[]`)]);

/** Every value given for `name` or `name[]`, in any of the shapes a query parser produces. */
function multiValue(query: Record<string, unknown>, name: string): string[] | undefined {
  const values = [query[name], query[`${name}[]`]].flat().filter((v): v is string => typeof v === 'string' && v !== '');
  return values.length > 0 ? values : undefined;
}

function singleValue(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
  return value;
}

function timeValue(query: Record<string, unknown>, name: string): number | undefined {
  const value = singleValue(query, name);
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('VALIDATION_FAILED', `${name} must be an RFC 3339 timestamp such as 2026-04-26T21:34:33Z`);
  return ms;
}

export function readMessageListQuery(query: Record<string, unknown>): MessageListQuery {
  for (const key of Object.keys(query)) {
    if (UNSUPPORTED.includes(key)) throw new AppError('VALIDATION_FAILED', `Herald does not support the "${key}" filter; remove it`);
    if (!KNOWN.has(key)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `unknown query parameter "${key}"; supported: ${[...SINGLE_VALUE, ...MULTI_VALUE].join(', ')}`,
      );
    }
  }
  const rawLimit = singleValue(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1) throw new AppError('VALIDATION_FAILED', 'limit must be a positive integer');
  }
  const workflow = singleValue(query, 'workflow');
  const workflowSlug = singleValue(query, 'workflow_slug');
  if (workflow !== undefined && workflowSlug !== undefined && workflow !== workflowSlug) {
    throw new AppError('VALIDATION_FAILED', 'workflow and workflow_slug name the same filter; give one of them');
  }
  const filter: MessageFilter = {
    recipientIds: multiValue(query, 'recipient_id'),
    statuses: multiValue(query, 'status'),
    categories: multiValue(query, 'category'),
    workflowSlug: workflow ?? workflowSlug,
    channel: singleValue(query, 'channel'),
    tenantId: singleValue(query, 'tenant_id'),
    executionId: singleValue(query, 'execution_id'),
    messageId: singleValue(query, 'message_id'),
    createdFrom: timeValue(query, 'created_at_gte'),
    createdTo: timeValue(query, 'created_at_lte'),
  };
  return { filter, limit: Math.min(limit, MAX_LIMIT), after: singleValue(query, 'after'), before: singleValue(query, 'before') };
}

/** `/v1/message/` and `/v1/bulk/message/` (reference/backend-sdk-protocol.md §3b). */
export function registerMessageRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const messages = new MessageService(deps);

  group.get('/v1/message', async (request) =>
    messages.list(requirePrincipal(request).workspaceId, readMessageListQuery(request.query as Record<string, unknown>)),
  );

  group.patch('/v1/bulk/message', async (request) => messages.bulkUpdate(requirePrincipal(request).workspaceId, request.body));
}
