import { createHash } from 'node:crypto';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/schema.js';
import type { Herald } from '../../src/runtime.js';

/** What test/route-matrix.test.ts and test/fuzz-routes.test.ts walk: every route the app registers. */

export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'OPTIONS';

export interface Route {
  method: Method;
  url: string;
  config: RouteOptions['config'];
}

export const keyOf = (route: { method: string; url: string }) => `${route.method} ${route.url}`;

/** The app, silent, with one entry per method of every route it registered. */
export async function buildAppWithRoutes(herald: Herald): Promise<{ app: FastifyInstance; routes: Route[] }> {
  const seen: RouteOptions[] = [];
  const app = buildApp({ herald, logger: pino({ level: 'silent' }), onRoute: (route) => void seen.push(route) });
  await app.ready();
  // Read after ready: the route groups fill in config in their own onRoute hooks, after the observer.
  const routes = seen.flatMap((options) =>
    [options.method].flat().map((method) => ({ method: method as Method, url: options.url, config: options.config })),
  );
  return { app, routes };
}

/** A workspace's rows in the tables client and backend requests write (background tables left out). */
export const WORKSPACE_DATA_TABLES = [
  'users',
  'objects',
  'object_subscriptions',
  'tenants',
  'tenant_category_preferences',
  'user_tenants',
  'categories',
  'user_preferences',
  'user_channel_preferences',
  'lists',
  'list_versions',
  'list_members',
  'workflows',
  'notifications',
  'inbox_badges',
] as const satisfies ReadonlyArray<keyof Database>;

/**
 * A digest of `workspaceId`'s rows in `tables` (the `workspaces` table by its id), rows in any
 * order; `replacer` leaves out what a request may change harmlessly.
 */
export async function workspaceDigest(
  herald: Herald,
  tables: ReadonlyArray<keyof Database>,
  workspaceId: string,
  replacer?: (key: string, value: unknown) => unknown,
): Promise<string> {
  const hash = createHash('sha256');
  for (const table of tables) {
    const column = table === 'workspaces' ? 'id' : 'workspace_id';
    const rows = await herald.db
      .selectFrom(table)
      .selectAll()
      .where(column as never, '=', workspaceId as never)
      .execute();
    const stable = rows.map((row) => JSON.stringify(row, replacer)).sort();
    hash.update(`${table}:${stable.join('\n')}\n`);
  }
  return hash.digest('hex');
}
