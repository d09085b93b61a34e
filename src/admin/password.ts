import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

/**
 * Dashboard passwords: argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane),
 * which are also @node-rs/argon2's defaults, written out so a library upgrade cannot weaken them.
 * About 40-60 ms to hash and 15-30 ms to verify on one core; both run on libuv's thread pool.
 * The PHC string carries its own parameters, so raising them later only affects new hashes
 * (and old ones are rehashed at the next successful login).
 */

// `Algorithm` is a const enum that isolatedModules cannot read; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const ARGON2_OPTIONS: Readonly<Options> = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 };
const CURRENT_PARAMS_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_CHARS = 256;

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_CHARS) return `the password must have at least ${MIN_PASSWORD_CHARS} characters`;
  if (length > MAX_PASSWORD_CHARS) return `the password must have at most ${MAX_PASSWORD_CHARS} characters`;
  if (password.trim().length === 0) return 'the password must not be only spaces';
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** Constant-time in the password (argon2 compares the digests itself); false for a malformed hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

export function needsRehash(phc: string): boolean {
  return !phc.startsWith(CURRENT_PARAMS_PREFIX);
}

let dummy: Promise<string> | undefined;

/**
 * A hash of nothing anyone knows, with the current parameters. Verifying against it when the
 * email is unknown (or the account disabled) makes that answer take as long as a wrong password.
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64'));
  return dummy;
}
