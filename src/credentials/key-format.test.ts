import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkApiKeyFormat,
  checkServiceTokenFormat,
  checkWorkspaceSecretFormat,
  generateApiKey,
  generatePublicKey,
  generateServiceToken,
  generateWorkspaceKey,
  generateWorkspaceSecret,
  hashApiKey,
  looksLikePublicKey,
  looksLikeWorkspaceKey,
} from './key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

test('API keys carry a prefix, ≥160 random bits and a CRC32 checksum', () => {
  const { key, hash, displayPrefix } = generateApiKey('live');
  assert.match(key, /^hak_live_[0-9A-Za-z]{36}$/);
  // 30 random base62 characters: 30 * log2(62) ≈ 178.6 bits.
  assert.ok(30 * Math.log2(62) >= 160);
  assert.equal(hash, hashApiKey(key));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(displayPrefix, key.slice(0, 13));
  assert.deepEqual(checkApiKeyFormat(key), { ok: true, mode: 'live' });
});

test('every single-character change of an API key fails the offline checksum', () => {
  const { key } = generateApiKey('test');
  const body = key.slice('hak_test_'.length);
  let tried = 0;
  for (let i = 0; i < body.length; i++) {
    for (const replacement of BASE62) {
      if (replacement === body[i]) continue;
      const tampered = `hak_test_${body.slice(0, i)}${replacement}${body.slice(i + 1)}`;
      const result = checkApiKeyFormat(tampered);
      assert.equal(result.ok, false, `accepted ${tampered}`);
      tried++;
    }
  }
  assert.equal(tried, body.length * 61);
});

test('API key format errors say what is wrong', () => {
  const { key } = generateApiKey('test');
  const reasonOf = (text: string) => {
    const result = checkApiKeyFormat(text);
    assert.equal(result.ok, false);
    return result.ok ? '' : result.reason;
  };
  assert.match(reasonOf('sk_test_abc'), /expected it to start with hak_test_ or hak_live_/);
  assert.match(reasonOf(key.slice(0, -1)), /wrong length/);
  assert.match(reasonOf(`${key.slice(0, -1)}!`), /invalid characters/);
  const swapped = `${key.slice(0, 10)}${key[11]}${key[10]}${key.slice(12)}`;
  if (swapped !== key) assert.match(reasonOf(swapped), /checksum mismatch/);
  assert.equal(checkApiKeyFormat(key.replace('hak_test_', 'hak_live_')).ok, false, 'the mode is covered by the checksum');
});

test('workspace keys are URL-safe, at least 20 characters, and unique', () => {
  const keys = new Set(Array.from({ length: 200 }, () => generateWorkspaceKey('test')));
  assert.equal(keys.size, 200);
  for (const key of keys) {
    assert.ok(key.length >= 20);
    assert.equal(encodeURIComponent(key), key);
    assert.ok(looksLikeWorkspaceKey(key));
  }
});

test('workspace secrets and public keys have their own recognisable formats', () => {
  const secret = generateWorkspaceSecret('live');
  assert.match(secret, /^hws_live_[0-9A-Za-z]{46}$/);
  assert.deepEqual(checkWorkspaceSecretFormat(secret), { ok: true, mode: 'live' });
  assert.equal(checkApiKeyFormat(secret).ok, false, 'a secret is not an API key');
  const publicKey = generatePublicKey('test');
  assert.ok(looksLikePublicKey(publicKey));
  assert.equal(looksLikePublicKey(secret), false);
});

test('service tokens: hst_ prefix, 30 random base62, CRC32; a changed character fails offline', () => {
  const { key, hash, displayPrefix } = generateServiceToken();
  assert.match(key, /^hst_[0-9A-Za-z]{36}$/);
  assert.equal(hash, hashApiKey(key));
  assert.equal(displayPrefix, key.slice(0, 8));
  assert.deepEqual(checkServiceTokenFormat(key), { ok: true });
  const flipped = `${key.slice(0, 10)}${key[10] === 'a' ? 'b' : 'a'}${key.slice(11)}`;
  assert.equal(checkServiceTokenFormat(flipped).ok, false);
  assert.equal(checkServiceTokenFormat(key.slice(0, -1)).ok, false);
  assert.equal(checkServiceTokenFormat(`hak_${key.slice(4)}`).ok, false);
});
