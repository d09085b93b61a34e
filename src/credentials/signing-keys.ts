import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/**
 * ES256 signing keys. Herald generates the pair, hands the private half out exactly once (PEM
 * and Base64-of-PEM, the form SuprSend users paste into env vars) and keeps only the public half.
 * The key id (`kid`) is `hsk_` + the RFC 7638 JWK thumbprint of the public key: stable, derivable from the
 * private key alone (so `herald token sign` can stamp it), and globally unique per key.
 */

export class SigningKeyFormatError extends Error {
  override name = 'SigningKeyFormatError';
}

export interface GeneratedSigningKey {
  kid: string;
  publicKeyPem: string;
  privateKeyPem: string;
  privateKeyBase64: string;
}

const PEM_BASE64_PREFIX = 'LS0tLS1CRUdJTi'; // base64 of "-----BEGIN"

export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    kid: await thumbprintOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem,
    privateKeyBase64: Buffer.from(privateKeyPem, 'utf8').toString('base64'),
  };
}

/** `hsk_` + RFC 7638 thumbprint. The prefix keeps ids from starting with `-` (base64url can), which CLIs would read as a flag. */
export async function thumbprintOf(publicKey: KeyObject): Promise<string> {
  return `hsk_${await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256')}`;
}

function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningKeyFormatError(`${what} is not an ES256 (P-256 EC) key`);
  }
}

/**
 * Reads a private signing key given as PEM text or as Base64 of the PEM text (what the dashboard
 * shows; it starts `LS0tLS1CRUdJTi`).
 */
export function readPrivateSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  const pem = trimmed.startsWith(PEM_BASE64_PREFIX) ? Buffer.from(trimmed, 'base64').toString('utf8') : trimmed;
  if (!pem.includes('-----BEGIN')) {
    throw new SigningKeyFormatError('signing key is neither PEM nor Base64 of a PEM (expected -----BEGIN or LS0tLS1CRUdJTi)');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new SigningKeyFormatError('signing key PEM could not be parsed as a private key');
  }
  assertP256(key, 'signing key');
  return key;
}

/** Reads and validates a public ES256 key to register (SPKI PEM, or Base64 of it). Returns canonical SPKI PEM. */
export function readPublicSigningKey(text: string): { key: KeyObject; pem: string } {
  const trimmed = text.trim();
  const pem = trimmed.startsWith(PEM_BASE64_PREFIX) ? Buffer.from(trimmed, 'base64').toString('utf8') : trimmed;
  if (/PRIVATE KEY/.test(pem)) {
    throw new SigningKeyFormatError('this is a private key; import only the public half (openssl ec -in key.pem -pubout)');
  }
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new SigningKeyFormatError('expected a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new SigningKeyFormatError('public key PEM could not be parsed');
  }
  assertP256(key, 'public key');
  return { key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}
