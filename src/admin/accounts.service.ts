import type { Kysely } from 'kysely';
import type { Engine } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import {
  countAccounts,
  findAccountByEmail,
  findAccountById,
  insertAccount,
  listAccounts,
  lockActiveOwners,
  updateAccount,
  type AccountRow,
} from './accounts.repo.js';
import { isRole, roleAtLeast, type AdminPrincipal, type Role } from './admin-principal.js';
import { ADMIN_AUDIT_ACTIONS, type AuditActor, type AuditSink } from './audit-sink.js';
import { LoginThrottle, type NewLock } from './login-throttle.js';
import { dummyPasswordHash, hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.js';
import { deleteSessionsOfAccount } from './sessions.repo.js';

/** What may be shown about an account: never its password hash. */
export interface AccountView {
  id: string;
  email: string;
  role: Role;
  status: 'active' | 'disabled';
  created_at: number;
  created_by: string | null;
  disabled_at: number | null;
  last_login_at: number | null;
}

/**
 * Who asks for an account change. The CLI runs with database access, so it may do anything the
 * rules below allow (it still cannot remove the last owner); an HTTP principal is held to its role.
 */
export type AccountAuthority = { kind: 'cli' } | { kind: 'principal'; principal: AdminPrincipal };

export type PasswordCheck =
  | { ok: true; account: AccountRow }
  | { ok: false; code: 'INVALID_CREDENTIALS' }
  | { ok: false; code: 'RATE_LIMITED'; retryAfterMs: number };

const MAX_EMAIL_CHARS = 254;
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function view(row: AccountRow): AccountView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status: row.disabled_at === null ? 'active' : 'disabled',
    created_at: row.created_at,
    created_by: row.created_by,
    disabled_at: row.disabled_at,
    last_login_at: row.last_login_at,
  };
}

function validEmail(input: unknown): string {
  const email = typeof input === 'string' ? normaliseEmail(input) : '';
  if (email.length === 0 || email.length > MAX_EMAIL_CHARS || !EMAIL_RE.test(email)) {
    throw new AppError('VALIDATION_FAILED', 'email must be an email address such as ops@example.com');
  }
  return email;
}

function validRole(input: unknown): Role {
  if (!isRole(input)) throw new AppError('VALIDATION_FAILED', 'role must be one of owner, admin, developer, viewer');
  return input;
}

function validNewPassword(input: unknown): string {
  if (typeof input !== 'string') throw new AppError('VALIDATION_FAILED', 'password must be a string');
  const problem = passwordProblem(input);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  return input;
}

