import { AppError } from './errors.js';

/**
 * Text that can travel everywhere a client's string goes: UTF-8 encoders, URL encoding
 * (`encodeURIComponent` throws on a lone surrogate), PostgreSQL (which stores no U+0000) and
 * SQLite. Ids and names from clients are checked against it before anything uses them.
 */

// String.prototype.isWellFormed is in Node 20 (V8 11.3) but not in TypeScript's ES2023 lib.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

/** Why `text` cannot be stored or encoded as it is, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  if (text.includes('\u0000')) return 'contains the character U+0000';
  return undefined;
}

/** The longest distinct_id Herald stores (SuprSend's own limit). */
export const MAX_DISTINCT_ID_CHARS = 512;
/** The longest tenant_id Herald stores. */
export const MAX_TENANT_ID_CHARS = 64;

/** An id from a client (already a trimmed, non-empty string): at most `max` characters of clean text. */
export function checkIdText(id: string, what: string, max: number): string {
  if (id.length > max) throw new AppError('VALIDATION_FAILED', `${what} must be at most ${max} characters`);
  const problem = textProblem(id);
  if (problem !== undefined) throw new AppError('VALIDATION_FAILED', `${what} ${problem}`);
  return id;
}

/**
 * An id the SDKs may send as a JSON number (`identify(12345)`; web-sdk types it `unknown`): a safe
 * integer stands for its decimal text, as it does in query strings and paths. Any other number
 * (1.5, 1e20, 1e999) has no exact text and is refused. Non-numbers pass through to the caller's check.
 */
export function integerIdAsText(value: unknown, what: string): unknown {
  if (typeof value !== 'number') return value;
  if (!Number.isSafeInteger(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${what} must be a string or a whole number of at most ${Number.MAX_SAFE_INTEGER} (got ${String(value)}); send large or fractional ids as strings`,
    );
  }
  return String(value);
}
