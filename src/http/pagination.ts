import { AppError } from '../lib/errors.js';

export interface LimitOffset {
  limit: number;
  offset: number;
}

function readInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  const parsed = Number(text);
  if (!Number.isInteger(parsed) || parsed < 0) throw new AppError('VALIDATION_FAILED', `${name} must be a non-negative integer`);
  // Past 2^53 a number is no longer exact, and the databases refuse it as an integer.
  if (!Number.isSafeInteger(parsed)) throw new AppError('VALIDATION_FAILED', `${name} must be at most ${Number.MAX_SAFE_INTEGER}`);
  return parsed;
}

/** `?limit=&offset=` as the SuprSend list endpoints take them (tenants, lists, …). */
export function parseLimitOffset(query: Record<string, unknown>, defaults: { limit: number; max: number }): LimitOffset {
  const limit = readInt(query['limit'], 'limit') ?? defaults.limit;
  const offset = readInt(query['offset'], 'offset') ?? 0;
  return { limit: Math.min(Math.max(limit, 1), defaults.max), offset };
}

/** Response `meta` of an offset-paginated list: `count` is the total number of items. */
export function offsetMeta(total: number, page: LimitOffset): { count: number; limit: number; offset: number } {
  return { count: total, limit: page.limit, offset: page.offset };
}
