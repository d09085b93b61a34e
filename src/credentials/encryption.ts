import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for secrets Herald must be able to read back (workspace secrets: HMAC
 * verification needs the plaintext). AES-256-GCM with a fresh 96-bit nonce per value, and the
 * owning row's identity as additional authenticated data, so a ciphertext copied onto another
 * row (another workspace) fails to decrypt instead of silently working there.
 */

export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT_VERSION = 'v1';

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

/** Accepts 32 bytes written as 64 hex characters or as base64 (standard or URL-safe alphabet). */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === MASTER_KEY_BYTES) return bytes;
    throw new MasterKeyError(
      `master key decodes to ${bytes.length} bytes; it must be exactly ${MASTER_KEY_BYTES} random bytes ` +
        `(generate one with: herald master-key generate)`,
    );
  }
  throw new MasterKeyError(
    'master key is neither 64 hex characters nor base64 of 32 bytes (generate one with: herald master-key generate)',
  );
}

export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`master key must be ${MASTER_KEY_BYTES} bytes`);
    this.#key = Buffer.from(masterKey);
  }

  /**
   * A non-secret fingerprint of the master key (HMAC of a fixed label), stored in the database so
   * that starting with the wrong key fails at boot with a clear message rather than at the first
   * HMAC request.
   */
  fingerprint(): string {
    return createHmac('sha256', this.#key).update('herald/master-key-fingerprint/v1').digest('hex').slice(0, 16);
  }

  encrypt(plaintext: string, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT_VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  decrypt(sealed: string, aad: string): string {
    const [version, nonceText, bodyText, ...extra] = sealed.split('.');
    if (version !== FORMAT_VERSION || nonceText === undefined || bodyText === undefined || extra.length > 0) {
      throw new MasterKeyError('encrypted value has an unknown format');
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new MasterKeyError('encrypted value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new MasterKeyError('cannot decrypt a stored secret: wrong master key, or the value was tampered with');
    }
  }
}
