import type { Kysely, Selectable } from 'kysely';
import type { CategoriesTable, Database } from '../db/schema.js';

export type CategoryRow = Selectable<CategoriesTable>;

export function listCategories(db: Kysely<Database>, workspaceId: string): Promise<CategoryRow[]> {
  return db.selectFrom('categories').selectAll().where('workspace_id', '=', workspaceId).orderBy('slug').execute();
}

export function findCategory(db: Kysely<Database>, workspaceId: string, slug: string): Promise<CategoryRow | undefined> {
  return db.selectFrom('categories').selectAll().where('workspace_id', '=', workspaceId).where('slug', '=', slug).executeTakeFirst();
}

export async function findExistingSlugs(db: Kysely<Database>, workspaceId: string, slugs: string[]): Promise<Set<string>> {
  if (slugs.length === 0) return new Set();
  const rows = await db
    .selectFrom('categories')
    .select('slug')
    .where('workspace_id', '=', workspaceId)
    .where('slug', 'in', slugs)
    .execute();
  return new Set(rows.map((row) => row.slug));
}

/** Creates the category or replaces every field of an existing one but its creation time. */
export async function upsertCategory(db: Kysely<Database>, row: CategoryRow): Promise<void> {
  await db
    .insertInto('categories')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'slug']).doUpdateSet({
        name: row.name,
        section: row.section,
        description: row.description,
        default_preference: row.default_preference,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}
