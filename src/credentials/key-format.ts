import { crc32 } from 'node:zlib';
import { encodeBase62Fixed, isBase62, randomBase62 } from '../lib/base62.js';
import { sha256Hex } from '../lib/crypto.js';

/**
 * Credential formats. Decided once; documented in README ("Credential formats").
 *
 *   workspace key     hwk_<mode>_<22 base62>                       identifier, not secret
 *   workspace secret  hws_<mode>_<40 base62><6 base62 CRC32>       ≈238 random bits
 *   API key           hak_<mode>_<30 base62><6 base62 CRC32>       ≈178 random bits
 *   public key        hpk_<mode>_<24 base62>                       identifier, not secret
 *   service token     hst_<30 base62><6 base62 CRC32>              ≈178 random bits; admin API, no mode
 *   webhook secret    hwh_<mode>_<40 base62><6 base62 CRC32>       ≈238 random bits; signs outbound webhooks
 *
 * `<mode>` is `test` or `live` (the workspace's mode) so a key tells where it belongs.
 * The CRC32 lets a secret scanner, or Herald itself, reject a lookalike or a typo offline.
 * Every character is URL-safe: the SDKs put the workspace key unencoded in URL paths.
 */

export type WorkspaceMode = 'test' | 'live';

const CHECKSUM_CHARS = 6;
const WORKSPACE_KEY_RANDOM_CHARS = 22;
const WORKSPACE_SECRET_RANDOM_CHARS = 40;
const API_KEY_RANDOM_CHARS = 30;
const PUBLIC_KEY_RANDOM_CHARS = 24;
const API_KEY_DISPLAY_RANDOM_CHARS = 4;
const SERVICE_TOKEN_RANDOM_CHARS = 30;

const PREFIX = {
  workspaceKey: 'hwk',
  workspaceSecret: 'hws',
  apiKey: 'hak',
  publicKey: 'hpk',
  serviceToken: 'hst',
  webhookSecret: 'hwh',
} as const;

function checksumOf(body: string): string {
  return encodeBase62Fixed(crc32(body), CHECKSUM_CHARS);
}

function withChecksum(body: string): string {
  return body + checksumOf(body);
}

export function generateWorkspaceKey(mode: WorkspaceMode): string {
  return `${PREFIX.workspaceKey}_${mode}_${randomBase62(WORKSPACE_KEY_RANDOM_CHARS)}`;
}

export function generateWorkspaceSecret(mode: WorkspaceMode): string {
  return withChecksum(`${PREFIX.workspaceSecret}_${mode}_${randomBase62(WORKSPACE_SECRET_RANDOM_CHARS)}`);
}

export function generateWebhookSecret(mode: WorkspaceMode): string {
  return withChecksum(`${PREFIX.webhookSecret}_${mode}_${randomBase62(WORKSPACE_SECRET_RANDOM_CHARS)}`);
}

export function generatePublicKey(mode: WorkspaceMode): string {
  return `${PREFIX.publicKey}_${mode}_${randomBase62(PUBLIC_KEY_RANDOM_CHARS)}`;
}

export interface GeneratedApiKey {
  /** The plaintext key: returned to the caller once, never stored. */
  key: string;
  /** SHA-256 (hex) of the key: what the database holds. */
  hash: string;
  /** Short, non-secret start of the key shown in lists, e.g. `hak_test_Ab3x`. */
  displayPrefix: string;
}

export function generateApiKey(mode: WorkspaceMode): GeneratedApiKey {
  const key = withChecksum(`${PREFIX.apiKey}_${mode}_${randomBase62(API_KEY_RANDOM_CHARS)}`);
  return { key, hash: hashApiKey(key), displayPrefix: apiKeyDisplayPrefix(key) };
}

export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, `${PREFIX.apiKey}_test_`.length + API_KEY_DISPLAY_RANDOM_CHARS);
}

export type FormatCheck = { ok: true; mode: WorkspaceMode } | { ok: false; reason: string };

function checkChecksummed(text: string, prefix: string, randomChars: number, what: string): FormatCheck {
  const modeMatch = /^([a-z]+)_(test|live)_/.exec(text);
  if (!modeMatch || modeMatch[1] !== prefix) {
    return { ok: false, reason: `not a Herald ${what} (expected it to start with ${prefix}_test_ or ${prefix}_live_)` };
  }
  const mode = modeMatch[2] as WorkspaceMode;
  const rest = text.slice(modeMatch[0].length);
  if (rest.length !== randomChars + CHECKSUM_CHARS) {
    return { ok: false, reason: `malformed ${what}: wrong length (truncated or padded when copied?)` };
  }
  if (!isBase62(rest)) return { ok: false, reason: `malformed ${what}: invalid characters` };
  const body = text.slice(0, text.length - CHECKSUM_CHARS);
  // The checksum is public information (anyone can compute CRC32), so a plain compare is fine here.
  if (checksumOf(body) !== text.slice(-CHECKSUM_CHARS)) {
    return { ok: false, reason: `malformed ${what}: checksum mismatch (a character was changed or mistyped)` };
  }
  return { ok: true, mode };
}

/** Offline validity check of an API key: prefix, length, alphabet, CRC32. No database involved. */
export function checkApiKeyFormat(text: string): FormatCheck {
  return checkChecksummed(text, PREFIX.apiKey, API_KEY_RANDOM_CHARS, 'API key');
}

export function checkWorkspaceSecretFormat(text: string): FormatCheck {
  return checkChecksummed(text, PREFIX.workspaceSecret, WORKSPACE_SECRET_RANDOM_CHARS, 'workspace secret');
}

export function looksLikePublicKey(text: string): boolean {
  return new RegExp(`^${PREFIX.publicKey}_(test|live)_[0-9A-Za-z]{${PUBLIC_KEY_RANDOM_CHARS}}$`).test(text);
}

export function looksLikeWorkspaceKey(text: string): boolean {
  return new RegExp(`^${PREFIX.workspaceKey}_(test|live)_[0-9A-Za-z]{${WORKSPACE_KEY_RANDOM_CHARS}}$`).test(text);
}

/**
 * Service tokens (admin API automation) belong to the installation, not to one workspace, so
 * they carry no mode. Same recipe as API keys: checksummed, shown once, stored as SHA-256.
 */
export function generateServiceToken(): GeneratedApiKey {
  const key = withChecksum(`${PREFIX.serviceToken}_${randomBase62(SERVICE_TOKEN_RANDOM_CHARS)}`);
  return { key, hash: hashApiKey(key), displayPrefix: key.slice(0, `${PREFIX.serviceToken}_`.length + API_KEY_DISPLAY_RANDOM_CHARS) };
}

/** Offline validity check of a service token: prefix, length, alphabet, CRC32. */
export function checkServiceTokenFormat(text: string): { ok: true } | { ok: false; reason: string } {
  const prefix = `${PREFIX.serviceToken}_`;
  if (!text.startsWith(prefix)) return { ok: false, reason: `not a Herald service token (expected it to start with ${prefix})` };
  const rest = text.slice(prefix.length);
  if (rest.length !== SERVICE_TOKEN_RANDOM_CHARS + CHECKSUM_CHARS) {
    return { ok: false, reason: 'malformed service token: wrong length (truncated or padded when copied?)' };
  }
  if (!isBase62(rest)) return { ok: false, reason: 'malformed service token: invalid characters' };
  if (checksumOf(text.slice(0, -CHECKSUM_CHARS)) !== text.slice(-CHECKSUM_CHARS)) {
    return { ok: false, reason: 'malformed service token: checksum mismatch (a character was changed or mistyped)' };
  }
  return { ok: true };
}
