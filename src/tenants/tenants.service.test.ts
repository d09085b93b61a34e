import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../lib/errors.js';
import {
  checkTenantId,
  fromBrandPayload,
  mergeCategorySettings,
  mergeTenantFields,
  parseTenantPayload,
  toBrandView,
} from './tenants.service.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message));
}

test('tenant ids are trimmed and must fit one URL path segment', () => {
  assert.equal(checkTenantId('  acme '), 'acme');
  assert.equal(checkTenantId('Acme Corp'), 'Acme Corp');
  assert.equal(checkTenantId('x'.repeat(64)), 'x'.repeat(64));
  rejects(() => checkTenantId('x'.repeat(65)), /at most 64/);
  rejects(() => checkTenantId('   '), /non-empty/);
  rejects(() => checkTenantId(7), /non-empty/);
  rejects(() => checkTenantId('a/b'), /must not contain "\/"/);
  rejects(() => checkTenantId('a?b'), /must not contain/);
  rejects(() => checkTenantId('a#b'), /must not contain/);
  rejects(() => checkTenantId('a\nb'), /control characters/);
});

test('an upsert payload splits into the name and the stored fields, dropping computed keys', () => {
  const { name, fields } = parseTenantPayload({
    tenant_id: 'ignored',
    tenant_name: ' Acme ',
    created_at: '2020-01-01T00:00:00.000Z',
    primary_color: '#FF0000',
    custom: { deep: true },
  });
  assert.equal(name, 'Acme');
  assert.deepEqual(fields, { primary_color: '#FF0000', custom: { deep: true } });
  assert.deepEqual(parseTenantPayload(undefined), { name: undefined, fields: {} });
  rejects(() => parseTenantPayload({ primary_color: 'red' }), /primary_color: must be a hex colour/);
  rejects(() => parseTenantPayload({ tenant_name: '' }), /tenant_name: must not be empty/);
  rejects(() => parseTenantPayload({ blocked_channels: [''] }), /blocked_channels/);
  rejects(() => parseTenantPayload('acme'), /JSON object/);
});

test('upsert merges field by field; null and an empty colour remove a field', () => {
  const current = { logo: 'l.png', primary_color: '#000', properties: { a: 1 } };
  assert.deepEqual(mergeTenantFields(current, { logo: null, primary_color: '', properties: { b: 2 }, timezone: 'UTC' }), {
    properties: { b: 2 },
    timezone: 'UTC',
  });
  assert.deepEqual(mergeTenantFields(current, {}), current);
});

test('category settings: null or "" resets a field, unknown keys and wrong types are refused', () => {
  const current = { preference: 'opt_out', visible_to_subscriber: false };
  assert.deepEqual(mergeCategorySettings(current, { preference: '', mandatory_channels: ['email'] }), {
    visible_to_subscriber: false,
    mandatory_channels: ['email'],
  });
  assert.deepEqual(mergeCategorySettings(current, { visible_to_subscriber: null }), { preference: 'opt_out' });
  assert.deepEqual(mergeCategorySettings(current, undefined), current);
  assert.deepEqual(mergeCategorySettings({}, { properties: [] }), { properties: [] });
  rejects(() => mergeCategorySettings({}, { preference: 'maybe' }), /preference/);
  rejects(() => mergeCategorySettings({}, { enabled_for_tenant: 'true' }), /enabled_for_tenant/);
  rejects(() => mergeCategorySettings({}, { colour: 'blue' }), /colour/);
  rejects(() => mergeCategorySettings({}, [1]), /JSON object/);
});

test('brand payloads and views translate to and from tenant keys', () => {
  assert.deepEqual(fromBrandPayload({ brand_name: 'B', logo: 'x' }), { logo: 'x', tenant_name: 'B' });
  assert.deepEqual(fromBrandPayload({ brand_name: 'B', tenant_name: 'T' }), { brand_name: 'B', tenant_name: 'T' });
  assert.deepEqual(toBrandView({ tenant_id: 'b', tenant_name: 'B', logo: null, created_at: 'c', updated_at: 'u' }), {
    brand_id: 'b',
    brand_name: 'B',
    logo: null,
    created_at: 'c',
    updated_at: 'u',
  });
});
