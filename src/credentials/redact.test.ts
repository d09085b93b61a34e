import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateApiKey, generateWorkspaceSecret, generateWorkspaceKey, generatePublicKey } from './key-format.js';
import { redactSecrets } from './redact.js';
import { generateSigningKey } from './signing-keys.js';

test('credential-shaped text is cut out; identifiers and ordinary text are kept', async () => {
  const secret = generateWorkspaceSecret('test');
  const apiKey = generateApiKey('live');
  const signing = await generateSigningKey();
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJlbnRpdHlfaWQiOiJhbGljZSJ9.c2lnbmF0dXJl';
  const text = `a ${secret} b ${apiKey.key} c ${jwt} d ${signing.privateKeyPem} e ${signing.privateKeyBase64} f hst_${'x'.repeat(36)}`;
  const redacted = redactSecrets(text);
  for (const leaked of [secret, apiKey.key, jwt, signing.privateKeyPem, signing.privateKeyBase64, 'PRIVATE KEY', 'x'.repeat(5)]) {
    assert.ok(!redacted.includes(leaked), `still contains ${leaked.slice(0, 12)}`);
  }
  assert.ok(redacted.includes('hws_test_[redacted]'));
  assert.ok(redacted.includes(`${apiKey.displayPrefix}…`));
  assert.ok(redacted.includes('[redacted token]'));
  assert.ok(redacted.includes('[redacted private key]'));
  assert.ok(redacted.includes('hst_xxxx…'));

  const harmless = `workspace key ${generateWorkspaceKey('test')} public key ${generatePublicKey('test')} tenant "acme" not in token scope ["default"]`;
  assert.equal(redactSecrets(harmless), harmless);
  assert.equal(redactSecrets(apiKey.displayPrefix), apiKey.displayPrefix);
});
