import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../lib/errors.js';
import { clearSessionCookie, sessionCookieOf, setSessionCookie, type AdminGroupDeps } from './admin-group.js';
import { actorOf, FRESH_SESSION_MS, isFresh, requireAdmin, type AdminPrincipal } from './admin-principal.js';
import { ADMIN_AUDIT_ACTIONS } from './audit-sink.js';
import type { PasswordCheck } from './accounts.service.js';

/** Generous: only bounds the work (argon2 input, email lookup). New passwords have their own policy. */
const MAX_CREDENTIAL_CHARS = 1024;

const LoginBody = z.object({
  email: z.string().max(MAX_CREDENTIAL_CHARS),
  password: z.string().max(MAX_CREDENTIAL_CHARS),
});
const ReauthBody = z.object({ password: z.string().max(MAX_CREDENTIAL_CHARS) });

/** Parses a JSON body with a zod schema; any problem is a 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new AppError('VALIDATION_FAILED', `${where}${issue?.message ?? 'invalid body'}`);
  }
  return parsed.data;
}

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** Maps a failed password check to its answer; 429 carries Retry-After in whole seconds. */
function rejectPasswordCheck(reply: FastifyReply, check: Exclude<PasswordCheck, { ok: true }>, message: string): never {
  if (check.code === 'RATE_LIMITED') {
    const seconds = Math.max(1, Math.ceil(check.retryAfterMs / 1000));
    reply.header('retry-after', String(seconds));
    throw new AppError('RATE_LIMITED', `too many failed sign-in attempts; try again in ${seconds} s`);
  }
  throw new AppError('INVALID_CREDENTIALS', message);
}

function sessionPrincipal(request: FastifyRequest): AdminPrincipal {
  const principal = requireAdmin(request, 'viewer');
  if (principal.kind !== 'session' || principal.sessionId === null) {
    throw new AppError('BAD_REQUEST', 'this needs a signed-in session; service tokens have none');
  }
  return principal;
}

/** POST /admin/api/login, /logout, /reauth and GET /admin/api/me. */
export function registerAdminSessionRoutes(group: FastifyInstance, deps: AdminGroupDeps): void {
  group.post('/admin/api/login', { config: { adminPublic: true } }, async (request, reply) => {
    const { email, password } = parseBody(LoginBody, request.body);
    const check = await deps.accounts.checkLogin(email, password, request.ip);
    if (!check.ok) rejectPasswordCheck(reply, check, 'email or password is incorrect');
    // Whatever session cookie came with this request is deleted inside issue(): never upgraded.
    const session = await deps.sessions.issue(
      check.account.id,
      { ip: request.ip, userAgent: header(request, 'user-agent') },
      sessionCookieOf(request, deps),
    );
    setSessionCookie(reply, deps, session.token, session.expiresAt);
    return {
      account: { id: check.account.id, email: check.account.email, role: check.account.role },
      csrf_token: session.csrfToken,
      session: { authenticated_at: session.authenticatedAt, expires_at: session.expiresAt },
    };
  });

  group.post('/admin/api/logout', async (request, reply) => {
    const principal = sessionPrincipal(request);
    const token = sessionCookieOf(request, deps);
    if (token !== undefined) await deps.sessions.end(token);
    clearSessionCookie(reply, deps);
    await deps.audit.record({
      workspaceId: null,
      actorType: 'account',
      actorId: principal.id,
      actorLabel: principal.label,
      action: ADMIN_AUDIT_ACTIONS.logout,
      targetType: 'admin_account',
      targetId: principal.id,
      ip: request.ip,
    });
    return reply.code(204).send();
  });

  group.get('/admin/api/me', async (request) => {
    const principal = requireAdmin(request, 'viewer');
    if (principal.kind === 'service_token') {
      return {
        kind: 'service_token',
        service_token: { id: principal.id, name: principal.label, role: principal.role, workspace_ids: principal.workspaceIds },
      };
    }
    const token = sessionCookieOf(request, deps) as string;
    const authenticatedAt = principal.authenticatedAt ?? 0;
    return {
      kind: 'session',
      account: { id: principal.id, email: principal.label, role: principal.role },
      csrf_token: deps.sessions.csrfTokenFor(token),
      session: {
        authenticated_at: authenticatedAt,
        is_fresh: isFresh(principal, deps.clock.now()),
        fresh_until: authenticatedAt + FRESH_SESSION_MS,
      },
    };
  });

  group.post('/admin/api/reauth', async (request, reply) => {
    const principal = sessionPrincipal(request);
    const { password } = parseBody(ReauthBody, request.body);
    const check = await deps.accounts.checkPassword(principal, password, actorOf(request, principal).ip);
    if (!check.ok) rejectPasswordCheck(reply, check, 'the password is incorrect');
    const at = await deps.sessions.markAuthenticated(principal.sessionId as string);
    return { authenticated_at: at, fresh_until: at + FRESH_SESSION_MS };
  });
}
