import type { Kysely } from 'kysely';
import { AuditService, auditEntry } from '../audit/audit.service.js';
import { SYSTEM_ACTOR, type AUDIT_ACTIONS, type AuditActor } from '../audit/audit.types.js';
import { recordChange } from '../credentials/change-log.repo.js';
import { MasterKeyError, type SecretBox } from '../credentials/encryption.js';
import { generateWorkspaceKey, type WorkspaceMode } from '../credentials/key-format.js';
import type { WebhookSecretService } from '../credentials/webhook-secrets.service.js';
import type { WorkspaceSecretService } from '../credentials/workspace-secrets.service.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import {
  findOrganisation,
  findWorkspaceById,
  findWorkspaceByKey,
  findWorkspaceBySlug,
  insertOrganisation,
  insertWorkspace,
  listWorkspaces,
  readMeta,
  setWorkspaceSwitch,
  writeMeta,
  type WorkspaceRow,
  type WorkspaceSwitch,
} from './workspaces.repo.js';

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  mode: WorkspaceMode;
  workspaceKey: string;
  isEnhancedSecurity: boolean;
  /** Switch "allow key+secret signed client calls": accepted even with enhanced security on (auth/hmac.ts). */
  allowsSignedClients: boolean;
  createdAt: number;
}

export interface CreateWorkspaceInput {
  slug: string;
  name?: string | undefined;
  mode?: WorkspaceMode | undefined;
  isEnhancedSecurity?: boolean | undefined;
}

const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MASTER_KEY_FINGERPRINT = 'master_key_fingerprint';

/** Workspaces every fresh installation starts with: testing and production kept apart. */
const DEFAULT_WORKSPACES: ReadonlyArray<Required<CreateWorkspaceInput>> = [
  { slug: 'staging', name: 'Staging', mode: 'test', isEnhancedSecurity: false },
  { slug: 'production', name: 'Production', mode: 'live', isEnhancedSecurity: true },
];

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    mode: row.mode,
    workspaceKey: row.workspace_key,
    isEnhancedSecurity: row.enhanced_security === 1,
    allowsSignedClients: row.allow_signed_clients === 1,
    createdAt: row.created_at,
  };
}

function titleCase(slug: string): string {
  return slug
    .split('-')
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join(' ');
}

