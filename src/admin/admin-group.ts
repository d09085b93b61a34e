import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkRequestOrigin, CSRF_HEADER, isUnsafeMethod, sessionCookieName, verifySessionRequest } from '../auth/admin-session.js';
import { serviceTokenFromHeader, verifyServiceToken, type AdminAuthOutcome } from '../auth/service-token.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Herald } from '../runtime.js';
import { AdminAccountService } from './accounts.service.js';
import { attachAdminPrincipal } from './admin-principal.js';
import type { AuditSink } from './audit-sink.js';
import { dummyPasswordHash } from './password.js';
import { ServiceTokenService } from './service-tokens.service.js';
import { SessionService } from './sessions.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin routes reachable without a principal (only POST /admin/api/login). Writes still get the Origin check. */
    adminPublic?: boolean;
    /** Set on every route adminGroup registers (tests classify routes by it). */
    adminGroup?: true;
  }
}

export interface AdminGroupDeps {
  accounts: AdminAccountService;
  sessions: SessionService;
  serviceTokens: ServiceTokenService;
  audit: AuditSink;
  clock: Clock;
  /** HERALD_PUBLIC_URL's origin: the only Origin admin writes may come from (else: same host as Host). */
  publicOrigin: string | undefined;
  /** Secure (and `__Host-`) session cookie: on when HERALD_PUBLIC_URL is https. */
  isSecureCookie: boolean;
}

/** The admin services over Herald's database; `audit` defaults to Herald's audit log. */
export function createAdminGroupDeps(herald: Herald, audit: AuditSink = herald.audit): AdminGroupDeps {
  return {
    accounts: new AdminAccountService(herald.db, herald.engine, herald.clock, audit),
    sessions: new SessionService(herald.db, herald.clock, {
      ttlMs: herald.config.sessionTtlMs,
      idleTimeoutMs: herald.config.sessionIdleTimeoutMs,
    }),
    serviceTokens: new ServiceTokenService(herald.db, herald.clock, herald.workspaces, audit),
    audit,
    clock: herald.clock,
    publicOrigin: herald.config.publicOrigin,
    isSecureCookie: herald.config.publicOrigin?.startsWith('https:') ?? false,
  };
}

const SERVICE_TOKEN_USE_FLUSH_MS = 10_000;

/** Writes service tokens' last_used_at in batches while the app runs, and once more at close. */
export function registerAdminLifecycle(app: FastifyInstance, deps: AdminGroupDeps): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    // Computed now, not at the first unknown-email login, which would otherwise take twice as long.
    await dummyPasswordHash();
    timer = setInterval(() => {
      deps.serviceTokens.flushUses().catch((error: unknown) => app.log.warn({ err: error }, 'could not record service token last use'));
    }, SERVICE_TOKEN_USE_FLUSH_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    await deps.serviceTokens.flushUses();
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The session cookie's value, if the request has one. */
export function sessionCookieOf(request: FastifyRequest, deps: AdminGroupDeps): string | undefined {
  const value = request.cookies[sessionCookieName(deps.isSecureCookie)];
  return value === undefined || value === '' ? undefined : value;
}

export function setSessionCookie(reply: FastifyReply, deps: AdminGroupDeps, token: string, expiresAt: number): void {
  reply.setCookie(sessionCookieName(deps.isSecureCookie), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: deps.isSecureCookie,
    maxAge: Math.max(0, Math.floor((expiresAt - deps.clock.now()) / 1000)),
  });
}

export function clearSessionCookie(reply: FastifyReply, deps: AdminGroupDeps): void {
  reply.clearCookie(sessionCookieName(deps.isSecureCookie), { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.isSecureCookie });
}

function rejection(outcome: Exclude<AdminAuthOutcome, { ok: true }>): AppError {
  return new AppError(outcome.code, outcome.message, { detail: outcome.reason });
}

async function authenticateAdmin(request: FastifyRequest, reply: FastifyReply, deps: AdminGroupDeps): Promise<void> {
  const isPublic = request.routeOptions.config.adminPublic === true;
  const authorization = header(request, 'authorization');

  // Service tokens are not sent by browsers on their own, so they need no CSRF defence.
  if (authorization !== undefined && !isPublic) {
    const token = serviceTokenFromHeader(authorization);
    if (!token) {
      throw new AppError('UNAUTHENTICATED', 'the admin API accepts a session cookie or Authorization: ServiceToken <token>', {
        detail: 'unsupported Authorization scheme on an admin route',
      });
    }
    const now = deps.clock.now();
    const outcome = await verifyServiceToken(token, {
      findByHash: (hash) => deps.serviceTokens.findByHash(hash),
      now: () => now,
      noteUse: (id, at) => deps.serviceTokens.noteUse(id, at),
    });
    if (!outcome.ok) throw rejection(outcome);
    attachAdminPrincipal(request, outcome.principal, now);
    return;
  }

  // Before any database work: a cross-site write is refused whatever cookie rides along.
  if (isUnsafeMethod(request.method)) {
    const origin = checkRequestOrigin(
      { origin: header(request, 'origin'), secFetchSite: header(request, 'sec-fetch-site'), host: header(request, 'host') },
      deps.publicOrigin,
    );
    if (!origin.ok) {
      throw new AppError('ORIGIN_NOT_ALLOWED', 'cross-origin requests to the admin API are refused; use the dashboard at its own address', {
        detail: origin.reason,
      });
    }
  }
  if (isPublic) return;

  const token = sessionCookieOf(request, deps);
  if (token === undefined) {
    throw new AppError('UNAUTHENTICATED', 'sign in first (POST /admin/api/login), or send Authorization: ServiceToken <token>', {
      detail: 'no session cookie',
    });
  }
  const now = deps.clock.now();
  const outcome = await verifySessionRequest(token, { method: request.method, csrfToken: header(request, CSRF_HEADER) }, deps.sessions);
  if (!outcome.ok) {
    // A cookie that no longer opens anything is removed, so the browser stops sending it.
    if (outcome.code === 'UNAUTHENTICATED') clearSessionCookie(reply, deps);
    throw rejection(outcome);
  }
  attachAdminPrincipal(request, outcome.principal, now);
}

/**
 * Registers admin API routes (everything under /admin/api/) in an encapsulated plugin whose
 * preHandler authenticates a session cookie (plus Origin check and CSRF token on writes) or an
 * `Authorization: ServiceToken` header, and sets request.adminPrincipal. Routes then call
 * requireAdmin(request, role) for their role. A route marked `config: { adminPublic: true }`
 * skips authentication (login only). Call it once per set of routes; each call is independent.
 */
export function adminGroup(app: FastifyInstance, deps: AdminGroupDeps, register: (group: FastifyInstance) => void): void {
  void app.register(async (group) => {
    group.addHook('onRoute', (route) => {
      route.config = { ...route.config, adminGroup: true };
    });
    if (!group.hasRequestDecorator('cookies')) await group.register(fastifyCookie);
    group.addHook('preHandler', async (request, reply) => authenticateAdmin(request, reply, deps));
    register(group);
  });
}
