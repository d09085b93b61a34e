import Handlebars from 'handlebars';
import { LRUCache } from 'lru-cache';
import { parseDuration } from '../lib/duration.js';
import type { JsonObject } from '../lib/json.js';
import type { InboxTemplate } from './workflow-definition.js';

/**
 * Renders inbox templates. Handlebars, isolated from the global instance, without HTML escaping
 * (the inbox payload is JSON; the client renders it) and with prototype access left at Handlebars'
 * safe default (off). Compiled templates are cached by source text.
 */
const handlebars = Handlebars.create();
// `log` writes its arguments (trigger data, profiles) to stdout, outside the logger and its
// redaction. Templates only compute text: no helper may reach outside the template.
handlebars.unregisterHelper('log');
const compiled = new LRUCache<string, HandlebarsTemplateDelegate>({ max: 5_000 });

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export function renderText(source: string, context: JsonObject): string {
  // Handlebars only reads `{{`: text without one renders as itself (a button label, a fixed URL).
  if (!source.includes('{{')) return source;
  let template = compiled.get(source);
  if (!template) {
    try {
      template = handlebars.compile(source, { noEscape: true, strict: false });
      // Compile errors surface on first render; force them now so they are reported once.
      template({});
    } catch (error) {
      throw new TemplateError(`template "${source.slice(0, 60)}" does not compile: ${(error as Error).message}`);
    }
    compiled.set(source, template);
  }
  try {
    return template(context);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // JSON data can hold objects such as {"toString": []}, which no conversion to text survives
    // (a TypeError, once a 500). Rendered again without such keys, they read like any other object.
    try {
      return template(withoutCoercionKeys(context) as JsonObject);
    } catch (retryError) {
      throw new TemplateError(`template "${source.slice(0, 60)}" cannot render this data: ${(retryError as Error).message}`);
    }
  }
}

/** A copy of `value` where no object has its own `toString` or `valueOf` (JSON cannot make them functions). */
function withoutCoercionKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCoercionKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'toString' && key !== 'valueOf')
      .map(([key, item]) => [key, withoutCoercionKeys(item)]),
  );
}

/** Checks every template string of a step compiles (used when a workflow is applied). */
export function checkTemplates(template: InboxTemplate): void {
  for (const text of templateStrings(template)) renderText(text, {});
}

function templateStrings(t: InboxTemplate): string[] {
  const out = [t.text];
  if (t.header) out.push(t.header);
  if (t.url) out.push(t.url);
  if (typeof t.avatar === 'string') out.push(t.avatar);
  else if (t.avatar) out.push(t.avatar.avatar_url, ...(t.avatar.action_url ? [t.avatar.action_url] : []));
  if (t.subtext) out.push(t.subtext.text, ...(t.subtext.action_url ? [t.subtext.action_url] : []));
  for (const action of t.actions ?? []) out.push(action.name, action.url);
  return out;
}

export interface RenderedInbox {
  /** The `message` object of the inbox notification, as the client SDKs read it. */
  message: JsonObject;
  tags: string[];
  isPinned: boolean;
  expiresAt: number | null;
  isExpiryVisible: boolean;
  canUserUnpin: boolean;
}

export function renderInbox(t: InboxTemplate, context: JsonObject, now: number): RenderedInbox {
  const r = (text: string | undefined) => (text === undefined ? undefined : renderText(text, context));
  const avatar =
    typeof t.avatar === 'string'
      ? { avatar_url: r(t.avatar) }
      : t.avatar
        ? { avatar_url: r(t.avatar.avatar_url), action_url: r(t.avatar.action_url) }
        : undefined;
  const message: JsonObject = {
    schema: '1.0',
    header: r(t.header) ?? null,
    text: r(t.text),
    url: r(t.url) ?? null,
    open_in_new_tab: t.open_in_new_tab ?? false,
    extra_data: t.extra_data ? JSON.stringify(t.extra_data) : null,
    actions: (t.actions ?? []).map((a) => ({ name: r(a.name), url: r(a.url), open_in_new_tab: a.open_in_new_tab ?? false })),
    avatar: avatar ?? null,
    subtext: t.subtext ? { text: r(t.subtext.text), action_url: r(t.subtext.action_url) ?? null } : null,
  };
  const expiryMs = t.expiry ? parseDuration(t.expiry) : null;
  return {
    message,
    tags: t.tags ?? [],
    isPinned: t.is_pinned ?? false,
    expiresAt: expiryMs ? now + expiryMs : null,
    isExpiryVisible: t.is_expiry_visible ?? false,
    canUserUnpin: t.can_user_unpin ?? false,
  };
}
