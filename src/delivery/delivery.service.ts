import type { Kysely } from 'kysely';
import type { GroupCommit } from '../db/group-commit.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { newRecordId } from '../lib/ids.js';
import type { JsonObject } from '../lib/json.js';
import { ObjectService } from '../objects/objects.service.js';
import { applyUpsertPayload, emptyProfile } from '../users/user-operations.js';
import { profileOf, type ServiceDeps, type UserService } from '../users/users.service.js';
import { renderInbox, TemplateError } from '../workflows/render.js';
import type { Workflow, WorkflowService } from '../workflows/workflows.service.js';
import {
  findIdempotentResponse,
  insertExecution,
  insertJob,
  insertMessage,
  insertNotification,
  insertWebhook,
  saveIdempotentResponse,
} from './delivery.repo.js';

/**
 * Turns a trigger into deliveries: one inbox notification per recipient (unless their preferences
 * say otherwise) and one queued webhook per recipient per webhook step. Everything a trigger
 * produces is written in one transaction, so a 2xx means it is durably stored.
 */

export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
export const DEFAULT_TENANT = 'default';
const MAX_RECIPIENTS = 1_000;

/** Keys of a recipient object that describe how to deliver, not the user's profile. */
const RECIPIENT_CONTROL_KEYS = new Set(['distinct_id', 'is_transient', '$channels']);

export interface Recipient {
  distinctId: string;
  /** Profile fields sent along with the recipient (upserted unless transient). */
  profile: JsonObject | null;
  /** `$channels`: deliver only on these channels when given. */
  channels: string[] | null;
  isTransient: boolean;
}

/** An object named in a trigger's recipients: its subscribers are notified; `payload` is upserted onto it. */
export interface ObjectRecipient {
  objectType: string;
  objectId: string;
  payload: JsonObject;
}

export interface TriggerRequest {
  source: 'trigger' | 'legacy_trigger' | 'broadcast' | 'event';
  workflow: string;
  categoryOverride?: string | undefined;
  recipients: Recipient[];
  /** Objects whose subscribers are recipients too (expanded when the trigger runs). */
  objects?: ObjectRecipient[] | undefined;
  data: JsonObject;
  actor: Recipient | null;
  tenantId: string;
  idempotencyKey?: string | undefined;
  cancellationKey?: string | undefined;
}

/**
 * Whether a user should get a category on a channel (their preferences, the tenant's settings),
 * read through `db`: the delivery's transaction.
 */
export type DeliveryGate = (
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  tenantId: string,
  category: string,
  channel: string,
) => Promise<{ deliver: boolean; reason: string }>;

interface Delivered {
  delivered: DeliveredNotification[];
  webhooksQueued: number;
}

export interface DeliveredNotification {
  workspaceId: string;
  distinctId: string;
  tenantId: string;
  notificationId: string;
}

export interface DeliveryHooks {
  /** After commit: inbox notifications now stored (realtime pushes them). */
  onNotifications?: (items: DeliveredNotification[]) => void;
  /** After commit: webhooks were queued (the sender can start early). */
  onWebhooksQueued?: (count: number) => void;
  /** After commit: a background job was queued. */
  onJobQueued?: () => void;
}

export interface Execution {
  id: string;
  source: TriggerRequest['source'];
  workflow: Workflow;
  category: string;
  tenantId: string;
  data: JsonObject;
  actor: Recipient | null;
  cancellationKey: string | null;
}

interface Plan {
  recipient: Recipient;
  isInbox: boolean;
}

