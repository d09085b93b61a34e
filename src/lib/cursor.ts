import { AppError } from './errors.js';

/**
 * Keyset cursor over rows ordered newest first by (time, sequence): `<epoch ms>.<seq>`. Stable
 * while rows are added or pruned, unlike an offset.
 */
export interface TimeCursor {
  at: number;
  seq: number;
}

export function encodeTimeCursor(cursor: TimeCursor): string {
  return `${cursor.at}.${cursor.seq}`;
}

export function decodeTimeCursor(text: string): TimeCursor {
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(text);
  const at = Number(match?.[1]);
  const seq = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(at) || !Number.isSafeInteger(seq)) {
    throw new AppError('VALIDATION_FAILED', 'before must be a cursor returned as `next` by the previous page');
  }
  return { at, seq };
}
