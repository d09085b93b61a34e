import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import type { Role } from '../src/admin/admin-principal.js';
import { ListService } from '../src/lists/lists.service.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * The dashboard's read (and category write) API over a workspace's categories, tenants and lists:
 * what the hub API and the services stored reads back through /admin/api, page by page; viewers
 * read but cannot write; bad input is a 400 that changes nothing; another workspace's list is a
 * 404 word for word like a missing one.
 */

const PASSWORD = 'correct horse battery staple';
const ORIGIN = 'http://localhost';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const WS = '/admin/api/workspaces/staging';

interface Session {
  cookie: string;
  csrf: string;
}

interface ErrorBody {
  error: { type: string; message: string };
}

interface CategoryView {
  slug: string;
  name: string;
  section: string | null;
  description: string | null;
  default_preference: string;
}

interface OffsetAnswer {
  meta: { count: number; limit: number; offset: number };
  results: Array<Record<string, unknown>>;
}

interface MembersAnswer {
  list: { list_id: string; subscribers_count: number };
  members: string[];
  next: string | null;
}

for (const engine of enginesUnderTest()) {
  describe(`admin API: categories, tenants and lists on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    const emails: Partial<Record<Role, string>> = {};
    const sessions: Partial<Record<Role, Session>> = {};

    function call(session: Session, method: InjectOptions['method'], url: string, payload?: unknown): Promise<InjectResponse> {
      return h.app.inject({
        method,
        url,
        headers: { origin: ORIGIN, cookie: session.cookie, 'x-csrf-token': session.csrf },
        ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
      });
    }

    async function json<T>(session: Session, url: string): Promise<T> {
      const res = await call(session, 'GET', url);
      assert.equal(res.statusCode, 200, `GET ${url}: ${res.body}`);
      return res.json<T>();
    }

    async function hub(method: 'POST', url: string, body: unknown): Promise<void> {
      const res = await h.signed(method, url, JSON.stringify(body));
      assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    }

    /** Everything a category write could change (the rows and the audit log). */
    async function categoryState(): Promise<string> {
      const db = h.herald.db;
      return JSON.stringify({
        categories: await db.selectFrom('categories').selectAll().orderBy('workspace_id').orderBy('slug').execute(),
        audit: await db.selectFrom('audit_log').select('id').orderBy('id').execute(),
      });
    }

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const deps = createAdminGroupDeps(h.herald);
      for (const role of ['developer', 'viewer'] as const) {
        emails[role] = `${role}@example.com`;
        await deps.accounts.create({ email: emails[role], password: PASSWORD, role }, { kind: 'cli' }, CLI_ACTOR);
        const res = await h.app.inject({
          method: 'POST',
          url: '/admin/api/login',
          headers: { origin: ORIGIN },
          payload: { email: emails[role], password: PASSWORD },
        });
        assert.equal(res.statusCode, 200, res.body);
        const cookie = res.cookies.find((c) => c.name === 'herald_session');
        assert.ok(cookie);
        sessions[role] = { cookie: `herald_session=${cookie.value}`, csrf: res.json<{ csrf_token: string }>().csrf_token };
      }
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    const viewer = () => sessions.viewer as Session;
    const developer = () => sessions.developer as Session;

    test('categories: the CLI service and the dashboard write the same records; writes are audited; viewers cannot write', async () => {
      assert.deepEqual((await json<{ categories: CategoryView[] }>(viewer(), `${WS}/categories`)).categories, []);
      // What `herald category apply` does, then the dashboard's PUT.
      await new CategoryService(h.herald).apply(h.staging.id, {
        slug: 'security',
        name: 'Security',
        default_preference: 'cant_unsubscribe',
      });
      const created = await call(developer(), 'PUT', `${WS}/categories/billing`, {
        name: ' Billing ',
        section: 'Account',
        description: 'Invoices and receipts',
        default_preference: 'opt_out',
      });
      assert.equal(created.statusCode, 200, created.body);
      assert.equal(created.json<{ created: boolean }>().created, true);

      const listed = (await json<{ categories: CategoryView[] }>(viewer(), `${WS}/categories`)).categories;
      assert.deepEqual(
        listed.map((c) => [c.slug, c.name, c.section, c.description, c.default_preference]),
        [
          ['billing', 'Billing', 'Account', 'Invoices and receipts', 'opt_out'],
          ['security', 'Security', null, null, 'cant_unsubscribe'],
        ],
      );

      const edited = await call(developer(), 'PUT', `${WS}/categories/billing`, { slug: 'billing', name: 'Billing and invoices' });
      assert.equal(edited.statusCode, 200, edited.body);
      const editedBody = edited.json<{ created: boolean; category: CategoryView }>();
      assert.equal(editedBody.created, false);
      // A PUT replaces the category: fields left out go back to their defaults, as with the CLI.
      assert.deepEqual(
        [editedBody.category.name, editedBody.category.section, editedBody.category.default_preference],
        ['Billing and invoices', null, 'opt_in'],
      );

      const audit = await h.herald.db
        .selectFrom('audit_log')
        .select(['action', 'actor_label', 'target_type', 'target_id', 'workspace_id'])
        .where('target_type', '=', 'category')
        .orderBy('id')
        .execute();
      assert.deepEqual(audit, [
        {
          action: 'category.created',
          actor_label: emails.developer,
          target_type: 'category',
          target_id: 'billing',
          workspace_id: h.staging.id,
        },
        {
          action: 'category.updated',
          actor_label: emails.developer,
          target_type: 'category',
          target_id: 'billing',
          workspace_id: h.staging.id,
        },
      ]);

      const state = await categoryState();
      const refused = await call(viewer(), 'PUT', `${WS}/categories/billing`, { name: 'Hijacked' });
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(refused.json<ErrorBody>().error.type, 'FORBIDDEN');
      const refusedNew = await call(viewer(), 'PUT', `${WS}/categories/viewer-made`, { name: 'Viewer made' });
      assert.equal(refusedNew.statusCode, 403, refusedNew.body);
      assert.equal(await categoryState(), state, 'a viewer changed a category');
    });

    test('categories: bad input is a 400 that says what is wrong and changes nothing', async () => {
      await call(developer(), 'PUT', `${WS}/categories/promotions`, { name: 'Promotions' });
      const state = await categoryState();
      const cases: Array<[string, unknown, RegExp]> = [
        ['Not A Slug', { name: 'Bad slug' }, /slug must be/],
        [
          'promotions',
          { name: 'Promotions', default_preference: 'sometimes' },
          /default_preference must be one of opt_in, opt_out, cant_unsubscribe/,
        ],
        ['promotions', { name: '' }, /name must be a non-empty string/],
        ['promotions', { name: 'Promotions', colour: 'red' }, /unknown field "colour"/],
        ['promotions', { name: 'Promotions', section: '' }, /section must be a non-empty string/],
        ['promotions', { slug: 'other', name: 'Promotions' }, /differs from the path/],
        ['promotions', [{ slug: 'promotions', name: 'Promotions' }], /body must be a category/],
        ['promotions', { name: 'x'.repeat(201) }, /at most 200 characters/],
      ];
      for (const [slug, body, message] of cases) {
        const res = await call(developer(), 'PUT', `${WS}/categories/${encodeURIComponent(slug)}`, body);
        assert.equal(res.statusCode, 400, `${slug} ${JSON.stringify(body).slice(0, 80)}: ${res.body}`);
        const error = res.json<ErrorBody>().error;
        assert.equal(error.type, 'VALIDATION_FAILED');
        assert.match(error.message, message);
      }
      assert.equal(await categoryState(), state, 'a refused category write changed something');
    });

    test('tenants: every tenant once, page by page, with its properties', async () => {
      for (let i = 0; i < 5; i += 1) {
        await hub('POST', `/v1/tenant/acme-${i}`, {
          tenant_name: `Acme ${i}`,
          timezone: 'Europe/Paris',
          primary_color: '#ff0000',
          properties: { plan: i % 2 === 0 ? 'pro' : 'free', seats: i },
        });
      }
      const seen: Array<Record<string, unknown>> = [];
      for (let offset = 0; ; offset += 2) {
        const page = await json<OffsetAnswer>(viewer(), `${WS}/tenants?limit=2&offset=${offset}`);
        // "default" always exists, so the count is the five tenants plus it.
        assert.equal(page.meta.count, 6);
        assert.ok(page.results.length <= 2);
        if (page.results.length === 0) break;
        seen.push(...page.results);
      }
      assert.deepEqual(
        seen.map((tenant) => tenant['tenant_id']),
        ['default', 'acme-0', 'acme-1', 'acme-2', 'acme-3', 'acme-4'],
      );
      const acme3 = seen.find((tenant) => tenant['tenant_id'] === 'acme-3') as Record<string, unknown>;
      assert.equal(acme3['tenant_name'], 'Acme 3');
      assert.equal(acme3['timezone'], 'Europe/Paris');
      assert.deepEqual(acme3['properties'], { plan: 'free', seats: 3 });
      // The default page size covers them all.
      assert.equal((await json<OffsetAnswer>(viewer(), `${WS}/tenants`)).results.length, 6);
    });

    test('lists: paged lists, member counts, and members page by page', async () => {
      for (const id of ['beta', 'newsletter', 'vip']) {
        await hub('POST', '/v1/subscriber_list', { list_id: id, list_name: `List ${id}`, list_description: `About ${id}` });
      }
      const members = ['user-e', 'user-a', 'user-d', 'user-b', 'user-c'];
      await hub('POST', '/v1/subscriber_list/newsletter/subscriber/add', { distinct_ids: members });

      const first = await json<OffsetAnswer>(viewer(), `${WS}/lists?limit=2`);
      const second = await json<OffsetAnswer>(viewer(), `${WS}/lists?limit=2&offset=2`);
      assert.equal(first.meta.count, 3);
      assert.equal(first.results.length, 2);
      assert.equal(second.results.length, 1);
      const all = [...first.results, ...second.results];
      assert.deepEqual(all.map((list) => list['list_id']).sort(), ['beta', 'newsletter', 'vip']);
      const newsletter = all.find((list) => list['list_id'] === 'newsletter') as Record<string, unknown>;
      assert.deepEqual(
        [newsletter['list_name'], newsletter['list_description'], newsletter['subscribers_count']],
        ['List newsletter', 'About newsletter', 5],
      );

      const pages: MembersAnswer[] = [];
      let after: string | null = null;
      do {
        const page: MembersAnswer = await json<MembersAnswer>(
          viewer(),
          `${WS}/lists/newsletter/members?limit=2${after === null ? '' : `&after=${encodeURIComponent(after)}`}`,
        );
        pages.push(page);
        after = page.next;
      } while (after !== null && pages.length < 10);
      assert.deepEqual(
        pages.map((page) => page.members),
        [['user-a', 'user-b'], ['user-c', 'user-d'], ['user-e']],
      );
      assert.equal(pages[0]?.list.subscribers_count, 5);
      // Exactly a page's worth left: no phantom empty page after it.
      const exact = await json<MembersAnswer>(viewer(), `${WS}/lists/newsletter/members?limit=5`);
      assert.deepEqual([exact.members.length, exact.next], [5, null]);
      const empty = await json<MembersAnswer>(viewer(), `${WS}/lists/beta/members`);
      assert.deepEqual([empty.members, empty.next], [[], null]);
    });

    test("another workspace's list answers exactly like a missing one", async () => {
      const production = await h.herald.workspaces.get('production');
      await new ListService(h.herald).create(production.id, { list_id: 'prod-only', list_name: 'Production only' });
      await new ListService(h.herald).addMembers(production.id, 'prod-only', { distinct_ids: ['prod-user'] });
      const foreign = await call(viewer(), 'GET', `${WS}/lists/prod-only/members`);
      const missing = await call(viewer(), 'GET', `${WS}/lists/no-such-list/members`);
      assert.equal(foreign.statusCode, 404, foreign.body);
      assert.equal(missing.statusCode, 404, missing.body);
      assert.equal(foreign.body.replaceAll('prod-only', '<id>'), missing.body.replaceAll('no-such-list', '<id>'));
      assert.ok(!foreign.body.includes('prod-user') && !foreign.body.includes('Production only'));
      // Nor does it show up in staging's lists; production itself sees it.
      const staging = await json<OffsetAnswer>(viewer(), `${WS}/lists?limit=200`);
      assert.ok(!staging.results.some((list) => list['list_id'] === 'prod-only'));
      const own = await json<MembersAnswer>(viewer(), '/admin/api/workspaces/production/lists/prod-only/members');
      assert.deepEqual(own.members, ['prod-user']);
    });

    test('bad paging and ids are 400s naming the parameter', async () => {
      const cases: Array<[string, RegExp]> = [
        [`${WS}/tenants?limit=0`, /limit must be a whole number from 1 to 200/],
        [`${WS}/tenants?limit=201`, /limit must be a whole number from 1 to 200/],
        [`${WS}/tenants?offset=-1`, /offset must be a whole number/],
        [`${WS}/lists?offset=abc`, /offset must be a whole number/],
        [`${WS}/lists?limit=1&limit=2`, /limit must be a whole number/],
        [`${WS}/lists/newsletter/members?limit=1e3`, /limit must be a whole number/],
        [`${WS}/lists/newsletter/members?after=a&after=b`, /after must be given once/],
        [`${WS}/lists/newsletter/members?after=${'x'.repeat(513)}`, /after is longer than 512 characters/],
        [`${WS}/lists/${encodeURIComponent('not a list!')}/members`, /list_id must be 1-64 characters/],
      ];
      for (const [url, message] of cases) {
        const res = await call(viewer(), 'GET', url);
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
        assert.equal(res.json<ErrorBody>().error.type, 'VALIDATION_FAILED');
        assert.match(res.json<ErrorBody>().error.message, message, url);
      }
    });
  });
}
