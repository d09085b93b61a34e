import type { FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';
import type { AuditActor } from './audit-sink.js';

/** Dashboard and admin API roles, lowest to highest. */
export const ROLES = ['viewer', 'developer', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling the admin API: a signed-in account, or a service token. Nothing else leaves auth. */
export interface AdminPrincipal {
  kind: 'session' | 'service_token';
  /** Account id (`adm_…`) or service token id (`stk_…`). */
  id: string;
  /** Account email or service token name. */
  label: string;
  role: Role;
  /** Workspaces this principal may see: every one (`'*'`), or these ids. */
  workspaceIds: '*' | string[];
  /** The session's public id (not the cookie value); null for service tokens. */
  sessionId: string | null;
  /** When the session's password was last entered (ms); null for service tokens. */
  authenticatedAt: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    adminPrincipal?: AdminPrincipal;
  }
}

/** How long after the last password entry a session may do sensitive things (requireAdmin fresh). */
export const FRESH_SESSION_MS = 10 * 60_000;

const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(role: Role, minRole: Role): boolean {
  return RANK[role] >= RANK[minRole];
}

// The time (Herald's clock) at which the admin group authenticated a request, so the freshness
// check uses the same clock as session expiry without widening AdminPrincipal.
const authenticatedRequests = new WeakMap<FastifyRequest, number>();

/** Called by the admin group only: sets the principal and remembers when it was checked. */
export function attachAdminPrincipal(request: FastifyRequest, principal: AdminPrincipal, now: number): void {
  request.adminPrincipal = principal;
  authenticatedRequests.set(request, now);
}

/** True when the principal entered a password within FRESH_SESSION_MS of `now`; service tokens always are. */
export function isFresh(principal: AdminPrincipal, now: number): boolean {
  if (principal.kind === 'service_token') return true;
  return principal.authenticatedAt !== null && now - principal.authenticatedAt <= FRESH_SESSION_MS;
}

/**
 * The admin principal of a request, checked against a minimum role. Fails closed: 401 without a
 * principal, 403 FORBIDDEN below `minRole`, 403 SESSION_NOT_FRESH when `fresh` is asked and the
 * session's password was entered more than 10 minutes ago (POST /admin/api/reauth refreshes it).
 */
export interface AdminRequirements {
  /** Password confirmed recently (sessions only). */
  fresh?: boolean;
  /**
   * What the route reaches spans the installation (accounts, the account-level audit log, new
   * workspaces): a service token limited to some workspaces is refused; `what` names it.
   */
  installationWide?: string;
}

export function requireAdmin(request: FastifyRequest, minRole: Role, options: AdminRequirements = {}): AdminPrincipal {
  const principal = request.adminPrincipal;
  if (!principal) throw new AppError('UNAUTHENTICATED', 'sign in first', { detail: 'admin route reached without a principal' });
  if (!roleAtLeast(principal.role, minRole)) {
    throw new AppError('FORBIDDEN', `this needs the ${minRole} role or higher; ${principal.label} has ${principal.role}`, {
      detail: `${principal.kind} ${principal.id} (${principal.role}) below ${minRole}`,
    });
  }
  if (options.installationWide !== undefined && principal.workspaceIds !== '*') {
    throw new AppError('FORBIDDEN', `${options.installationWide} needs a service token that reaches every workspace`, {
      detail: `${principal.kind} ${principal.id} is scoped to ${principal.workspaceIds.length} workspace(s)`,
    });
  }
  if (options.fresh && !isFresh(principal, authenticatedRequests.get(request) ?? Date.now())) {
    throw new AppError('SESSION_NOT_FRESH', 'confirm your password first (POST /admin/api/reauth), then retry', {
      detail: `session of account ${principal.id} last authenticated at ${principal.authenticatedAt ?? 'never'}`,
    });
  }
  return principal;
}

/**
 * The 404 for a workspace that does not exist. Same text as WorkspaceService.get, so a workspace
 * outside a principal's scope reads exactly like a missing one (test/admin-auth.test.ts checks it).
 */
export function workspaceNotFound(ref: string): AppError {
  return new AppError('NOT_FOUND', `unknown workspace "${ref}" (herald workspace list shows the slugs)`);
}

/**
 * Throws NOT_FOUND, identical to a missing workspace, when `workspaceId` is outside the
 * principal's scope. Pass the same text the route was called with when it was the id; a route
 * that takes slugs should resolve first and use `workspaceNotFound(slug)` itself.
 */
export function requireWorkspaceAccess(principal: AdminPrincipal, workspaceId: string): void {
  if (principal.workspaceIds === '*' || principal.workspaceIds.includes(workspaceId)) return;
  const error = workspaceNotFound(workspaceId);
  throw new AppError(error.code, error.message, { detail: `${principal.kind} ${principal.id} is not scoped to workspace ${workspaceId}` });
}

/** The audit actor for an authenticated admin request. */
export function actorOf(request: FastifyRequest, principal: AdminPrincipal): AuditActor {
  return {
    type: principal.kind === 'session' ? 'account' : 'service_token',
    id: principal.id,
    label: principal.label,
    ip: request.ip ?? null,
  };
}
