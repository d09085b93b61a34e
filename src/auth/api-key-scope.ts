import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';

/**
 * What an API key may call (least privilege). A key is `full` (every backend route: the default,
 * and what keys made before scopes keep), `trigger` (triggers, events and broadcasts only) or
 * `read` (GET routes only); `full` and `read` keys can also be limited to some route groups.
 * Every backend route belongs to exactly one group, set where the app registers it (`apiRouteGroup`),
 * so a route cannot be added without one. HMAC-signed requests are the workspace itself and are
 * never scoped.
 */

export const API_KEY_SCOPES = ['full', 'trigger', 'read'] as const;
export type ApiKeyScopeName = (typeof API_KEY_SCOPES)[number];

/** Route groups of the backend API; `auth` (who am I) is open to every key. */
export const API_ROUTE_GROUPS = ['ingest', 'users', 'tenants', 'lists', 'objects', 'preferences', 'messages'] as const;
export type ApiRouteGroup = (typeof API_ROUTE_GROUPS)[number] | 'auth';

export interface ApiKeyScope {
  scope: ApiKeyScopeName;
  /** null: every group. */
  groups: readonly ApiRouteGroup[] | null;
}

export const FULL_SCOPE: ApiKeyScope = { scope: 'full', groups: null };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The backend route group a route belongs to (API key scopes). */
    apiRouteGroup?: ApiRouteGroup;
  }
}

/** Registers routes under a route group: each route registered by `register` belongs to it. */
export function apiRouteGroup(group: FastifyInstance, name: ApiRouteGroup, register: (routes: FastifyInstance) => void): void {
  void group.register(async (routes) => {
    routes.addHook('onRoute', (route) => {
      route.config = { ...route.config, apiRouteGroup: name };
    });
    register(routes);
  });
}

/** Checks and normalises a requested scope (CLI, admin API); a clear 400 otherwise. */
export function parseApiKeyScope(scope: string | undefined, groups: readonly string[] | undefined): ApiKeyScope {
  const name = scope ?? 'full';
  if (!(API_KEY_SCOPES as readonly string[]).includes(name)) {
    throw new AppError('VALIDATION_FAILED', `scope must be one of ${API_KEY_SCOPES.join(', ')} (got ${JSON.stringify(name)})`);
  }
  if (groups === undefined || groups.length === 0) return { scope: name as ApiKeyScopeName, groups: null };
  if (name === 'trigger') {
    throw new AppError('VALIDATION_FAILED', 'a trigger-scoped key reaches the ingest routes only: leave out the route groups');
  }
  const unknown = groups.filter((g) => !(API_ROUTE_GROUPS as readonly string[]).includes(g));
  if (unknown.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `unknown route group ${JSON.stringify(unknown[0])}: choose from ${API_ROUTE_GROUPS.join(', ')}`,
    );
  }
  return { scope: name as ApiKeyScopeName, groups: [...new Set(groups as ApiRouteGroup[])].sort() };
}

/** The scope as stored (`api_keys.scope`, `api_keys.route_groups`); anything unreadable is no access. */
export function storedApiKeyScope(scope: string, routeGroups: string | null): ApiKeyScope {
  const name = (API_KEY_SCOPES as readonly string[]).includes(scope) ? (scope as ApiKeyScopeName) : null;
  let groups: ApiRouteGroup[] | null = null;
  if (routeGroups !== null) {
    const parsed: unknown = JSON.parse(routeGroups);
    groups = Array.isArray(parsed) ? parsed.filter((g): g is ApiRouteGroup => (API_ROUTE_GROUPS as readonly string[]).includes(g)) : [];
  }
  // Fail closed: a scope this version does not know reaches nothing but `auth`.
  return name === null ? { scope: 'read', groups: [] } : { scope: name, groups };
}

/** A short description for lists and answers: `full`, `read (users, lists)`. */
export function describeApiKeyScope({ scope, groups }: ApiKeyScope): string {
  return groups === null ? scope : `${scope} (${groups.join(', ') || 'no groups'})`;
}

/** Refuses (403, naming what is missing) a request its API key's scope does not cover. */
export function checkApiKeyScope(request: FastifyRequest, keyScope: ApiKeyScope): void {
  const group = request.routeOptions.config.apiRouteGroup;
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  if (group === undefined) {
    // Fail closed: a route registered without a group is reachable by full keys only.
    if (keyScope.scope === 'full' && keyScope.groups === null) return;
    throw new AppError('FORBIDDEN', `this API key's scope (${describeApiKeyScope(keyScope)}) does not cover ${route}`);
  }
  if (group === 'auth') return;
  const isRead = request.method === 'GET' || request.method === 'HEAD';
  if (keyScope.scope === 'trigger' && group !== 'ingest') {
    throw new AppError('FORBIDDEN', `this API key is trigger-only: ${route} needs the "${isRead ? 'read' : 'full'}" scope`);
  }
  if (keyScope.scope === 'read' && !isRead) {
    throw new AppError('FORBIDDEN', `this API key is read-only: ${route} needs the "${group === 'ingest' ? 'trigger' : 'full'}" scope`);
  }
  if (keyScope.groups !== null && !keyScope.groups.includes(group)) {
    throw new AppError(
      'FORBIDDEN',
      `this API key is limited to the route groups ${keyScope.groups.join(', ') || '(none)'}: ${route} belongs to "${group}"`,
    );
  }
}
