import type { FastifyInstance } from 'fastify';
import type { AdminApiDeps } from './admin-api.js';
import { registerAdminCredentialRoutes } from './credentials.routes.js';
import { registerAdminLogRoutes } from './logs.routes.js';
import { registerAdminMessageRoutes } from './messages.routes.js';
import { registerAdminUserRoutes } from './users.routes.js';
import { registerAdminWorkflowRoutes } from './workflows.routes.js';
import { registerAdminWorkspaceDataRoutes } from './workspace-data.routes.js';
import { registerAdminWorkspaceRoutes } from './workspaces.routes.js';

/** The dashboard's JSON API over workspaces, credentials, users, workflows and logs. Register inside adminGroup. */
export function registerAdminApiRoutes(group: FastifyInstance, deps: AdminApiDeps): void {
  registerAdminWorkspaceRoutes(group, deps);
  registerAdminCredentialRoutes(group, deps);
  registerAdminUserRoutes(group, deps);
  registerAdminWorkflowRoutes(group, deps);
  registerAdminLogRoutes(group, deps);
  registerAdminMessageRoutes(group, deps);
  registerAdminWorkspaceDataRoutes(group, deps);
}
