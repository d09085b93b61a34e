import type { JsonObject } from '../lib/json.js';

/**
 * Server → client events of the web SDK's socket (reference/client-sdk-protocol.md §6.1), sent to
 * everyone connected as one user in one tenant of one workspace, on any server process.
 */
export type RealtimeEvent = 'new_notification' | 'notification_update' | 'bulk_notification_update' | 'reset_badge';

export interface RealtimeTarget {
  workspaceId: string;
  distinctId: string;
  tenantId: string;
}

export interface RealtimeNotifier {
  emit(target: RealtimeTarget, event: RealtimeEvent, payload: JsonObject): void;
}
