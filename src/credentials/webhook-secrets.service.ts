import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/audit.types.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { SecretBox } from './encryption.js';
import { generateWebhookSecret, type WorkspaceMode } from './key-format.js';
import { findValidSecrets, hasAnySecret, insertSecret, retireForRotation } from './secrets.repo.js';
import type { WorkspaceSecretService } from './workspace-secrets.service.js';

/**
 * The secret outbound webhooks are signed with, one per workspace and apart from the workspace
 * secret: a receiver holds nothing that can call the API, and rotating one secret leaves the other
 * alone. Shown exactly once, when it is made (`roll`); stored encrypted like the workspace secret.
 * During a roll's grace period webhooks carry a signature with each valid secret, so receivers can
 * switch over at their own pace.
 *
 * A workspace made before webhook secrets existed has none: its webhooks are signed with the
 * workspace secret, as they were, until its first roll, whose grace period then covers that one.
 */

const TABLE = 'webhook_secrets';

export interface RolledWebhookSecret {
  webhook_secret: string;
  /** When the secret it replaced stops signing (null: there was none). */
  previous_valid_until: number | null;
}

export interface WebhookSecretStatus {
  /** false: webhooks are still signed with the workspace secret (a workspace older than webhook secrets). */
  has_own_secret: boolean;
  current: { id: string; created_at: number } | null;
  /** Rolled-out secrets that still sign, until `valid_until`. */
  previous: Array<{ id: string; created_at: number; valid_until: number }>;
}

export class WebhookSecretService {
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly workspaceSecrets: WorkspaceSecretService,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  static aadFor(workspaceId: string, secretId: string): string {
    return `herald/webhook-secret/${workspaceId}/${secretId}`;
  }

  /** Issues the first webhook secret of a new workspace inside the caller's transaction. */
  async issueInitial(trx: Kysely<Database>, workspace: { id: string; mode: WorkspaceMode }): Promise<void> {
    await this.insert(trx, workspace.id, generateWebhookSecret(workspace.mode), this.clock.now(), null);
  }

  /** Every secret a webhook is signed with right now, the current one first. */
  async signingSecrets(workspaceId: string): Promise<string[]> {
    const rows = await findValidSecrets(this.db, TABLE, workspaceId, this.clock.now());
    if (rows.length === 0 && !(await hasAnySecret(this.db, TABLE, workspaceId))) return [await this.workspaceSecrets.reveal(workspaceId)];
    return rows.map((row) => this.box.decrypt(row.secret_enc, WebhookSecretService.aadFor(workspaceId, row.id)));
  }

  /** What may be shown about the workspace's webhook secrets: ids and times, never a secret. */
  async status(workspaceId: string): Promise<WebhookSecretStatus> {
    const rows = await findValidSecrets(this.db, TABLE, workspaceId, this.clock.now());
    const current = rows.find((row) => row.expires_at === null);
    return {
      has_own_secret: rows.length > 0 || (await hasAnySecret(this.db, TABLE, workspaceId)),
      current: current ? { id: current.id, created_at: current.created_at } : null,
      previous: rows
        .filter((row) => row.expires_at !== null)
        .map((row) => ({ id: row.id, created_at: row.created_at, valid_until: row.expires_at as number })),
    };
  }

  /**
   * Makes a new current webhook secret and returns it (the only time it is shown). The one it
   * replaces keeps signing for `graceMs` (0: it stops now); a workspace still on the workspace
   * secret keeps that signature for the grace period instead.
   */
  async roll(
    workspace: { id: string; mode: WorkspaceMode },
    graceMs: number,
    actor: AuditActor = SYSTEM_ACTOR,
  ): Promise<RolledWebhookSecret> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0)
      throw new AppError('VALIDATION_FAILED', 'grace period must be a non-negative duration');
    const now = this.clock.now();
    const secret = generateWebhookSecret(workspace.mode);
    // Read before the transaction: on SQLite it holds the one connection.
    const legacy = (await hasAnySecret(this.db, TABLE, workspace.id)) ? null : await this.workspaceSecrets.reveal(workspace.id);
    return this.db.transaction().execute(async (trx) => {
      let previousValidUntil: number | null;
      if (legacy === null || (await hasAnySecret(trx, TABLE, workspace.id))) {
        previousValidUntil = await retireForRotation(trx, TABLE, workspace.id, graceMs, now);
      } else {
        // Receivers of a workspace older than webhook secrets verify with its workspace secret:
        // that signature goes on for the grace period, as a rolled-out webhook secret.
        previousValidUntil = graceMs > 0 ? now + graceMs : null;
        if (previousValidUntil !== null) await this.insert(trx, workspace.id, legacy, now - 1, previousValidUntil);
      }
      const id = await this.insert(trx, workspace.id, secret, now, null);
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'webhook_secret.rolled',
          targetType: 'webhook_secret',
          targetId: id,
          details: { grace_ms: graceMs, previous_valid_until: previousValidUntil },
        }),
        trx,
      );
      return { webhook_secret: secret, previous_valid_until: previousValidUntil };
    });
  }

  private async insert(trx: Kysely<Database>, workspaceId: string, secret: string, createdAt: number, expiresAt: number | null) {
    const id = newId('webhookSecret');
    await insertSecret(trx, TABLE, {
      id,
      workspace_id: workspaceId,
      secret_enc: this.box.encrypt(secret, WebhookSecretService.aadFor(workspaceId, id)),
      created_at: createdAt,
      expires_at: expiresAt,
    });
    return id;
  }
}
