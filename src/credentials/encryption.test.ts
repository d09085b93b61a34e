import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generateMasterKey, MasterKeyError, parseMasterKey, SecretBox } from './encryption.js';

test('master keys are accepted as hex or base64 of exactly 32 bytes', () => {
  const bytes = randomBytes(32);
  assert.deepEqual(parseMasterKey(bytes.toString('hex')), bytes);
  assert.deepEqual(parseMasterKey(bytes.toString('base64')), bytes);
  assert.deepEqual(parseMasterKey(bytes.toString('base64url')), bytes);
  assert.deepEqual(parseMasterKey(`  ${bytes.toString('base64')}\n`), bytes);
  assert.equal(parseMasterKey(generateMasterKey()).length, 32);
  assert.throws(() => parseMasterKey(randomBytes(16).toString('base64')), /decodes to 16 bytes/);
  assert.throws(() => parseMasterKey('not a key!'), MasterKeyError);
});

test('sealed values round-trip, use a fresh nonce each time, and hide the plaintext', () => {
  const box = new SecretBox(randomBytes(32));
  const a = box.encrypt('hws_test_secret', 'row-1');
  const b = box.encrypt('hws_test_secret', 'row-1');
  assert.notEqual(a, b);
  assert.ok(!a.includes('hws_test_secret'));
  assert.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  assert.equal(box.decrypt(a, 'row-1'), 'hws_test_secret');
});

test('a value moved to another row, tampered with, or read with another key does not decrypt', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const sealed = box.encrypt('secret', 'workspace-a');
  assert.throws(() => box.decrypt(sealed, 'workspace-b'), /wrong master key, or the value was tampered with/);
  const [version, nonce, body] = sealed.split('.') as [string, string, string];
  const flipped = Buffer.from(body, 'base64url');
  flipped[0] = (flipped[0] as number) ^ 1;
  assert.throws(() => box.decrypt(`${version}.${nonce}.${flipped.toString('base64url')}`, 'workspace-a'), MasterKeyError);
  assert.throws(() => new SecretBox(randomBytes(32)).decrypt(sealed, 'workspace-a'), MasterKeyError);
  assert.throws(() => box.decrypt('v2.x.y', 'workspace-a'), /unknown format/);
});

test('the fingerprint identifies the key without revealing it', () => {
  const key = randomBytes(32);
  const fingerprint = new SecretBox(key).fingerprint();
  assert.equal(fingerprint, new SecretBox(Buffer.from(key)).fingerprint());
  assert.notEqual(fingerprint, new SecretBox(randomBytes(32)).fingerprint());
  assert.ok(!key.toString('hex').includes(fingerprint));
});
