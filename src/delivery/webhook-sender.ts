import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { isPlainObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import { claimDueWebhooks, finishWebhook, type WebhookRow } from './delivery.repo.js';
import { postWebhook, type WebhookTargetPolicy } from './webhook-target.js';

/**
 * Sends queued webhook steps. Each POST is signed so the receiver can check it came from Herald:
 *   x-herald-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, "<t>.<raw body>")>
 * with one `v1=` per valid webhook secret (the current one first; a rolled-out one during its grace).
 * Failures are retried with exponential backoff (10 s, 20 s, … capped at 1 h) up to MAX_ATTEMPTS.
 * Targets on private, loopback and link-local addresses are refused (src/delivery/webhook-target.ts).
 */

export const MAX_ATTEMPTS = 8;
const POLL_MS = 500;
const LEASE_MS = 60_000;
const BATCH = 10;
const TIMEOUT_MS = 10_000;
const BASE_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 3_600_000;

export function signWebhook(secrets: readonly string[], timestampS: number, body: string): string {
  const signatures = secrets.map((secret) => `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`);
  return [`t=${timestampS}`, ...signatures].join(',');
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

export class WebhookSender {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly secretsFor: (workspaceId: string) => Promise<string[]>,
    private readonly log: Logger,
    private readonly targets: WebhookTargetPolicy,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.kick(), POLL_MS);
    this.#timer.unref();
  }

  /** Runs a round now unless one is in progress (called when a trigger queues webhooks). */
  kick(): void {
    if (this.#running) return;
    this.#running = this.runOnce()
      .then(() => undefined)
      .catch((error: unknown) => this.log.warn({ err: error }, 'webhook round failed'))
      .finally(() => {
        this.#running = undefined;
      });
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async runOnce(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await claimDueWebhooks(this.deps.db, this.deps.engine, now, LEASE_MS, BATCH);
    await Promise.all(due.map((row) => this.send(row)));
    return due.length;
  }

  private async send(row: WebhookRow): Promise<void> {
    const stored: unknown = JSON.parse(row.payload);
    const headers = isPlainObject(stored) && isPlainObject(stored['headers']) ? (stored['headers'] as Record<string, string>) : {};
    const body = JSON.stringify(isPlainObject(stored) ? stored['body'] : stored);
    let error: string | null = null;
    try {
      const secrets = await this.secretsFor(row.workspace_id);
      const timestampS = Math.floor(this.deps.clock.now() / 1000);
      const status = await postWebhook(
        row.url,
        {
          ...headers,
          'content-type': 'application/json',
          'user-agent': 'Herald-Webhook/1',
          'x-herald-webhook-id': row.id,
          'x-herald-signature': signWebhook(secrets, timestampS, body),
        },
        body,
        this.targets,
        TIMEOUT_MS,
      );
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (failure) {
      const name = (failure as Error).name;
      error = name === 'TimeoutError' || name === 'AbortError' ? `timed out after ${TIMEOUT_MS / 1000} s` : (failure as Error).message;
    }
    const now = this.deps.clock.now();
    const isDone = error === null;
    const isGivingUp = !isDone && row.attempts >= MAX_ATTEMPTS;
    if (!isDone)
      this.log.info(
        { webhookId: row.id, attempt: row.attempts, error },
        isGivingUp ? 'webhook failed for good' : 'webhook failed; will retry',
      );
    await finishWebhook(
      this.deps.db,
      { id: row.id, messageId: row.message_id, workspaceId: row.workspace_id },
      {
        status: isDone ? 'sent' : isGivingUp ? 'failed' : 'pending',
        nextAttemptAt: isDone || isGivingUp ? now : now + backoffMs(row.attempts),
        error,
        messageStatus: isDone ? 'sent' : isGivingUp ? 'failed' : 'queued',
      },
      now,
    );
  }
}