export class WorkspaceService {
  private readonly audit: AuditService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly secrets: WorkspaceSecretService,
    private readonly webhookSecrets: WebhookSecretService,
    private readonly clock: Clock,
    audit?: AuditService,
  ) {
    this.audit = audit ?? new AuditService(db, clock);
  }

  /**
   * First start: records the master key's fingerprint and creates the organisation and the default
   * workspaces, all in one transaction. Later starts check the master key matches. Returns true
   * when this call did the bootstrap.
   */
  async bootstrap(): Promise<boolean> {
    const fingerprint = this.box.fingerprint();
    const stored = await readMeta(this.db, MASTER_KEY_FINGERPRINT);
    if (stored !== undefined) {
      this.assertFingerprint(stored, fingerprint);
      return false;
    }
    try {
      await this.db.transaction().execute(async (trx) => {
        // The meta row's primary key makes concurrent first starts collide here, not later.
        await writeMeta(trx, MASTER_KEY_FINGERPRINT, fingerprint);
        const orgId = newId('organisation');
        await insertOrganisation(trx, { id: orgId, name: 'Default organisation', created_at: this.clock.now() });
        for (const spec of DEFAULT_WORKSPACES) await this.insert(trx, orgId, spec, SYSTEM_ACTOR);
      });
      return true;
    } catch (error) {
      const winner = await readMeta(this.db, MASTER_KEY_FINGERPRINT);
      if (winner === undefined) throw error;
      this.assertFingerprint(winner, fingerprint);
      return false;
    }
  }

  private assertFingerprint(stored: string, actual: string): void {
    if (stored !== actual) {
      throw new MasterKeyError(
        'the master key does not match the one this database was created with ' +
          `(fingerprint ${actual}, database expects ${stored}); set HERALD_MASTER_KEY to the original key`,
      );
    }
  }

  private async insert(trx: Kysely<Database>, orgId: string, spec: Required<CreateWorkspaceInput>, actor: AuditActor): Promise<Workspace> {
    const row: WorkspaceRow = {
      id: newId('workspace'),
      org_id: orgId,
      slug: spec.slug,
      name: spec.name,
      mode: spec.mode,
      workspace_key: generateWorkspaceKey(spec.mode),
      enhanced_security: spec.isEnhancedSecurity ? 1 : 0,
      allow_signed_clients: 0,
      created_at: this.clock.now(),
    };
    await insertWorkspace(trx, row);
    await this.secrets.issueInitial(trx, { id: row.id, mode: row.mode });
    await this.webhookSecrets.issueInitial(trx, { id: row.id, mode: row.mode });
    await this.audit.record(
      auditEntry(actor, {
        workspaceId: row.id,
        action: 'workspace.created',
        targetType: 'workspace',
        targetId: row.id,
        details: { slug: row.slug, mode: row.mode, enhanced_security: spec.isEnhancedSecurity },
      }),
      trx,
    );
    return toWorkspace(row);
  }

  async create(input: CreateWorkspaceInput, actor: AuditActor = SYSTEM_ACTOR): Promise<Workspace> {
    if (!SLUG_RE.test(input.slug)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `invalid workspace slug "${input.slug}": use 1-63 lower-case letters, digits and dashes, starting with a letter or digit`,
      );
    }
    const mode = input.mode ?? 'test';
    const spec: Required<CreateWorkspaceInput> = {
      slug: input.slug,
      name: input.name?.trim() || titleCase(input.slug),
      mode,
      isEnhancedSecurity: input.isEnhancedSecurity ?? mode === 'live',
    };
    return this.db.transaction().execute(async (trx) => {
      if (await findWorkspaceBySlug(trx, spec.slug)) {
        throw new AppError('CONFLICT', `workspace "${spec.slug}" already exists; pick another slug`);
      }
      const org = await findOrganisation(trx);
      if (!org) throw new AppError('INTERNAL', 'no organisation: the database was not bootstrapped');
      return this.insert(trx, org.id, spec, actor);
    });
  }

  async list(): Promise<Workspace[]> {
    return (await listWorkspaces(this.db)).map(toWorkspace);
  }

  /** Looks a workspace up by slug, id or workspace key. */
  async get(ref: string): Promise<Workspace> {
    const row =
      (await findWorkspaceBySlug(this.db, ref)) ?? (await findWorkspaceById(this.db, ref)) ?? (await findWorkspaceByKey(this.db, ref));
    if (!row) throw new AppError('NOT_FOUND', `unknown workspace "${ref}" (herald workspace list shows the slugs)`);
    return toWorkspace(row);
  }

  async findByKey(workspaceKey: string): Promise<Workspace | undefined> {
    const row = await findWorkspaceByKey(this.db, workspaceKey);
    return row ? toWorkspace(row) : undefined;
  }

  async findById(id: string): Promise<Workspace | undefined> {
    const row = await findWorkspaceById(this.db, id);
    return row ? toWorkspace(row) : undefined;
  }

  /** The installation's identity: the same for every process on one database, different for another database. */
  async organisationId(): Promise<string> {
    const org = await findOrganisation(this.db);
    if (!org) throw new AppError('INTERNAL', 'no organisation: the database was not bootstrapped');
    return org.id;
  }

  async setEnhancedSecurity(ref: string, isOn: boolean, actor: AuditActor = SYSTEM_ACTOR): Promise<Workspace> {
    const workspace = await this.get(ref);
    await this.setSwitch(workspace, 'enhanced_security', isOn, actor, {
      action: isOn ? 'enhanced_security.enabled' : 'enhanced_security.disabled',
      details: { was: workspace.isEnhancedSecurity },
    });
    return { ...workspace, isEnhancedSecurity: isOn };
  }

  /** The switch "allow key+secret signed client calls" (web-sdk 1.x, Android 1.x, iOS legacy); audited like enhanced security. */
  async setSignedClients(ref: string, isAllowed: boolean, actor: AuditActor = SYSTEM_ACTOR): Promise<Workspace> {
    const workspace = await this.get(ref);
    await this.setSwitch(workspace, 'allow_signed_clients', isAllowed, actor, {
      action: isAllowed ? 'signed_clients.allowed' : 'signed_clients.refused',
      details: { was: workspace.allowsSignedClients, enhanced_security: workspace.isEnhancedSecurity },
    });
    return { ...workspace, allowsSignedClients: isAllowed };
  }

  /** One switch, its change-feed entry (every server applies it within a poll) and its audit entry, in one transaction. */
  private async setSwitch(
    workspace: Workspace,
    name: WorkspaceSwitch,
    isOn: boolean,
    actor: AuditActor,
    audit: { action: (typeof AUDIT_ACTIONS)[number]; details: Record<string, unknown> },
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await setWorkspaceSwitch(trx, workspace.id, name, isOn);
      await recordChange(trx, { workspaceId: workspace.id, entity: 'workspace', entityId: workspace.id, at: this.clock.now() });
      await this.audit.record(
        auditEntry(actor, { workspaceId: workspace.id, targetType: 'workspace', targetId: workspace.id, ...audit }),
        trx,
      );
    });
  }
}
