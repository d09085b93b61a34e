import { AppError } from '../lib/errors.js';
import { newRecordId } from '../lib/ids.js';
import { applyOperation } from '../users/user-operations.js';
import type { ServiceDeps, UserService } from '../users/users.service.js';
import { findEventIdByInsertId, insertEvent } from './events.repo.js';
import type { IncomingEvent } from './ingest.parse.js';

export class EventService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly users: UserService,
  ) {}

  /**
   * Records one event, once per user and `$insert_id`. Identity events edit the user's profile. `workspaceKey` guards the body's `env`: an event addressed to another workspace
   * is refused rather than silently filed under the caller's.
   */
  async record(workspace: { id: string; workspaceKey: string }, event: IncomingEvent): Promise<{ id: string }> {
    if (event.env !== undefined && event.env !== workspace.workspaceKey) {
      throw new AppError('VALIDATION_FAILED', "env does not match this workspace's key; send events with this workspace's key");
    }
    const now = this.deps.clock.now();
    const id = newRecordId('event');
    const insertId = event.insertId ?? id;
    if (event.kind === 'identity') {
      // Recorded like any event, in the transaction that applies it: a resent identity event
      // (same user, same $insert_id) is not applied twice ($add would count again).
      const isNew = await this.deps.db.transaction().execute(async (trx) => {
        const recorded = await insertEvent(trx, {
          id,
          workspace_id: workspace.id,
          insert_id: insertId,
          distinct_id: event.distinctId,
          event: '$identify',
          tenant_id: event.tenantId ?? null,
          properties: JSON.stringify(event.operations),
          time: now,
          created_at: now,
        });
        if (!recorded) return false;
        await this.users.mutate(trx, workspace.id, event.distinctId, (profile) => {
          for (const operation of event.operations) applyOperation(profile, operation);
        });
        return true;
      });
      return { id: isNew ? (event.insertId ?? id) : (event.insertId as string) };
    }
    const isNew = await insertEvent(this.deps.db, {
      id,
      workspace_id: workspace.id,
      insert_id: insertId,
      distinct_id: event.distinctId,
      event: event.event,
      tenant_id: event.tenantId ?? null,
      properties: JSON.stringify(event.properties),
      time: event.time ?? now,
      created_at: now,
    });
    if (isNew) return { id };
    return { id: (await findEventIdByInsertId(this.deps.db, workspace.id, event.distinctId, insertId)) ?? id };
  }
}
