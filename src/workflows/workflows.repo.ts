import type { Kysely, Selectable } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database, WorkflowsTable } from '../db/schema.js';

export type WorkflowRow = Selectable<WorkflowsTable>;

const workflowBySlug = prepared('workflowBySlug', (db, key: { workspaceId: string; slug: string }) =>
  db.selectFrom('workflows').selectAll().where('workspace_id', '=', key.workspaceId).where('slug', '=', key.slug),
);

export function findWorkflow(db: Kysely<Database>, workspaceId: string, slug: string): Promise<WorkflowRow | undefined> {
  return workflowBySlug.executeTakeFirst(db, { workspaceId, slug });
}

export function listWorkflows(db: Kysely<Database>, workspaceId: string): Promise<WorkflowRow[]> {
  return db.selectFrom('workflows').selectAll().where('workspace_id', '=', workspaceId).orderBy('slug').execute();
}

/** Creates or replaces a workflow by slug (created_at survives a replace). */
export async function upsertWorkflow(db: Kysely<Database>, row: WorkflowRow): Promise<void> {
  await db
    .insertInto('workflows')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'slug'])
        .doUpdateSet({ name: row.name, category: row.category, steps: row.steps, updated_at: row.updated_at }),
    )
    .execute();
}

export async function deleteWorkflow(db: Kysely<Database>, workspaceId: string, slug: string): Promise<number> {
  const result = await db.deleteFrom('workflows').where('workspace_id', '=', workspaceId).where('slug', '=', slug).executeTakeFirst();
  return Number(result.numDeletedRows);
}
