/**
 * The raw ES256 bound, run by bench/run.ts as its own process: `node --import tsx bench/verify-bound.ts <spec.json>`.
 * One thread doing nothing but `crypto.verify` (ES256, IEEE P1363 signatures) of user tokens
 * signed with the workspace's signing key, for a few seconds. A server that checks every fresh
 * token cannot answer more requests per second per core than this. Prints one JSON line (VerifyResult).
 */
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { emitResult, mintUserToken, readSpec, type VerifyResult, type VerifySpec } from './lib/common.js';

const spec = readSpec<VerifySpec>();
const privateKey = createPrivateKey(spec.privateKeyPem);
const publicKey = createPublicKey(privateKey);

// Pre-split tokens: the loop times the signature check only, not JSON or base64 work.
const SAMPLES = 1_024;
const inputs: Buffer[] = [];
const signatures: Buffer[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const token = mintUserToken(privateKey, spec.kid, `verify-user-${i}`);
  const dot = token.lastIndexOf('.');
  inputs.push(Buffer.from(token.slice(0, dot)));
  signatures.push(Buffer.from(token.slice(dot + 1), 'base64url'));
}

const check = (i: number): boolean =>
  verify('sha256', inputs[i % SAMPLES] as Buffer, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signatures[i % SAMPLES] as Buffer);

// Warm-up (JIT, OpenSSL tables), then the timed loop; the clock is read every 256 verifies.
for (let i = 0; i < 2_000; i++) if (!check(i)) throw new Error('signature did not verify');
let verifies = 0;
const started = performance.now();
const deadline = started + spec.seconds * 1000;
let now = started;
while (now < deadline) {
  for (let j = 0; j < 256; j++) if (!check(verifies++)) throw new Error('signature did not verify');
  now = performance.now();
}
const seconds = (now - started) / 1000;
const result: VerifyResult = { verifiesPerSec: verifies / seconds, verifies, seconds };
emitResult(result);
