import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateApiKey, generatePublicKey, generateWebhookSecret, generateWorkspaceKey, generateWorkspaceSecret } from './key-format.js';
import { redactSecrets } from './redact.js';
import { generateSigningKey } from './signing-keys.js';

test('credential-shaped text is cut out; identifiers and ordinary text are kept', async () => {
  const secret = generateWorkspaceSecret('test');
  const apiKey = generateApiKey('live');
  const webhookSecret = generateWebhookSecret('live');
  const signing = await generateSigningKey();
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJlbnRpdHlfaWQiOiJhbGljZSJ9.c2lnbmF0dXJl';
  const text = `a ${secret} b ${apiKey.key} c ${jwt} d ${signing.privateKeyPem} e ${signing.privateKeyBase64} f hst_${'x'.repeat(36)} g ${webhookSecret}`;
  const redacted = redactSecrets(text);
  for (const leaked of [
    secret,
    apiKey.key,
    webhookSecret,
    jwt,
    signing.privateKeyPem,
    signing.privateKeyBase64,
    'PRIVATE KEY',
    'x'.repeat(5),
  ]) {
    assert.ok(!redacted.includes(leaked), `still contains ${leaked.slice(0, 12)}`);
  }
  assert.ok(redacted.includes('hws_test_[redacted]'));
  assert.ok(redacted.includes('hwh_live_[redacted]'));
  assert.ok(redacted.includes(`${apiKey.displayPrefix}…`));
  assert.ok(redacted.includes('[redacted token]'));
  assert.ok(redacted.includes('[redacted private key]'));
  assert.ok(redacted.includes('hst_xxxx…'));

  const harmless = `workspace key ${generateWorkspaceKey('test')} public key ${generatePublicKey('test')} tenant "acme" not in token scope ["default"]`;
  assert.equal(redactSecrets(harmless), harmless);
  assert.equal(redactSecrets(apiKey.displayPrefix), apiKey.displayPrefix);
});

test('percent-encoded secrets are found and cut out, however many times they were encoded', async () => {
  const secret = generateWorkspaceSecret('test');
  const signing = await generateSigningKey();
  const cases = [
    `/v1/user/${encodeURIComponent(secret).replaceAll('_', '%5F')}`,
    `/v1/user/${encodeURIComponent(encodeURIComponent(secret).replaceAll('_', '%5F'))}`,
    `/v1/user/${encodeURIComponent(signing.privateKeyPem)}`,
    `/v1/user/x%ZZ${secret.replaceAll('_', '%5f')}`,
  ];
  for (const path of cases) {
    const redacted = redactSecrets(path);
    assert.ok(!/hws_test_[0-9A-Za-z]{8}/.test(decodeURIComponent(redacted.replaceAll('%ZZ', ''))), `still holds the secret: ${path}`);
    assert.ok(!redacted.includes('PRIVATE'), `still holds the key: ${path.slice(0, 40)}`);
  }
  // Ordinary encoded paths keep their form.
  assert.equal(redactSecrets('/v1/user/ada%20lovelace%2Fx'), '/v1/user/ada%20lovelace%2Fx');
});
