import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/audit.types.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { recordChange } from './change-log.repo.js';
import type { SecretBox } from './encryption.js';
import { generateWorkspaceSecret, type WorkspaceMode } from './key-format.js';
import { findCurrentSecret, findValidSecrets, insertSecret, retireForRotation } from './secrets.repo.js';

const TABLE = 'workspace_secrets';

export interface ValidSecret {
  secret: string;
  /** null for the current secret; end of grace period for a rotated-out one. */
  expiresAt: number | null;
}

export interface RotatedSecret {
  workspace_secret: string;
  previous_valid_until: number | null;
}

export class WorkspaceSecretService {
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  static aadFor(workspaceId: string, secretId: string): string {
    // Binds each ciphertext to its row: moved to another workspace it no longer decrypts.
    return `herald/workspace-secret/${workspaceId}/${secretId}`;
  }

  /** Issues the first secret of a new workspace inside the caller's transaction. */
  async issueInitial(trx: Kysely<Database>, workspace: { id: string; mode: WorkspaceMode }): Promise<void> {
    const id = newId('secret');
    const secret = generateWorkspaceSecret(workspace.mode);
    await insertSecret(trx, TABLE, {
      id,
      workspace_id: workspace.id,
      secret_enc: this.box.encrypt(secret, WorkspaceSecretService.aadFor(workspace.id, id)),
      created_at: this.clock.now(),
      expires_at: null,
    });
  }

  /** The current secret, for Herald's own use (signing webhooks). Showing it to someone goes through revealTo. */
  async reveal(workspaceId: string): Promise<string> {
    const row = await findCurrentSecret(this.db, TABLE, workspaceId);
    if (!row) throw new AppError('INTERNAL', 'workspace has no current secret; rotate it to issue one');
    return this.box.decrypt(row.secret_enc, WorkspaceSecretService.aadFor(workspaceId, row.id));
  }

  /** The current secret, shown to `actor`: audited first, so an unrecorded disclosure cannot happen. */
  async revealTo(workspaceId: string, actor: AuditActor): Promise<string> {
    const row = await findCurrentSecret(this.db, TABLE, workspaceId);
    if (!row) throw new AppError('INTERNAL', 'workspace has no current secret; rotate it to issue one');
    await this.audit.record(
      auditEntry(actor, { workspaceId, action: 'workspace_secret.revealed', targetType: 'workspace_secret', targetId: row.id }),
    );
    return this.box.decrypt(row.secret_enc, WorkspaceSecretService.aadFor(workspaceId, row.id));
  }

  /** The secrets an HMAC signature may be made with right now: the current one plus any in grace. */
  async validSecrets(workspaceId: string): Promise<ValidSecret[]> {
    const rows = await findValidSecrets(this.db, TABLE, workspaceId, this.clock.now());
    return rows.map((row) => ({
      secret: this.box.decrypt(row.secret_enc, WorkspaceSecretService.aadFor(workspaceId, row.id)),
      expiresAt: row.expires_at,
    }));
  }

  /**
   * Issues a new current secret. The one it replaces stays valid for `graceMs` (0 ends it now);
   * anything older that was still in grace ends now, so at most two secrets are ever valid.
   */
  async rotate(workspace: { id: string; mode: WorkspaceMode }, graceMs: number, actor: AuditActor = SYSTEM_ACTOR): Promise<RotatedSecret> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0)
      throw new AppError('VALIDATION_FAILED', 'grace period must be a non-negative duration');
    const now = this.clock.now();
    const secret = generateWorkspaceSecret(workspace.mode);
    const id = newId('secret');
    let previousValidUntil: number | null = null;
    await this.db.transaction().execute(async (trx) => {
      previousValidUntil = await retireForRotation(trx, TABLE, workspace.id, graceMs, now);
      await insertSecret(trx, TABLE, {
        id,
        workspace_id: workspace.id,
        secret_enc: this.box.encrypt(secret, WorkspaceSecretService.aadFor(workspace.id, id)),
        created_at: now,
        expires_at: null,
      });
      await recordChange(trx, { workspaceId: workspace.id, entity: 'workspace_secret', entityId: id, at: now });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'workspace_secret.rotated',
          targetType: 'workspace_secret',
          targetId: id,
          details: { grace_ms: graceMs, previous_valid_until: previousValidUntil },
        }),
        trx,
      );
    });
    return { workspace_secret: secret, previous_valid_until: previousValidUntil };
  }
}
