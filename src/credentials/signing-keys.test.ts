import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { generateSigningKey, publicKeyOf, readPrivateSigningKey, readPublicSigningKey, thumbprintOf } from './signing-keys.js';

test('a generated signing key comes as PKCS#8 PEM and as Base64 of that PEM', async () => {
  const key = await generateSigningKey();
  assert.ok(key.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----'));
  assert.ok(key.privateKeyBase64.startsWith('LS0tLS1CRUdJTi'));
  assert.equal(Buffer.from(key.privateKeyBase64, 'base64').toString('utf8'), key.privateKeyPem);
  assert.ok(key.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----'));
  assert.match(key.kid, /^hsk_[A-Za-z0-9_-]{43}$/);
});

test('both private key forms read to the same key, whose kid is derivable', async () => {
  const key = await generateSigningKey();
  for (const form of [key.privateKeyPem, key.privateKeyBase64, `\n${key.privateKeyBase64}\n`]) {
    assert.equal(await thumbprintOf(publicKeyOf(readPrivateSigningKey(form))), key.kid);
  }
});

test('keys that are not ES256 are refused', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  assert.throws(() => readPrivateSigningKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), /not an ES256/);
  assert.throws(() => readPrivateSigningKey(p384.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), /not an ES256/);
  assert.throws(() => readPublicSigningKey(p384.publicKey.export({ type: 'spki', format: 'pem' }).toString()), /not an ES256/);
  assert.throws(() => readPrivateSigningKey('hello'), /neither PEM nor Base64/);
});

test('importing a public key refuses private keys and garbage', async () => {
  const key = await generateSigningKey();
  assert.throws(() => readPublicSigningKey(key.privateKeyPem), /this is a private key/);
  assert.throws(() => readPublicSigningKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), /could not be parsed/);
  const imported = readPublicSigningKey(Buffer.from(key.publicKeyPem).toString('base64'));
  assert.equal(await thumbprintOf(imported.key), key.kid);
});
