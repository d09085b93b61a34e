import type { FastifyRequest } from 'fastify';
import type { DeliveryService } from '../delivery/delivery.service.js';
import { AppError } from '../lib/errors.js';
import type { Herald } from '../runtime.js';
import type { Workspace } from '../workspaces/workspaces.service.js';
import { requireAdmin, requireWorkspaceAccess, workspaceNotFound, type AdminPrincipal, type Role } from './admin-principal.js';

/**
 * What the dashboard's JSON API (/admin/api/workspaces/…, /admin/api/audit-log) needs: Herald's
 * services, and this process's delivery pipeline for test triggers (so a test notification takes
 * the exact path of a real one, realtime push included).
 */
export interface AdminApiDeps {
  herald: Herald;
  delivery: DeliveryService;
}

export type WorkspaceParams = { ws: string };

/** What the dashboard may show about a workspace: identifiers and settings, never its secret. */
export function workspaceView(workspace: Workspace) {
  return {
    id: workspace.id,
    slug: workspace.slug,
    name: workspace.name,
    mode: workspace.mode,
    workspace_key: workspace.workspaceKey,
    enhanced_security: workspace.isEnhancedSecurity,
    allow_signed_clients: workspace.allowsSignedClients,
    created_at: workspace.createdAt,
  };
}

/**
 * The role check, then the workspace named by the `:ws` slug. The role comes first, so a caller
 * below the role learns nothing about which workspaces exist. A workspace outside a service
 * token's scope answers exactly like a missing slug (same code, same text); only the log detail
 * says which it was.
 */
export async function requireWorkspace(
  request: FastifyRequest<{ Params: WorkspaceParams }>,
  herald: Herald,
  minRole: Role,
  options: { fresh?: boolean } = {},
): Promise<{ principal: AdminPrincipal; workspace: Workspace }> {
  const principal = requireAdmin(request, minRole, options);
  const slug = request.params.ws;
  let workspace: Workspace;
  try {
    workspace = await herald.workspaces.get(slug);
  } catch (error) {
    if (error instanceof AppError && error.code === 'NOT_FOUND') throw workspaceNotFound(slug);
    throw error;
  }
  // WorkspaceService.get also takes ids and workspace keys; the admin API addresses workspaces by slug only.
  if (workspace.slug !== slug) throw workspaceNotFound(slug);
  try {
    requireWorkspaceAccess(principal, workspace.id);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError('NOT_FOUND', workspaceNotFound(slug).message, { detail: error.detail ?? 'workspace outside the principal scope' });
  }
  return { principal, workspace };
}

/** An optional integer query parameter within [min, max]; anything else is a 400 naming it. */
export function queryInt(value: unknown, name: string, range: { min: number; max: number }): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) < range.min || Number(value) > range.max) {
    throw new AppError('VALIDATION_FAILED', `${name} must be a whole number from ${range.min} to ${range.max}`);
  }
  return Number(value);
}

/** An optional string query parameter of bounded length (a repeated parameter is refused). */
export function queryText(value: unknown, name: string, maxChars: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
  if (value.length > maxChars) throw new AppError('VALIDATION_FAILED', `${name} is longer than ${maxChars} characters`);
  return value;
}
