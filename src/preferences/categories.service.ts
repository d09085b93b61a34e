import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import { findCategory, findExistingSlugs, listCategories, upsertCategory, type CategoryRow } from './categories.repo.js';
import { CATEGORY_DEFAULTS, isCategoryDefault, type CategoryDefault } from './preferences.resolution.js';

/** A notification category of a workspace; workflows name it, users opt in or out of it. */
export interface Category {
  slug: string;
  name: string;
  section: string | null;
  description: string | null;
  default_preference: CategoryDefault;
  created_at: number;
  updated_at: number;
}

export interface CategoryInput {
  slug: string;
  name: string;
  section: string | null;
  description: string | null;
  default_preference: CategoryDefault;
}

export interface ApplyResult {
  created: string[];
  replaced: string[];
  categories: Category[];
}

// Slugs travel un-encoded in SDK paths (`…/preference/category/{slug}/`), so keep them path-safe.
const SLUG_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const MAX_NAME_CHARS = 200;
const MAX_DESCRIPTION_CHARS = 2000;
const MAX_CATEGORIES_PER_APPLY = 1000;
const MAX_REPORTED_PROBLEMS = 20;
const FIELDS = new Set(['slug', 'name', 'section', 'description', 'default_preference']);

function toCategory(row: CategoryRow): Category {
  return {
    slug: row.slug,
    name: row.name,
    section: row.section,
    description: row.description,
    default_preference: row.default_preference,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function optionalText(item: Record<string, unknown>, field: string, max: number, problems: string[]): string | null {
  const value = item[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    problems.push(`${field} must be a non-empty string of at most ${max} characters, or left out`);
    return null;
  }
  return value.trim();
}

/** Checks one category object; returns the problems found (empty when it is valid). */
function checkCategory(item: unknown): { input: CategoryInput | undefined; problems: string[] } {
  if (!isPlainObject(item)) return { input: undefined, problems: ['must be an object such as {"slug": "...", "name": "..."}'] };
  const problems: string[] = [];
  const unknown = Object.keys(item).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) problems.push(`unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${[...FIELDS].join(', ')})`);
  const slug = item['slug'];
  if (typeof slug !== 'string' || !SLUG_RE.test(slug)) {
    problems.push('slug must be 1-100 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  const name = item['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_CHARS) {
    problems.push(`name must be a non-empty string of at most ${MAX_NAME_CHARS} characters`);
  }
  const section = optionalText(item, 'section', MAX_NAME_CHARS, problems);
  const description = optionalText(item, 'description', MAX_DESCRIPTION_CHARS, problems);
  const preference = item['default_preference'] ?? 'opt_in';
  if (!isCategoryDefault(preference)) {
    problems.push(`default_preference must be one of ${CATEGORY_DEFAULTS.join(', ')} (got ${JSON.stringify(preference)})`);
  }
  if (problems.length > 0) return { input: undefined, problems };
  return {
    input: {
      slug: slug as string,
      name: (name as string).trim(),
      section,
      description,
      default_preference: preference as CategoryDefault,
    },
    problems,
  };
}

/**
 * Validates a category file's content (one object or an array of them) completely before
 * anything is written, and reports every problem at once with the item it belongs to.
 */
export function parseCategoryInputs(content: unknown): CategoryInput[] {
  const items = Array.isArray(content) ? content : [content];
  if (items.length === 0) throw new AppError('VALIDATION_FAILED', 'no categories given: pass one category object or a non-empty array');
  if (items.length > MAX_CATEGORIES_PER_APPLY) {
    throw new AppError('VALIDATION_FAILED', `at most ${MAX_CATEGORIES_PER_APPLY} categories at once (got ${items.length})`);
  }
  const problems: string[] = [];
  const inputs: CategoryInput[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const slug = isPlainObject(item) && typeof item['slug'] === 'string' ? item['slug'] : undefined;
    const label = Array.isArray(content) ? `category[${index}]${slug ? ` "${slug}"` : ''}` : `category${slug ? ` "${slug}"` : ''}`;
    const checked = checkCategory(item);
    for (const problem of checked.problems) problems.push(`${label}: ${problem}`);
    if (!checked.input) return;
    const earlier = seen.get(checked.input.slug);
    if (earlier !== undefined) problems.push(`${label}: slug "${checked.input.slug}" is also used by category[${earlier}]`);
    else seen.set(checked.input.slug, index);
    inputs.push(checked.input);
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
    throw new AppError('VALIDATION_FAILED', `invalid categories, nothing was applied: ${shown.join('; ')}${more}`);
  }
  return inputs;
}

export class CategoryService {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Creates or replaces categories by slug, all or nothing. `onApplied` runs in the same
   * transaction (the dashboard's audit entry), so the change and its record commit together.
   */
  async apply(
    workspaceId: string,
    content: unknown,
    onApplied?: (result: ApplyResult, trx: Kysely<Database>) => Promise<void>,
  ): Promise<ApplyResult> {
    const inputs = parseCategoryInputs(content);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const existing = await findExistingSlugs(
        trx,
        workspaceId,
        inputs.map((input) => input.slug),
      );
      const result: ApplyResult = { created: [], replaced: [], categories: [] };
      for (const input of inputs) {
        await upsertCategory(trx, { workspace_id: workspaceId, ...input, created_at: now, updated_at: now });
        (existing.has(input.slug) ? result.replaced : result.created).push(input.slug);
      }
      const rows = await listCategories(trx, workspaceId);
      const applied = new Set(inputs.map((input) => input.slug));
      result.categories = rows.filter((row) => applied.has(row.slug)).map(toCategory);
      await onApplied?.(result, trx);
      return result;
    });
  }

  async list(workspaceId: string): Promise<Category[]> {
    return (await listCategories(this.deps.db, workspaceId)).map(toCategory);
  }

  async find(workspaceId: string, slug: string): Promise<Category | undefined> {
    const row = await findCategory(this.deps.db, workspaceId, slug);
    return row ? toCategory(row) : undefined;
  }

  async get(workspaceId: string, slug: string): Promise<Category> {
    const category = await this.find(workspaceId, slug);
    if (!category) throw new AppError('NOT_FOUND', `category "${slug}" not found`);
    return category;
  }
}
