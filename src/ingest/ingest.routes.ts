import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import type { DeliveryService, TriggerRequest } from '../delivery/delivery.service.js';
import { AppError } from '../lib/errors.js';
import type { EventService } from './events.service.js';
import { parseBroadcast, parseClientEvent, parseEvent, parseLegacyWorkflow, parseSchedule, parseTriggerRequest } from './ingest.parse.js';
import { requireSubscriber, requireTenant } from '../auth/client-scope.js';

/**
 * Ingest: workflow triggers, events, identity events and list broadcasts
 * (reference/backend-sdk-protocol.md §3a, responses as §7 so Node, Python and Go SDKs all read them).
 */

const MAX_BULK_TRIGGERS = 100;
const MAX_BULK_EVENTS = 1_000;

export interface IngestDeps {
  delivery: DeliveryService;
  events: EventService;
  listExists: (workspaceId: string, listId: string) => Promise<boolean>;
  now: () => number;
}

type Outcome =
  | { status: 'success'; message_id: string; status_code: number }
  | { status: 'error'; status_code: number; error: { message: string; type: string } };

function asRecord(error: unknown): Outcome {
  if (error instanceof AppError) return { status: 'error', status_code: error.status, error: { message: error.message, type: error.code } };
  throw error;
}

function workspaceOf(principal: Principal): { id: string; slug: string; workspaceKey: string } {
  return { id: principal.workspaceId, slug: principal.workspaceSlug, workspaceKey: principal.workspaceKey };
}

/** Legacy paths carry the workspace key; it must be the caller's own (another's looks like a missing route). */
function checkPathKey(request: FastifyRequest<{ Params: { wsKey: string } }>, principal: Principal): void {
  if (request.params.wsKey !== principal.workspaceKey) {
    throw new AppError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
      detail: 'workspace key in the path does not match the credential',
    });
  }
}

function checkBulk(body: unknown[], max: number): void {
  if (body.length === 0) throw new AppError('VALIDATION_FAILED', 'empty list: send at least one record');
  if (body.length > max) throw new AppError('VALIDATION_FAILED', `at most ${max} records per request`);
}

function sendRecords(reply: FastifyReply, records: Outcome[]) {
  const isPartial = records.some((r) => r.status === 'error');
  return reply.code(isPartial ? 207 : 202).send({ status: isPartial ? 'partial' : 'success', records });
}

export function registerIngestRoutes(group: FastifyInstance, deps: IngestDeps): void {
  const runTrigger = async (principal: Principal, request: TriggerRequest, runAt: number): Promise<Outcome> => {
    const workspace = workspaceOf(principal);
    const result =
      runAt > deps.now() ? await deps.delivery.schedule(workspace, request, runAt) : await deps.delivery.trigger(workspace, request);
    return { status: 'success', message_id: result.message_id, status_code: 202 };
  };

  group.post('/trigger', async (request, reply) => {
    const principal = requirePrincipal(request);
    const body = request.body;
    if (Array.isArray(body)) {
      checkBulk(body, MAX_BULK_TRIGGERS);
      const records: Outcome[] = [];
      for (const item of body) records.push(await runTrigger(principal, parseTriggerRequest(item), 0).catch(asRecord));
      return sendRecords(reply, records);
    }
    const outcome = await runTrigger(principal, parseTriggerRequest(body), 0);
    return reply.code(202).send({ status: 'success', message_id: outcome.status === 'success' ? outcome.message_id : null });
  });

  group.post<{ Params: { wsKey: string } }>('/:wsKey/trigger', async (request, reply) => {
    const principal = requirePrincipal(request);
    checkPathKey(request, principal);
    const body = request.body;
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body)) checkBulk(body, MAX_BULK_TRIGGERS);
    const records: Outcome[] = [];
    for (const item of items) {
      const run = async () => runTrigger(principal, parseLegacyWorkflow(item), parseSchedule(item as Record<string, unknown>, deps.now()));
      // A single legacy trigger reports errors as an error response; a bulk one per record.
      records.push(Array.isArray(body) ? await run().catch(asRecord) : await run());
    }
    if (Array.isArray(body)) return sendRecords(reply, records);
    const first = records[0];
    return reply.code(202).send({ status: 'success', message_id: first?.status === 'success' ? first.message_id : null });
  });

  group.post<{ Params: { wsKey: string } }>('/:wsKey/broadcast', async (request, reply) => {
    const principal = requirePrincipal(request);
    checkPathKey(request, principal);
    const broadcast = parseBroadcast(request.body);
    const runAt = parseSchedule(request.body as Record<string, unknown>, deps.now());
    if (!(await deps.listExists(principal.workspaceId, broadcast.listId))) {
      throw new AppError('NOT_FOUND', `list "${broadcast.listId}" not found; create it with subscriber_lists.create`);
    }
    const result = await deps.delivery.broadcast(workspaceOf(principal), broadcast, runAt);
    return reply.code(202).send({ status: 'success', message_id: result.message_id });
  });

  const recordEvent = async (principal: Principal, item: unknown): Promise<Outcome> => {
    const { id } = await deps.events.record(workspaceOf(principal), parseEvent(item));
    return { status: 'success', message_id: id, status_code: 202 };
  };

  const eventRoute = (bulkOnly: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = requirePrincipal(request);
    const body = request.body;
    if (Array.isArray(body)) {
      checkBulk(body, MAX_BULK_EVENTS);
      const records: Outcome[] = [];
      for (const item of body) records.push(await recordEvent(principal, item).catch(asRecord));
      // Android 1.x dequeues a batch on 202 only and resends anything else, so one record refused
      // for its content would block every later event: a signed client gets 202 and the outcomes.
      if (principal.isSignedClient === true) {
        return reply.code(202).send({ status: records.some((r) => r.status === 'error') ? 'partial' : 'success', records });
      }
      return sendRecords(reply, records);
    }
    if (bulkOnly) throw new AppError('VALIDATION_FAILED', 'send a list of events to /v2/bulk/event/');
    const outcome = await recordEvent(principal, body);
    return reply.code(202).send({ status: 'success', message_id: outcome.status === 'success' ? outcome.message_id : null });
  };

  group.post('/event', eventRoute(false));
  group.post('/v2/bulk/event', eventRoute(true));
}

/**
 * `POST /v2/event` is shared: the Python and Go backend SDKs send signed events there, and the web
 * SDK sends its events there with a public key (+ user token). The credential tells them apart.
 */
export function registerSharedEventRoute(group: FastifyInstance, deps: Pick<IngestDeps, 'events'>): void {
  group.post('/v2/event', async (request, reply) => {
    const principal = requirePrincipal(request);
    if (principal.kind !== 'public_key') {
      if (Array.isArray(request.body)) throw new AppError('VALIDATION_FAILED', 'send a list of events to /v2/bulk/event/');
      const { id } = await deps.events.record(workspaceOf(principal), parseEvent(request.body));
      return reply.code(202).send({ status: 'success', message_id: id });
    }
    const event = parseClientEvent(request.body);
    // The token's user only, and only inside its tenant scope; an event without tenant_id is user-level.
    const { distinctId } = requireSubscriber(request, event.distinctId);
    if (event.tenantId !== undefined) requireTenant(principal, event.tenantId);
    const { id } = await deps.events.record(workspaceOf(principal), { ...event, distinctId });
    return reply.code(202).send({ status: 'success', message_id: id });
  });
}
