import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { parseBroadcastRunFilter, parseWorkflowRunFilter, type CancellationService } from '../delivery/cancellation.service.js';

/**
 * `POST /v1/workflow_run/cancel/` and `/v1/broadcast_run/cancel/`: answer 200
 * `{"execution_ids": [...]}` as SuprSend does, an empty list when nothing matched.
 */
export function registerCancelRoutes(group: FastifyInstance, cancellation: CancellationService): void {
  group.post('/v1/workflow_run/cancel', async (request) =>
    cancellation.cancelWorkflowRuns(requirePrincipal(request).workspaceId, parseWorkflowRunFilter(request.body)),
  );

  group.post('/v1/broadcast_run/cancel', async (request) =>
    cancellation.cancelBroadcastRuns(requirePrincipal(request).workspaceId, parseBroadcastRunFilter(request.body)),
  );
}
