import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { recordChange } from '../credentials/change-log.repo.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { parseJsonArray } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import { listCategories } from '../preferences/categories.repo.js';
import { checkTemplates, TemplateError } from './render.js';
import { parseWorkflowDefinition, type WorkflowDefinition, type WorkflowStep } from './workflow-definition.js';
import { deleteWorkflow, findWorkflow, listWorkflows, upsertWorkflow, type WorkflowRow } from './workflows.repo.js';

export interface Workflow {
  slug: string;
  name: string;
  category: string;
  steps: WorkflowStep[];
  created_at: number;
  updated_at: number;
}

function toWorkflow(row: WorkflowRow): Workflow {
  return {
    slug: row.slug,
    name: row.name,
    category: row.category,
    steps: parseJsonArray(row.steps) as WorkflowStep[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * Workflows as triggers read them, kept in memory for every WorkflowService of this process (a
 * trigger reads its workflow on every call; workflows change rarely). A change made in this
 * process clears them at once; a change made by another process (the CLI, another server) is
 * announced in change_log and clears them when the change feed sees it (HERALD_INVALIDATION_POLL_MS).
 * `generation` keeps a read that raced with a change from storing what it read before the change.
 */
const cached = new LRUCache<string, Workflow>({ max: 10_000 });
let generation = 0;

function cacheKey(workspaceId: string, slug: string): string {
  return `${workspaceId}\u0000${slug}`;
}

/** Drops every cached workflow (the change feed calls this when another process changed something). */
export function forgetCachedWorkflows(): void {
  generation += 1;
  cached.clear();
}

export class WorkflowService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Validates a definition completely (schema and every template) before anything is written. */
  validate(value: unknown): WorkflowDefinition {
    const parsed = parseWorkflowDefinition(value);
    if (!parsed.ok) throw new AppError('VALIDATION_FAILED', `invalid workflow: ${parsed.problems.join('; ')}`);
    for (const step of parsed.definition.steps) {
      if (step.type !== 'inbox') continue;
      try {
        checkTemplates(step.template);
      } catch (error) {
        if (error instanceof TemplateError)
          throw new AppError('VALIDATION_FAILED', `invalid workflow ${parsed.definition.slug}: ${error.message}`);
        throw error;
      }
    }
    return parsed.definition;
  }

  /**
   * What is legal but likely a mistake in applied workflows: a category the workspace does not
   * define (deliveries then follow the default preference, opt-in, and no preference page lists it).
   */
  async warningsFor(workspace: { id: string; slug: string }, workflows: Workflow[]): Promise<string[]> {
    const known = new Set((await listCategories(this.deps.db, workspace.id)).map((category) => category.slug));
    return workflows
      .filter((workflow) => !known.has(workflow.category))
      .map(
        (workflow) =>
          `workflow ${workflow.slug} names category "${workflow.category}", which ${workspace.slug} does not define; ` +
          'its deliveries are opt-in by default and no preference page lists it (herald category apply defines it)',
      );
  }

  /** Creates or replaces workflows by slug: all of them or none. */
  async apply(workspaceId: string, definitions: unknown[]): Promise<Workflow[]> {
    if (definitions.length === 0) throw new AppError('VALIDATION_FAILED', 'no workflow to apply');
    const valid = definitions.map((d) => this.validate(d));
    const slugs = new Set(valid.map((d) => d.slug));
    if (slugs.size !== valid.length) throw new AppError('VALIDATION_FAILED', 'the same workflow slug appears twice');
    const now = this.deps.clock.now();
    const applied = await this.deps.db.transaction().execute(async (trx) => {
      const out: Workflow[] = [];
      for (const d of valid) {
        const existing = await findWorkflow(trx, workspaceId, d.slug);
        const row: WorkflowRow = {
          workspace_id: workspaceId,
          slug: d.slug,
          name: d.name ?? d.slug,
          category: d.category,
          steps: JSON.stringify(d.steps),
          created_at: existing?.created_at ?? now,
          updated_at: now,
        };
        await upsertWorkflow(trx, row);
        await recordChange(trx, { workspaceId, entity: 'workflow', entityId: d.slug, at: now });
        out.push(toWorkflow(row));
      }
      return out;
    });
    forgetCachedWorkflows();
    return applied;
  }

  /** `db`: a transaction to read in (a delivery's), else the service's database. */
  async find(workspaceId: string, slug: string, db: Kysely<Database> = this.deps.db): Promise<Workflow | undefined> {
    const key = cacheKey(workspaceId, slug);
    const hit = cached.get(key);
    if (hit) return hit;
    const readAt = generation;
    const row = await findWorkflow(db, workspaceId, slug);
    if (!row) return undefined;
    const workflow = toWorkflow(row);
    if (readAt === generation) cached.set(key, workflow);
    return workflow;
  }

  async get(workspaceId: string, slug: string, db: Kysely<Database> = this.deps.db): Promise<Workflow> {
    const workflow = await this.find(workspaceId, slug, db);
    if (!workflow) {
      throw new AppError(
        'NOT_FOUND',
        `workflow "${slug}" not found in this workspace; create it with: herald workflow apply <workspace> <file.json>`,
      );
    }
    return workflow;
  }

  async list(workspaceId: string): Promise<Workflow[]> {
    return (await listWorkflows(this.deps.db, workspaceId)).map(toWorkflow);
  }

  async delete(workspaceId: string, slug: string): Promise<void> {
    const deleted = await this.deps.db.transaction().execute(async (trx) => {
      const count = await deleteWorkflow(trx, workspaceId, slug);
      if (count > 0) await recordChange(trx, { workspaceId, entity: 'workflow', entityId: slug, at: this.deps.clock.now() });
      return count;
    });
    forgetCachedWorkflows();
    if (deleted === 0) throw new AppError('NOT_FOUND', `workflow "${slug}" not found`);
  }
}
