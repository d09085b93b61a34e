import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_RE = /^[0-9A-Za-z]*$/;

/**
 * Uniformly random base62 string of `length` characters (rejection sampling, no modulo bias).
 * Each character carries log2(62) ≈ 5.95 bits.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = nextRandomByte();
    // 248 = 4 * 62: bytes at or above it would bias the low characters.
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

// Ids are drawn on every delivery: one CSPRNG call per 4 KiB instead of one per id. Each byte is
// handed out once, as Node's own randomUUID does with its entropy cache.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function nextRandomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

/** Fixed-width base62 of a non-negative integer, zero-padded on the left. */
export function encodeBase62Fixed(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('value must be a non-negative safe integer');
  let out = '';
  let rest = value;
  do {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  if (out.length > width) throw new RangeError(`value does not fit in ${width} base62 characters`);
  return out.padStart(width, '0');
}

export function isBase62(text: string): boolean {
  return BASE62_RE.test(text);
}