export class AdminAccountService {
  readonly throttle: LoginThrottle;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
  ) {
    this.throttle = new LoginThrottle(db, clock);
  }

  async count(): Promise<number> {
    return countAccounts(this.db);
  }

  async list(): Promise<AccountView[]> {
    return (await listAccounts(this.db)).map(view);
  }

  /** By id or email. */
  async get(ref: string): Promise<AccountView> {
    return view(await this.find(ref));
  }

  private async find(ref: string, db: Kysely<Database> = this.db): Promise<AccountRow> {
    const row = (await findAccountById(db, ref)) ?? (await findAccountByEmail(db, normaliseEmail(ref)));
    if (!row) throw new AppError('NOT_FOUND', `no admin account "${ref}" (herald admin list shows them)`);
    return row;
  }

  /** Owners are managed by owners; accounts at all only by owner/admin sessions (and the CLI). */
  private assertMayManage(authority: AccountAuthority, currentRole: Role | null, newRole: Role | undefined): void {
    if (authority.kind === 'cli') return;
    const p = authority.principal;
    if (p.kind !== 'session') {
      throw new AppError('FORBIDDEN', 'accounts are managed by signed-in owners and admins (or the herald CLI), not by service tokens');
    }
    if (!roleAtLeast(p.role, 'admin'))
      throw new AppError('FORBIDDEN', `managing accounts needs the admin role or higher; you have ${p.role}`);
    if ((currentRole === 'owner' || newRole === 'owner') && p.role !== 'owner') {
      throw new AppError('FORBIDDEN', 'only an owner can create, change or disable owner accounts');
    }
  }

  async create(
    input: { email: unknown; password: unknown; role: unknown },
    authority: AccountAuthority,
    actor: AuditActor,
  ): Promise<AccountView> {
    const email = validEmail(input.email);
    const role = validRole(input.role);
    const password = validNewPassword(input.password);
    this.assertMayManage(authority, null, role);
    const now = this.clock.now();
    const row: AccountRow = {
      id: newId('adminAccount'),
      email,
      password_hash: await hashPassword(password),
      role,
      created_at: now,
      created_by: actor.label,
      updated_at: now,
      disabled_at: null,
      last_login_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      if (await findAccountByEmail(trx, email)) throw new AppError('CONFLICT', `an account for ${email} already exists`);
      await insertAccount(trx, row);
    });
    await this.record(actor, ADMIN_AUDIT_ACTIONS.accountCreated, row.id, { email, role });
    return view(row);
  }

  /**
   * Changes role and/or enabled state. The last enabled owner can be neither demoted nor
   * disabled; disabling ends the account's sessions at once.
   */
  async update(
    ref: string,
    patch: { role?: unknown; disabled?: unknown },
    authority: AccountAuthority,
    actor: AuditActor,
  ): Promise<AccountView> {
    const newRole = patch.role === undefined ? undefined : validRole(patch.role);
    if (patch.disabled !== undefined && typeof patch.disabled !== 'boolean')
      throw new AppError('VALIDATION_FAILED', 'disabled must be true or false');
    const disable = patch.disabled as boolean | undefined;
    if (newRole === undefined && disable === undefined)
      throw new AppError('VALIDATION_FAILED', 'nothing to change: send role and/or disabled');
    const now = this.clock.now();

    const { before, after } = await this.db.transaction().execute(async (trx) => {
      // Owners first: in PostgreSQL this lock serialises concurrent owner changes.
      const owners = await lockActiveOwners(trx, this.engine);
      const row = await this.find(ref, trx);
      this.assertMayManage(authority, row.role, newRole);
      if (disable === true && authority.kind === 'principal' && authority.principal.id === row.id) {
        throw new AppError('CONFLICT', 'you cannot disable your own account; ask another owner or admin');
      }
      const isActiveOwner = row.role === 'owner' && row.disabled_at === null;
      const losesOwner = (newRole !== undefined && newRole !== 'owner') || disable === true;
      if (isActiveOwner && losesOwner && owners.every((id) => id === row.id)) {
        throw new AppError('CONFLICT', 'this is the last owner: make another account owner first');
      }
      const next: AccountRow = {
        ...row,
        role: newRole ?? row.role,
        disabled_at: disable === undefined ? row.disabled_at : disable ? (row.disabled_at ?? now) : null,
        updated_at: now,
      };
      await updateAccount(trx, row.id, { role: next.role, disabled_at: next.disabled_at, updated_at: now });
      if (disable === true) await deleteSessionsOfAccount(trx, row.id);
      return { before: row, after: next };
    });

    if (before.role !== after.role) {
      await this.record(actor, ADMIN_AUDIT_ACTIONS.accountRoleChanged, after.id, { email: after.email, from: before.role, to: after.role });
    }
    if (before.disabled_at === null && after.disabled_at !== null) {
      await this.record(actor, ADMIN_AUDIT_ACTIONS.accountDisabled, after.id, { email: after.email });
    } else if (before.disabled_at !== null && after.disabled_at === null) {
      await this.record(actor, ADMIN_AUDIT_ACTIONS.accountEnabled, after.id, { email: after.email });
    }
    return view(after);
  }

  /** Sets a new password (CLI recovery) and ends the account's sessions. */
  async setPassword(ref: string, password: unknown, actor: AuditActor): Promise<AccountView> {
    const valid = validNewPassword(password);
    const hash = await hashPassword(valid);
    const now = this.clock.now();
    const row = await this.db.transaction().execute(async (trx) => {
      const found = await this.find(ref, trx);
      await updateAccount(trx, found.id, { password_hash: hash, updated_at: now });
      await deleteSessionsOfAccount(trx, found.id);
      return found;
    });
    await this.record(actor, ADMIN_AUDIT_ACTIONS.accountPasswordSet, row.id, { email: row.email });
    return view({ ...row, updated_at: now });
  }

  /**
   * Checks a login. Unknown email, disabled account and wrong password give the same answer
   * after the same work (an argon2 verify, against a dummy hash when there is no usable account);
   * the throttle is keyed by the email as typed, existing or not. Records the outcome.
   */
  async checkLogin(emailInput: string, password: string, ip: string | null): Promise<PasswordCheck> {
    const email = normaliseEmail(emailInput).slice(0, MAX_EMAIL_CHARS);
    // What was typed is recorded only when it looks like an address: people do type their
    // password into the email box, and it must not end up in the audit log.
    const label = EMAIL_RE.test(email) ? email : '(not an email address)';
    const anonymous: AuditActor = { type: 'anonymous', id: null, label, ip };
    const keys = this.throttle.keysFor(email, ip);
    const reservation = await this.throttle.reserve(keys);
    if (!reservation.ok) {
      await this.recordLocks(anonymous, reservation.newLocks, null);
      return { ok: false, code: 'RATE_LIMITED', retryAfterMs: reservation.retryAfterMs };
    }
    const account = await findAccountByEmail(this.db, email);
    const isUsable = account !== undefined && account.disabled_at === null;
    const isMatch = await verifyPassword(isUsable ? account.password_hash : await dummyPasswordHash(), password);
    if (!isUsable || !isMatch) {
      const newLocks = await this.throttle.fail(keys);
      const reason = !account ? 'unknown_email' : !isUsable ? 'account_disabled' : 'wrong_password';
      await this.audit.record({
        workspaceId: null,
        actorType: 'anonymous',
        actorId: account?.id ?? null,
        actorLabel: label,
        action: ADMIN_AUDIT_ACTIONS.loginFailed,
        ...(account ? { targetType: 'admin_account', targetId: account.id } : {}),
        ip,
        details: { reason },
      });
      await this.recordLocks(anonymous, newLocks, account?.id ?? null);
      return { ok: false, code: 'INVALID_CREDENTIALS' };
    }
    await this.throttle.succeed(keys);
    const now = this.clock.now();
    const rehash = needsRehash(account.password_hash) ? await hashPassword(password) : undefined;
    await updateAccount(this.db, account.id, { last_login_at: now, ...(rehash ? { password_hash: rehash } : {}) });
    await this.record({ type: 'account', id: account.id, label: account.email, ip }, ADMIN_AUDIT_ACTIONS.login, account.id);
    return { ok: true, account: { ...account, last_login_at: now } };
  }

  /** Re-entering the password in a session (reauth): same throttle as login, on the account's email. */
  async checkPassword(principal: AdminPrincipal, password: string, ip: string | null): Promise<PasswordCheck> {
    const actor: AuditActor = { type: 'account', id: principal.id, label: principal.label, ip };
    const keys = this.throttle.keysFor(principal.label, ip);
    const reservation = await this.throttle.reserve(keys);
    if (!reservation.ok) {
      await this.recordLocks(actor, reservation.newLocks, principal.id);
      return { ok: false, code: 'RATE_LIMITED', retryAfterMs: reservation.retryAfterMs };
    }
    const account = await findAccountById(this.db, principal.id);
    const isUsable = account !== undefined && account.disabled_at === null;
    const isMatch = await verifyPassword(isUsable ? account.password_hash : await dummyPasswordHash(), password);
    if (!isUsable || !isMatch) {
      const newLocks = await this.throttle.fail(keys);
      await this.record(actor, ADMIN_AUDIT_ACTIONS.reauthFailed, principal.id);
      await this.recordLocks(actor, newLocks, principal.id);
      return { ok: false, code: 'INVALID_CREDENTIALS' };
    }
    await this.throttle.succeed(keys);
    await this.record(actor, ADMIN_AUDIT_ACTIONS.reauth, principal.id);
    return { ok: true, account };
  }

  private async recordLocks(actor: AuditActor, locks: NewLock[], accountId: string | null): Promise<void> {
    for (const lock of locks) {
      await this.audit.record({
        workspaceId: null,
        actorType: actor.type,
        actorId: actor.id,
        actorLabel: actor.label,
        action: ADMIN_AUDIT_ACTIONS.lockout,
        ...(lock.scope === 'account' && accountId ? { targetType: 'admin_account', targetId: accountId } : {}),
        ip: actor.ip,
        details: { scope: lock.scope, locked_for_s: Math.ceil(lock.lockedForMs / 1000), lockouts: lock.lockouts },
      });
    }
  }

  private async record(actor: AuditActor, action: string, accountId: string, details?: Record<string, unknown>): Promise<void> {
    await this.audit.record({
      workspaceId: null,
      actorType: actor.type,
      actorId: actor.id,
      actorLabel: actor.label,
      action,
      targetType: 'admin_account',
      targetId: accountId,
      ip: actor.ip,
      ...(details ? { details } : {}),
    });
  }
}
