import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/audit.types.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { recordChange } from './change-log.repo.js';
import { markRevoked } from './revocation.repo.js';
import { findSigningKeyById, insertSigningKey, listActiveSigningKeys, listSigningKeys, type SigningKeyRow } from './signing-keys.repo.js';
import { generateSigningKey, readPublicSigningKey, SigningKeyFormatError, thumbprintOf } from './signing-keys.js';

export interface SigningKeyView {
  id: string;
  kid: string;
  name: string;
  algorithm: 'ES256';
  source: 'generated' | 'imported';
  status: 'active' | 'revoked';
  public_key_pem: string;
  created_at: number;
  revoked_at: number | null;
}

export interface CreatedSigningKey extends SigningKeyView {
  /** PKCS#8 PEM of the private key. Shown exactly once, never stored. */
  pem: string;
  /** Base64 of the PEM text (starts LS0tLS1CRUdJTi). Shown exactly once, never stored. */
  base64: string;
}

const MAX_NAME_CHARS = 100;

function toView(row: SigningKeyRow): SigningKeyView {
  return {
    id: row.id,
    kid: row.id,
    name: row.name,
    algorithm: 'ES256',
    source: row.source,
    status: row.revoked_at === null ? 'active' : 'revoked',
    public_key_pem: row.public_key_pem,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_CHARS)
    throw new AppError('VALIDATION_FAILED', `signing key name must be 1-${MAX_NAME_CHARS} characters`);
  return trimmed;
}

export class SigningKeyService {
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  /** Several keys may be active at once, so a new key can be rolled out before the old one is revoked. */
  async create(
    workspace: { id: string },
    input: { name?: string | undefined },
    actor: AuditActor = SYSTEM_ACTOR,
  ): Promise<CreatedSigningKey> {
    const name = checkName(input.name ?? 'Signing key');
    const generated = await generateSigningKey();
    const row: SigningKeyRow = {
      id: generated.kid,
      workspace_id: workspace.id,
      name,
      public_key_pem: generated.publicKeyPem,
      source: 'generated',
      created_at: this.clock.now(),
      revoked_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      await insertSigningKey(trx, row);
      // Running servers cache each workspace's active key list: tell them it grew.
      await recordChange(trx, { workspaceId: workspace.id, entity: 'signing_key', entityId: row.id, at: row.created_at });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'signing_key.created',
          targetType: 'signing_key',
          targetId: row.id,
          details: { name, algorithm: 'ES256' },
        }),
        trx,
      );
    });
    return { ...toView(row), pem: generated.privateKeyPem, base64: generated.privateKeyBase64 };
  }

  /** Registers a customer's own ES256 public key. */
  async import(
    workspace: { id: string },
    input: { publicKeyPem: string; name?: string | undefined },
    actor: AuditActor = SYSTEM_ACTOR,
  ): Promise<SigningKeyView> {
    const name = checkName(input.name ?? 'Imported key');
    let parsed: ReturnType<typeof readPublicSigningKey>;
    try {
      parsed = readPublicSigningKey(input.publicKeyPem);
    } catch (error) {
      if (error instanceof SigningKeyFormatError) throw new AppError('VALIDATION_FAILED', error.message);
      throw error;
    }
    const kid = await thumbprintOf(parsed.key);
    const row: SigningKeyRow = {
      id: kid,
      workspace_id: workspace.id,
      name,
      public_key_pem: parsed.pem,
      source: 'imported',
      created_at: this.clock.now(),
      revoked_at: null,
    };
    return this.db.transaction().execute(async (trx) => {
      if (await findSigningKeyById(trx, kid)) {
        throw new AppError('CONFLICT', `this public key is already registered (kid ${kid}); use a separate key pair for each workspace`);
      }
      await insertSigningKey(trx, row);
      await recordChange(trx, { workspaceId: workspace.id, entity: 'signing_key', entityId: row.id, at: row.created_at });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'signing_key.imported',
          targetType: 'signing_key',
          targetId: row.id,
          details: { name, algorithm: 'ES256' },
        }),
        trx,
      );
      return toView(row);
    });
  }

  async list(workspaceId: string): Promise<SigningKeyView[]> {
    return (await listSigningKeys(this.db, workspaceId)).map(toView);
  }

  async listActive(workspaceId: string): Promise<Array<{ kid: string; publicKeyPem: string }>> {
    return (await listActiveSigningKeys(this.db, workspaceId)).map((row) => ({ kid: row.id, publicKeyPem: row.public_key_pem }));
  }

  async revoke(workspace: { id: string; slug: string }, kid: string, actor: AuditActor = SYSTEM_ACTOR): Promise<SigningKeyView> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await findSigningKeyById(trx, kid);
      if (!row || row.workspace_id !== workspace.id)
        throw new AppError('NOT_FOUND', `no signing key "${kid}" in workspace "${workspace.slug}"`);
      if (row.revoked_at !== null) return toView(row);
      await markRevoked(trx, 'signing_keys', workspace.id, kid, now);
      await recordChange(trx, { workspaceId: workspace.id, entity: 'signing_key', entityId: kid, at: now });
      await this.audit.record(
        auditEntry(actor, {
          workspaceId: workspace.id,
          action: 'signing_key.revoked',
          targetType: 'signing_key',
          targetId: kid,
          details: { name: row.name },
        }),
        trx,
      );
      return toView({ ...row, revoked_at: now });
    });
  }
}
