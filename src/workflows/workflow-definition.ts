import { z } from 'zod';
import { isPlainObject } from '../lib/json.js';
import { parseDuration } from '../lib/duration.js';

/**
 * The workflow file format (`herald workflow apply <ws> <file.json>`), documented in README:
 *
 *   {"slug": "order-shipped", "name": "Order shipped", "category": "transactional",
 *    "steps": [{"type": "inbox", "template": {"header": "Order {{data.order_id}}", "text": "…", "url": "…",
 *               "tags": ["orders"]}},
 *              {"type": "webhook", "url": "https://…"}]}
 *
 * String fields of templates are Handlebars templates rendered with {data, recipient, actor, tenant_id, workflow}.
 */

const SLUG_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const templateText = z.string().max(10_000);

const InboxTemplate = z
  .object({
    header: templateText.optional(),
    text: templateText,
    url: templateText.optional(),
    open_in_new_tab: z.boolean().optional(),
    avatar: z.union([templateText, z.object({ avatar_url: templateText, action_url: templateText.optional() }).strict()]).optional(),
    subtext: z.object({ text: templateText, action_url: templateText.optional() }).strict().optional(),
    actions: z
      .array(z.object({ name: templateText, url: templateText, open_in_new_tab: z.boolean().optional() }).strict())
      .max(2)
      .optional(),
    extra_data: z.record(z.string(), z.unknown()).optional(),
    tags: z.array(z.string().min(1).max(64)).max(20).optional(),
    expiry: z
      .string()
      .refine((text) => (parseDuration(text) ?? 0) > 0, 'expiry must be a duration such as 7d or 12h')
      .optional(),
    is_expiry_visible: z.boolean().optional(),
    is_pinned: z.boolean().optional(),
    can_user_unpin: z.boolean().optional(),
  })
  .strict();

const InboxStep = z.object({ type: z.literal('inbox'), template: InboxTemplate }).strict();

const WebhookStep = z
  .object({
    type: z.literal('webhook'),
    url: z
      .string()
      .url()
      .refine((url) => /^https?:\/\//i.test(url), 'webhook url must be http:// or https://'),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string().max(1_000)).optional(),
  })
  .strict();

export const WorkflowDefinition = z
  .object({
    slug: z.string().regex(SLUG_RE, 'slug: 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit'),
    name: z.string().min(1).max(200).optional(),
    category: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, 'category: a category slug such as transactional'),
    steps: z
      .array(z.discriminatedUnion('type', [InboxStep, WebhookStep]))
      .min(1)
      .max(20),
  })
  .strict();

export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;
export type WorkflowStep = WorkflowDefinition['steps'][number];
export type InboxTemplate = z.infer<typeof InboxTemplate>;

/** Fields Herald sets on a stored workflow: what `workflow get` prints can be applied again as is. */
const READ_ONLY_FIELDS = ['created_at', 'updated_at'];

/** Validates a definition; returns readable problems (path: message) instead of throwing. */
export function parseWorkflowDefinition(value: unknown): { ok: true; definition: WorkflowDefinition } | { ok: false; problems: string[] } {
  const parsed = WorkflowDefinition.safeParse(
    isPlainObject(value) ? Object.fromEntries(Object.entries(value).filter(([key]) => !READ_ONLY_FIELDS.includes(key))) : value,
  );
  if (parsed.success) return { ok: true, definition: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(workflow)'}: ${issue.message}`) };
}