export class DeliveryService {
  private readonly objects: ObjectService;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly users: UserService,
    private readonly workflows: WorkflowService,
    private readonly gate: DeliveryGate,
    private readonly writes: GroupCommit,
    private readonly hooks: DeliveryHooks = {},
  ) {
    this.objects = new ObjectService(deps);
  }

  /**
   * Runs a trigger; a repeated idempotency key within 24 h returns the first result and does
   * nothing. `extra` runs inside the trigger's transaction (a delayed trigger's job is marked done
   * there, so a retry can never deliver it twice).
   */
  async trigger(
    workspace: { id: string; slug: string },
    request: TriggerRequest,
    extra: (trx: Kysely<Database>) => Promise<void> = async () => {},
  ): Promise<{ message_id: string; isReplay: boolean }> {
    const objects = request.objects ?? [];
    if (request.recipients.length + objects.length === 0) {
      throw new AppError('VALIDATION_FAILED', 'recipients must list at least one user or object');
    }
    if (request.recipients.length + objects.length > MAX_RECIPIENTS)
      throw new AppError('VALIDATION_FAILED', `at most ${MAX_RECIPIENTS} recipients per trigger`);
    const now = this.deps.clock.now();
    const key = request.idempotencyKey;
    if (key !== undefined) {
      const stored = await findIdempotentResponse(this.deps.db, workspace.id, 'trigger', key, now - IDEMPOTENCY_WINDOW_MS);
      if (stored !== undefined) return { ...(JSON.parse(stored) as { message_id: string }), isReplay: true };
    }
    const executionId = newRecordId('execution');
    let result: Delivered;
    try {
      // The workflow is read inside the unit too: on SQLite every read waits for the one
      // connection, and a read before the unit would keep this trigger out of the running batch.
      result = await this.writes.run(async (trx) => {
        const workflow = await this.workflows.get(workspace.id, request.workflow, trx);
        const execution: Execution = {
          id: executionId,
          source: request.source,
          workflow,
          category: request.categoryOverride ?? workflow.category,
          tenantId: request.tenantId,
          data: request.data,
          actor: request.actor,
          cancellationKey: request.cancellationKey ?? null,
        };
        const recipients = await this.resolveRecipients(trx, workspace.id, request.recipients, objects);
        const delivered = await this.deliverIn(trx, workspace, execution, recipients);
        await insertExecution(trx, {
          id: execution.id,
          workspace_id: workspace.id,
          source: execution.source,
          workflow_slug: workflow.slug,
          category: execution.category,
          tenant_id: execution.tenantId,
          cancellation_key: execution.cancellationKey,
          recipient_count: recipients.length,
          created_at: now,
        });
        if (key !== undefined) {
          const response = JSON.stringify({ message_id: execution.id });
          await saveIdempotentResponse(
            trx,
            { workspace_id: workspace.id, scope: 'trigger', key, response, created_at: now },
            now - IDEMPOTENCY_WINDOW_MS,
          );
        }
        await extra(trx);
        return delivered;
      });
    } catch (error) {
      // Two requests with the same key at once: the loser's transaction rolled back; answer with the winner's result.
      if (key !== undefined) {
        const stored = await findIdempotentResponse(this.deps.db, workspace.id, 'trigger', key, now - IDEMPOTENCY_WINDOW_MS);
        if (stored !== undefined) return { ...(JSON.parse(stored) as { message_id: string }), isReplay: true };
      }
      throw error;
    }
    this.afterCommit(result);
    return { message_id: executionId, isReplay: false };
  }

  /**
   * Stores a trigger to run at `runAt` (legacy `delay` / `trigger_at`). The idempotency key is
   * claimed now, so a repeat before the run is a no-op too.
   */
  async schedule(
    workspace: { id: string; slug: string },
    request: TriggerRequest,
    runAt: number,
  ): Promise<{ message_id: string; isReplay: boolean }> {
    await this.workflows.get(workspace.id, request.workflow);
    return this.enqueue(
      workspace,
      'trigger',
      { workspace, request: { ...request, idempotencyKey: undefined } },
      runAt,
      request.idempotencyKey,
    );
  }

  /** Queues a list broadcast; the job runner delivers it page by page in the background. */
  async broadcast(
    workspace: { id: string; slug: string },
    input: {
      listId: string;
      workflow: string;
      categoryOverride?: string | undefined;
      data: JsonObject;
      channels: string[] | null;
      tenantId: string;
      idempotencyKey?: string | undefined;
    },
    runAt: number,
  ): Promise<{ message_id: string; isReplay: boolean }> {
    const workflow = await this.workflows.get(workspace.id, input.workflow);
    const executionId = newRecordId('execution');
    const category = input.categoryOverride ?? workflow.category;
    return this.enqueue(
      workspace,
      'broadcast',
      {
        workspace,
        executionId,
        listId: input.listId,
        workflow: workflow.slug,
        category,
        data: input.data,
        channels: input.channels,
        tenantId: input.tenantId,
      },
      runAt,
      input.idempotencyKey,
      async (trx) => {
        await insertExecution(trx, {
          id: executionId,
          workspace_id: workspace.id,
          source: 'broadcast',
          workflow_slug: workflow.slug,
          category,
          tenant_id: input.tenantId,
          cancellation_key: null,
          recipient_count: 0,
          created_at: this.deps.clock.now(),
        });
      },
    );
  }

  private async enqueue(
    workspace: { id: string },
    kind: 'trigger' | 'broadcast',
    payload: unknown,
    runAt: number,
    key: string | undefined,
    extra: (trx: Kysely<Database>) => Promise<void> = async () => {},
  ): Promise<{ message_id: string; isReplay: boolean }> {
    const now = this.deps.clock.now();
    const lookup = () => findIdempotentResponse(this.deps.db, workspace.id, 'trigger', key as string, now - IDEMPOTENCY_WINDOW_MS);
    if (key !== undefined) {
      const stored = await lookup();
      if (stored !== undefined) return { ...(JSON.parse(stored) as { message_id: string }), isReplay: true };
    }
    const id = newRecordId('job');
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await insertJob(trx, {
          id,
          workspace_id: workspace.id,
          kind,
          payload: JSON.stringify(payload),
          status: 'pending',
          attempts: 0,
          run_at: runAt,
          locked_until: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        });
        await extra(trx);
        if (key !== undefined) {
          await saveIdempotentResponse(
            trx,
            { workspace_id: workspace.id, scope: 'trigger', key, response: JSON.stringify({ message_id: id }), created_at: now },
            now - IDEMPOTENCY_WINDOW_MS,
          );
        }
      });
    } catch (error) {
      if (key !== undefined) {
        const stored = await lookup();
        if (stored !== undefined) return { ...(JSON.parse(stored) as { message_id: string }), isReplay: true };
      }
      throw error;
    }
    this.hooks.onJobQueued?.();
    return { message_id: id, isReplay: false };
  }

  /**
   * Delivers an execution to a batch of recipients in one transaction. `extra` runs inside that
   * transaction (a broadcast job records its progress there).
   */
  async deliver(
    workspace: { id: string; slug: string },
    execution: Execution,
    recipients: Recipient[],
    extra: (trx: Kysely<Database>) => Promise<void> = async () => {},
  ): Promise<void> {
    const result = await this.writes.run(async (trx) => {
      const delivered = await this.deliverIn(trx, workspace, execution, recipients);
      await extra(trx);
      return delivered;
    });
    this.afterCommit(result);
  }

  /** The hooks of a committed delivery: live updates, an early start of the webhook sender. */
  private afterCommit({ delivered, webhooksQueued }: Delivered): void {
    if (delivered.length > 0) this.hooks.onNotifications?.(delivered);
    if (webhooksQueued > 0) this.hooks.onWebhooksQueued?.(webhooksQueued);
  }

  /**
   * The delivery's reads and writes, inside `trx`: committed together with deliveries that arrive
   * meanwhile (SQLite, see GroupCommit), each in its own savepoint.
   */
  private async deliverIn(
    trx: Kysely<Database>,
    workspace: { id: string; slug: string },
    execution: Execution,
    recipients: Recipient[],
  ): Promise<Delivered> {
    const isInboxStep = execution.workflow.steps.some((s) => s.type === 'inbox');
    const plans: Plan[] = [];
    for (const recipient of recipients) {
      let isInbox = isInboxStep && (recipient.channels === null || recipient.channels.includes('inbox'));
      if (isInbox) {
        const verdict = await this.gate(trx, workspace.id, recipient.distinctId, execution.tenantId, execution.category, 'inbox');
        isInbox = verdict.deliver;
      }
      plans.push({ recipient, isInbox });
    }

    const delivered: DeliveredNotification[] = [];
    let webhooksQueued = 0;
    const now = this.deps.clock.now();
    const actor = execution.actor ? await this.profileFor(trx, workspace.id, execution.actor) : null;
    for (const plan of plans) {
      const recipientProfile = await this.profileFor(trx, workspace.id, plan.recipient);
      const context: JsonObject = {
        data: execution.data,
        recipient: recipientProfile,
        actor,
        tenant_id: execution.tenantId,
        workflow: { slug: execution.workflow.slug, name: execution.workflow.name, category: execution.category },
      };
      for (const step of execution.workflow.steps) {
        const messageId = newRecordId('message');
        const base = {
          id: messageId,
          workspace_id: workspace.id,
          execution_id: execution.id,
          distinct_id: plan.recipient.distinctId,
          tenant_id: execution.tenantId,
          workflow_slug: execution.workflow.slug,
          category: execution.category,
          created_at: now,
          updated_at: now,
        };
        if (step.type === 'inbox') {
          if (!plan.isInbox) continue;
          let rendered;
          try {
            rendered = renderInbox(step.template, context, now);
          } catch (error) {
            if (error instanceof TemplateError) throw new AppError('VALIDATION_FAILED', error.message);
            throw error;
          }
          const notificationId = newRecordId('notification');
          await insertNotification(trx, {
            id: notificationId,
            workspace_id: workspace.id,
            distinct_id: plan.recipient.distinctId,
            tenant_id: execution.tenantId,
            execution_id: execution.id,
            workflow_slug: execution.workflow.slug,
            category: execution.category,
            content: JSON.stringify({
              message: rendered.message,
              is_expiry_visible: rendered.isExpiryVisible,
              can_user_unpin: rendered.canUserUnpin,
            }),
            tags: JSON.stringify(rendered.tags),
            is_pinned: rendered.isPinned ? 1 : 0,
            created_at: now,
            expires_at: rendered.expiresAt,
          });
          await insertMessage(trx, { ...base, channel: 'inbox', status: 'delivered', notification_id: notificationId });
          delivered.push({
            workspaceId: workspace.id,
            distinctId: plan.recipient.distinctId,
            tenantId: execution.tenantId,
            notificationId,
          });
        } else {
          const payload = {
            type: 'workflow.webhook',
            workspace: workspace.slug,
            workflow: execution.workflow.slug,
            category: execution.category,
            execution_id: execution.id,
            message_id: messageId,
            tenant_id: execution.tenantId,
            recipient: recipientProfile,
            actor,
            data: execution.data,
            created_at: now,
          };
          await insertMessage(trx, { ...base, channel: 'webhook', status: 'queued', notification_id: null });
          await insertWebhook(trx, {
            id: newRecordId('webhook'),
            workspace_id: workspace.id,
            message_id: messageId,
            url: step.url,
            payload: JSON.stringify({ headers: step.headers ?? {}, body: payload }),
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            last_error: null,
            created_at: now,
            updated_at: now,
          });
          webhooksQueued++;
        }
      }
    }
    return { delivered, webhooksQueued };
  }

  /**
   * The users a trigger reaches, each once: those it names, then the subscribers of the objects it
   * names (upserted first with the fields sent along). Object fan-out is bounded by the same
   * per-trigger limit as named recipients; past it the trigger is refused, never cut short.
   */
  private async resolveRecipients(
    trx: Kysely<Database>,
    workspaceId: string,
    named: Recipient[],
    objects: ObjectRecipient[],
  ): Promise<Recipient[]> {
    const byId = new Map<string, Recipient>();
    for (const recipient of named) if (!byId.has(recipient.distinctId)) byId.set(recipient.distinctId, recipient);
    if (objects.length === 0) return [...byId.values()];
    for (const object of objects) await this.objects.upsertInline(trx, workspaceId, object.objectType, object.objectId, object.payload);
    const subscribers = await this.objects.fanOut(trx, workspaceId, objects, MAX_RECIPIENTS + 1);
    for (const distinctId of subscribers) {
      if (!byId.has(distinctId)) byId.set(distinctId, { distinctId, profile: null, channels: null, isTransient: false });
    }
    if (byId.size > MAX_RECIPIENTS) {
      throw new AppError(
        'VALIDATION_FAILED',
        `the recipients and the subscribers of the objects come to more than ${MAX_RECIPIENTS} users, the limit per trigger; ` +
          'split the trigger, or put the users in a list and broadcast to it',
      );
    }
    return [...byId.values()];
  }

  /** Upserts a recipient (unless transient) and returns what templates see as `recipient`. */
  private async profileFor(trx: Kysely<Database>, workspaceId: string, recipient: Recipient): Promise<JsonObject> {
    if (recipient.isTransient) {
      const profile = emptyProfile();
      if (recipient.profile) applyUpsertPayload(profile, recipient.profile, RECIPIENT_CONTROL_KEYS);
      return { ...profile.properties, distinct_id: recipient.distinctId };
    }
    const row = await this.users.mutate(trx, workspaceId, recipient.distinctId, (profile) => {
      if (recipient.profile) applyUpsertPayload(profile, recipient.profile, RECIPIENT_CONTROL_KEYS);
    });
    return { ...profileOf(row).properties, distinct_id: recipient.distinctId };
  }
}
