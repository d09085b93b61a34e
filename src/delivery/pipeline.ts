import type { Logger } from 'pino';
import { EventService } from '../ingest/events.service.js';
import type { Herald } from '../runtime.js';
import { UserService } from '../users/users.service.js';
import { WorkflowService } from '../workflows/workflows.service.js';
import { GroupCommit } from '../db/group-commit.js';
import { WebhookTargetPolicy } from './webhook-target.js';
import { DeliveryService, type DeliveredNotification, type DeliveryGate } from './delivery.service.js';
import { JobRunner, type ListMembers } from './job-runner.js';
import { WebhookSender } from './webhook-sender.js';

export interface Pipeline {
  delivery: DeliveryService;
  events: EventService;
  workflows: WorkflowService;
  webhooks: WebhookSender;
  jobs: JobRunner;
  /** Subscribers to stored inbox notifications (realtime). */
  onNotifications: Array<(items: DeliveredNotification[]) => void>;
  /** Subscribers to webhook deliveries queued by a committed delivery (metrics). */
  onWebhooksQueued: Array<(count: number) => void>;
  start(): void;
  stop(): Promise<void>;
}

/** Everything between an accepted trigger and a delivered notification, wired for one process. */
export function createPipeline(herald: Herald, logger: Logger, collaborators: { gate: DeliveryGate; lists: ListMembers }): Pipeline {
  const users = new UserService(herald);
  const workflows = new WorkflowService(herald);
  const webhooks = new WebhookSender(
    herald,
    (workspaceId) => herald.webhookSecrets.signingSecrets(workspaceId),
    logger,
    new WebhookTargetPolicy(herald.config.webhookAllowedHosts),
  );
  const onNotifications: Pipeline['onNotifications'] = [];
  const onWebhooksQueued: Pipeline['onWebhooksQueued'] = [];
  // The hooks run after a commit: what they do is best effort (a live update, an early start), and
  // a failure in one must neither fail the request that committed nor skip the other recipients.
  const afterCommit = (what: string, action: () => void): void => {
    try {
      action();
    } catch (error) {
      logger.error({ err: error }, `after a committed delivery, ${what} failed`);
    }
  };
  const delivery = new DeliveryService(herald, users, workflows, collaborators.gate, new GroupCommit(herald.db, herald.engine), {
    onNotifications: (items) => {
      for (const listener of onNotifications) afterCommit('a notification listener', () => listener(items));
    },
    onWebhooksQueued: (count) => {
      for (const listener of onWebhooksQueued) afterCommit('a webhook listener', () => listener(count));
      afterCommit('starting the webhook sender', () => webhooks.kick());
    },
    // Called only after a request commits, by which time `runner` exists.
    onJobQueued: () => afterCommit('starting the job runner', () => runner.kick()),
  });
  const runner = new JobRunner(herald, delivery, workflows, collaborators.lists, logger, herald.config.jobLeaseMs);
  return {
    delivery,
    events: new EventService(herald, users),
    workflows,
    webhooks,
    jobs: runner,
    onNotifications,
    onWebhooksQueued,
    start() {
      webhooks.start();
      runner.start();
    },
    async stop() {
      await runner.stop();
      await webhooks.stop();
    },
  };
}
