import type { FastifyInstance } from 'fastify';
import { registerAccountRoutes } from './accounts.routes.js';
import type { AdminGroupDeps } from './admin-group.js';
import { registerAdminSessionRoutes } from './admin-session.routes.js';
import { registerServiceTokenRoutes } from './service-tokens.routes.js';

/** The admin identity routes: login/logout/me/reauth, accounts, service tokens. Register inside adminGroup. */
export function registerAdminIdentityRoutes(group: FastifyInstance, deps: AdminGroupDeps): void {
  registerAdminSessionRoutes(group, deps);
  registerAccountRoutes(group, deps);
  registerServiceTokenRoutes(group, deps);
}
