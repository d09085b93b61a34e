import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isBase62, randomBase62 } from '../lib/base62.js';
import type { Clock } from '../lib/clock.js';
import { constantTimeEqual, sha256Hex } from '../lib/crypto.js';
import { newId } from '../lib/ids.js';
import type { AdminPrincipal } from './admin-principal.js';
import {
  deleteSessionByTokenHash,
  deleteSessionsOfAccount,
  deleteStaleSessions,
  findSessionByTokenHash,
  insertSession,
  setSessionAuthenticatedAt,
  touchSession,
  type SessionRow,
} from './sessions.repo.js';

/**
 * Dashboard sessions. Rejection reasons name the account, never the session (ids and cookie
 * values stay out of logs and the audit log).
 * The cookie holds a random token (43 base62 ≈ 256 bits); the database keeps
 * only its SHA-256, so a copy of the database opens no session. The CSRF token is derived from
 * the session token (a different hash), so it needs no storage, changes with every session and
 * cannot be computed from the database either.
 */

const SESSION_TOKEN_CHARS = 43;
/** last_seen_at is written at most this often per session (not once per request). */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

export interface SessionSettings {
  /** Absolute lifetime from sign-in. */
  ttlMs: number;
  /** Ends a session this long after its last request. */
  idleTimeoutMs: number;
}

export interface IssuedSession {
  id: string;
  /** The cookie value: returned once, to be set as the cookie, never stored or logged. */
  token: string;
  csrfToken: string;
  expiresAt: number;
  authenticatedAt: number;
}

export type SessionCheck = { ok: true; principal: AdminPrincipal; session: SessionRow } | { ok: false; reason: string };

export class SessionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly settings: SessionSettings,
  ) {}

  /**
   * Starts a session for an account that just proved its password. `presentedToken` is whatever
   * session cookie came with the login request: it is deleted, never reused or upgraded, so a
   * session id planted before login (session fixation) is worthless afterwards.
   */
  async issue(
    accountId: string,
    meta: { ip: string | null; userAgent: string | null },
    presentedToken: string | undefined,
  ): Promise<IssuedSession> {
    const now = this.clock.now();
    const token = randomBase62(SESSION_TOKEN_CHARS);
    const row: SessionRow = {
      id: newId('session'),
      token_hash: sha256Hex(token),
      account_id: accountId,
      created_at: now,
      authenticated_at: now,
      last_seen_at: now,
      expires_at: now + this.settings.ttlMs,
      ip: meta.ip,
      user_agent: meta.userAgent === null ? null : meta.userAgent.slice(0, 300),
    };
    await this.db.transaction().execute(async (trx) => {
      if (presentedToken) await deleteSessionByTokenHash(trx, sha256Hex(presentedToken));
      // Sweep here rather than in check(): verification stays read-only.
      await deleteStaleSessions(trx, now, now - this.settings.idleTimeoutMs);
      await insertSession(trx, row);
    });
    return { id: row.id, token, csrfToken: this.csrfTokenFor(token), expiresAt: row.expires_at, authenticatedAt: now };
  }

  /** Validates a session cookie value: shape, then lookup by hash, expiry, idle time, account state. */
  async check(token: string): Promise<SessionCheck> {
    if (token.length !== SESSION_TOKEN_CHARS || !isBase62(token)) return { ok: false, reason: 'malformed session cookie' };
    const found = await findSessionByTokenHash(this.db, sha256Hex(token));
    if (!found) return { ok: false, reason: 'unknown or ended session' };
    const { session, account } = found;
    const now = this.clock.now();
    if (session.expires_at <= now) return { ok: false, reason: `a session of account ${account.id} reached its absolute expiry` };
    if (session.last_seen_at + this.settings.idleTimeoutMs <= now)
      return { ok: false, reason: `a session of account ${account.id} was idle too long` };
    if (account.disabled_at !== null) return { ok: false, reason: `account ${account.id} is disabled` };
    if (now - session.last_seen_at >= SESSION_TOUCH_INTERVAL_MS) await touchSession(this.db, session.id, now);
    return {
      ok: true,
      session,
      principal: {
        kind: 'session',
        id: account.id,
        label: account.email,
        role: account.role,
        workspaceIds: '*',
        sessionId: session.id,
        authenticatedAt: session.authenticated_at,
      },
    };
  }

  csrfTokenFor(token: string): string {
    return createHash('sha256').update(`herald-admin-csrf\0${token}`).digest('base64url');
  }

  isCsrfTokenValid(token: string, presented: string | undefined): boolean {
    if (presented === undefined || presented === '') return false;
    return constantTimeEqual(presented, this.csrfTokenFor(token));
  }

  /** Ends the session with this cookie value; returns it when there was one. */
  async end(token: string): Promise<SessionRow | undefined> {
    return deleteSessionByTokenHash(this.db, sha256Hex(token));
  }

  /** Records a fresh password entry (reauth): sensitive actions are allowed again for a while. */
  async markAuthenticated(sessionId: string): Promise<number> {
    const now = this.clock.now();
    await setSessionAuthenticatedAt(this.db, sessionId, now);
    return now;
  }

  async endAllFor(accountId: string, db: Kysely<Database> = this.db): Promise<void> {
    await deleteSessionsOfAccount(db, accountId);
  }
}
