import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  categoryChannels,
  decideDelivery,
  displayedPreference,
  isCategoryEditable,
  parseTenantCategorySettings,
  resolveCategory,
  type CategoryDefault,
  type Preference,
  type PreferenceSource,
  type UserCategoryChoice,
} from './preferences.resolution.js';

function tenant(settings: Record<string, unknown>) {
  return parseTenantCategorySettings(JSON.stringify(settings));
}

interface Case {
  name: string;
  categoryDefault: CategoryDefault | undefined;
  tenant?: Record<string, unknown>;
  user?: UserCategoryChoice;
  restricted?: boolean;
  channel?: string;
  preference: Preference;
  source: PreferenceSource;
  isEditable: boolean;
  deliver: boolean;
  reason: RegExp;
}

const CASES: Case[] = [
  {
    name: 'no choices anywhere: the category default applies',
    categoryDefault: 'opt_in',
    preference: 'opt_in',
    source: 'category',
    isEditable: true,
    deliver: true,
    reason: /opt_in \(the category's default\)/,
  },
  {
    name: 'opt_out category, nobody chose',
    categoryDefault: 'opt_out',
    preference: 'opt_out',
    source: 'category',
    isEditable: true,
    deliver: false,
    reason: /opt_out \(the category's default\)/,
  },
  {
    name: 'unknown category falls back to opt_in',
    categoryDefault: undefined,
    preference: 'opt_in',
    source: 'unknown_category',
    isEditable: true,
    deliver: true,
    reason: /unknown category/,
  },
  {
    name: 'tenant default beats the category default',
    categoryDefault: 'opt_in',
    tenant: { preference: 'opt_out' },
    preference: 'opt_out',
    source: 'tenant',
    isEditable: true,
    deliver: false,
    reason: /tenant's default/,
  },
  {
    name: "user's explicit opt_in beats an opt_out tenant default",
    categoryDefault: 'opt_out',
    tenant: { preference: 'opt_out' },
    user: { preference: 'opt_in', optOutChannels: [] },
    preference: 'opt_in',
    source: 'user',
    isEditable: true,
    deliver: true,
    reason: /user's choice/,
  },
  {
    name: "user's opt_out beats the category default",
    categoryDefault: 'opt_in',
    user: { preference: 'opt_out', optOutChannels: [] },
    preference: 'opt_out',
    source: 'user',
    isEditable: true,
    deliver: false,
    reason: /opt_out \(the user's choice\)/,
  },
  {
    name: 'user opted out of this channel only',
    categoryDefault: 'opt_in',
    user: { preference: 'opt_in', optOutChannels: ['email'] },
    preference: 'opt_in',
    source: 'user',
    isEditable: true,
    deliver: false,
    reason: /opted out of email/,
  },
  {
    name: 'user opted out of another channel',
    categoryDefault: 'opt_in',
    user: { preference: 'opt_in', optOutChannels: ['sms'] },
    preference: 'opt_in',
    source: 'user',
    isEditable: true,
    deliver: true,
    reason: /user's choice/,
  },
  {
    name: 'user restricted the channel globally',
    categoryDefault: 'opt_in',
    restricted: true,
    preference: 'opt_in',
    source: 'category',
    isEditable: true,
    deliver: false,
    reason: /restricted email/,
  },
  {
    name: 'tenant disabled the category',
    categoryDefault: 'opt_in',
    tenant: { enabled_for_tenant: false },
    user: { preference: 'opt_in', optOutChannels: [] },
    preference: 'opt_out',
    source: 'user',
    isEditable: false,
    deliver: false,
    reason: /disabled/,
  },
  {
    name: 'tenant blocked the channel',
    categoryDefault: 'opt_in',
    tenant: { blocked_channels: ['email'] },
    preference: 'opt_in',
    source: 'category',
    isEditable: true,
    deliver: false,
    reason: /blocked email/,
  },
  {
    name: 'cant_unsubscribe ignores a stored opt_out, a channel opt-out and a global restriction',
    categoryDefault: 'cant_unsubscribe',
    user: { preference: 'opt_out', optOutChannels: ['email'] },
    restricted: true,
    preference: 'opt_in',
    source: 'category_mandatory',
    isEditable: false,
    deliver: true,
    reason: /cannot be unsubscribed/,
  },
  {
    name: 'cant_unsubscribe even when the tenant disabled the category',
    categoryDefault: 'cant_unsubscribe',
    tenant: { enabled_for_tenant: false, preference: 'opt_out' },
    preference: 'opt_in',
    source: 'category_mandatory',
    isEditable: false,
    deliver: true,
    reason: /cannot be unsubscribed/,
  },
  {
    name: 'tenant made the category mandatory',
    categoryDefault: 'opt_out',
    tenant: { preference: 'cant_unsubscribe' },
    user: { preference: 'opt_out', optOutChannels: [] },
    preference: 'opt_in',
    source: 'tenant_mandatory',
    isEditable: false,
    deliver: true,
    reason: /tenant made the category mandatory/,
  },
  {
    name: 'mandatory channel beats opt_out, restriction and a disabled category',
    categoryDefault: 'opt_in',
    tenant: { mandatory_channels: ['email'], enabled_for_tenant: false },
    user: { preference: 'opt_out', optOutChannels: ['email'] },
    restricted: true,
    preference: 'opt_out',
    source: 'user',
    isEditable: false,
    deliver: true,
    reason: /email is mandatory/,
  },
  {
    name: 'a mandatory channel does not make other channels mandatory',
    categoryDefault: 'opt_in',
    tenant: { mandatory_channels: ['email'] },
    user: { preference: 'opt_out', optOutChannels: [] },
    channel: 'sms',
    preference: 'opt_out',
    source: 'user',
    isEditable: true,
    deliver: false,
    reason: /opt_out/,
  },
  {
    name: 'empty tenant preference ("" from the Go SDK) means no tenant default',
    categoryDefault: 'opt_out',
    tenant: { preference: '' },
    preference: 'opt_out',
    source: 'category',
    isEditable: true,
    deliver: false,
    reason: /category's default/,
  },
];

describe('preference resolution', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const resolved = resolveCategory({
        categoryDefault: c.categoryDefault,
        tenant: c.tenant ? tenant(c.tenant) : undefined,
        user: c.user,
      });
      assert.equal(displayedPreference(resolved), c.preference);
      assert.equal(resolved.source, c.source);
      assert.equal(isCategoryEditable(resolved), c.isEditable);
      const decision = decideDelivery(resolved, {
        category: 'cat',
        channel: c.channel ?? 'email',
        tenantId: 'acme',
        isChannelRestricted: c.restricted ?? false,
      });
      assert.equal(decision.deliver, c.deliver, decision.reason);
      assert.match(decision.reason, c.reason);
    });
  }

  test('channels of a category: blocked ones left out, mandatory ones locked on, opted-out ones off', () => {
    const resolved = resolveCategory({
      categoryDefault: 'opt_in',
      tenant: tenant({ blocked_channels: ['slack', 'ms_teams'], mandatory_channels: ['inbox'] }),
      user: { preference: 'opt_in', optOutChannels: ['sms', 'inbox'] },
    });
    const channels = categoryChannels(resolved);
    assert.deepEqual(
      channels.map((c) => c.channel),
      ['email', 'sms', 'whatsapp', 'androidpush', 'iospush', 'webpush', 'inbox'],
    );
    assert.deepEqual(
      channels.find((c) => c.channel === 'sms'),
      { channel: 'sms', preference: 'opt_out', is_editable: true },
    );
    assert.deepEqual(
      channels.find((c) => c.channel === 'inbox'),
      { channel: 'inbox', preference: 'opt_in', is_editable: false },
    );
    assert.deepEqual(
      channels.find((c) => c.channel === 'email'),
      { channel: 'email', preference: 'opt_in', is_editable: true },
    );
  });

  test('an opted-out category shows its channels off; a mandatory one shows them locked on', () => {
    const off = categoryChannels(resolveCategory({ categoryDefault: 'opt_out', tenant: undefined, user: undefined }));
    assert.ok(off.every((c) => c.preference === 'opt_out' && c.is_editable));
    const locked = categoryChannels(resolveCategory({ categoryDefault: 'cant_unsubscribe', tenant: undefined, user: undefined }));
    assert.equal(locked.length, 9);
    assert.ok(locked.every((c) => c.preference === 'opt_in' && !c.is_editable));
  });

  test('a disabled category keeps only its mandatory channels', () => {
    const resolved = resolveCategory({
      categoryDefault: 'opt_in',
      tenant: tenant({ enabled_for_tenant: false, mandatory_channels: ['email'] }),
      user: undefined,
    });
    assert.deepEqual(categoryChannels(resolved), [{ channel: 'email', preference: 'opt_in', is_editable: false }]);
  });

  test('tenant settings are read tolerantly', () => {
    assert.equal(parseTenantCategorySettings(null), undefined);
    assert.equal(parseTenantCategorySettings(undefined), undefined);
    const broken = parseTenantCategorySettings('{not json');
    assert.deepEqual(
      broken && { ...broken, mandatoryChannels: [...broken.mandatoryChannels], blockedChannels: [...broken.blockedChannels] },
      {
        preference: undefined,
        isEnabledForTenant: true,
        isVisibleToSubscriber: true,
        mandatoryChannels: [],
        blockedChannels: [],
      },
    );
    const odd = parseTenantCategorySettings(
      '{"preference":"maybe","mandatory_channels":"email","blocked_channels":[1,"sms"],"visible_to_subscriber":false}',
    );
    assert.equal(odd?.preference, undefined);
    assert.deepEqual([...(odd?.mandatoryChannels ?? [])], []);
    assert.deepEqual([...(odd?.blockedChannels ?? [])], ['sms']);
    assert.equal(odd?.isVisibleToSubscriber, false);
  });
});
