import type { Kysely } from 'kysely';
import { redactSecrets } from '../credentials/redact.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { decodeTimeCursor, encodeTimeCursor } from '../lib/cursor.js';
import { AppError } from '../lib/errors.js';
import { insertAuditRow, listAuditRows, type AuditRow } from './audit.repo.js';
import type { AuditActor, AuditActorType, AuditEntry, AuditSink } from './audit.types.js';

export interface AuditEntryView {
  id: number;
  time: number;
  workspace_id: string | null;
  actor: { type: AuditActorType; id: string | null; label: string };
  action: string;
  target: { type: string; id: string | null } | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  entries: AuditEntryView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const MAX_DETAILS_CHARS = 8_000;
const MAX_TEXT_CHARS = 500;
const ACTOR_TYPES: readonly AuditActorType[] = ['account', 'service_token', 'cli', 'system', 'anonymous'];
/** Detail keys whose values are never kept, whatever the caller passes. */
const SECRET_KEY_RE = /secret|password|passphrase|private|pem|base64|token$|^key$|^api_key$|cookie|session/i;

function clip(text: string, max = MAX_TEXT_CHARS): string {
  const clean = redactSecrets(text);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function sanitiseDetails(details: Record<string, unknown> | undefined): string {
  if (!details) return '{}';
  const json = JSON.stringify(details, (key, value: unknown) => {
    if (key !== '' && SECRET_KEY_RE.test(key)) return '[redacted]';
    return typeof value === 'string' ? redactSecrets(value) : value;
  });
  if (json.length <= MAX_DETAILS_CHARS) return json;
  return JSON.stringify({ truncated: true, size: json.length });
}

function toView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    time: row.created_at,
    workspace_id: row.workspace_id,
    actor: { type: row.actor_type, id: row.actor_id, label: row.actor_label },
    action: row.action,
    target: row.target_type === null ? null : { type: row.target_type, id: row.target_id },
    ip: row.ip,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** Builds an entry from an actor and the event, as the credential services record it. */
export function auditEntry(actor: AuditActor, event: Omit<AuditEntry, 'actorType' | 'actorId' | 'actorLabel' | 'ip'>): AuditEntry {
  return { ...event, actorType: actor.type, actorId: actor.id, actorLabel: actor.label, ip: actor.ip };
}

/**
 * Append-only audit log of credential and security events. `record` takes an optional
 * transaction so a change and its audit entry commit (or fail) together.
 */
export class AuditService implements AuditSink {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry, trx?: Kysely<Database>): Promise<void> {
    if (!ACTOR_TYPES.includes(entry.actorType)) throw new AppError('INTERNAL', `unknown audit actor type "${String(entry.actorType)}"`);
    if (entry.action.trim() === '') throw new AppError('INTERNAL', 'audit entry without an action');
    await insertAuditRow(trx ?? this.db, {
      created_at: this.clock.now(),
      workspace_id: entry.workspaceId,
      actor_type: entry.actorType,
      actor_id: entry.actorId === null ? null : clip(entry.actorId),
      actor_label: clip(entry.actorLabel),
      action: clip(entry.action, 100),
      target_type: entry.targetType === undefined ? null : clip(entry.targetType, 100),
      target_id: entry.targetId === undefined ? null : clip(entry.targetId),
      ip: entry.ip === null ? null : clip(entry.ip, 100),
      details: sanitiseDetails(entry.details),
    });
  }

  /** Newest first. `workspaceId` null lists the account-level entries (no workspace). */
  async list(workspaceId: string | null, options: { limit?: number | undefined; before?: string | undefined } = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const before = options.before === undefined || options.before === '' ? undefined : decodeTimeCursor(options.before);
    const rows = await listAuditRows(this.db, workspaceId, { limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      entries: page.map(toView),
      next: rows.length > limit && last ? encodeTimeCursor({ at: last.created_at, seq: last.id }) : null,
    };
  }
}
