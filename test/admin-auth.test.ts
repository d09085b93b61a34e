import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse as InjectResponse } from 'fastify';
import { adminGroup, createAdminGroupDeps, type AdminGroupDeps } from '../src/admin/admin-group.js';
import { requireAdmin, requireWorkspaceAccess } from '../src/admin/admin-principal.js';
import type { AuditEntry, AuditSink } from '../src/admin/audit-sink.js';
import { registerAdminIdentityRoutes } from '../src/admin/identity.routes.js';
import { ACCOUNT_MAX_ATTEMPTS, IP_MAX_ATTEMPTS, LOCK_BASE_MS } from '../src/admin/login-throttle.js';
import { registerErrorHandling } from '../src/http/error-handler.js';
import { registerRawJsonParser } from '../src/http/raw-body.js';
import { sha256Hex } from '../src/lib/crypto.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, PG_URL, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const PASSWORD = 'correct horse battery staple';
const ORIGIN = 'http://localhost';

/** Everything the database holds, as one string: the SQLite files, or a pg_dump of the schema. */
function dumpDatabase(t: TestEnv): string {
  if (t.engine === 'postgres') {
    return execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', t.schema as string, '--no-owner'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  // Read by another process: opening and closing the database file here would drop the POSIX
  // locks the in-process server's SQLite connection holds on it (a known SQLite pitfall).
  const script =
    "const fs = require('node:fs'); const b = process.argv[1];" +
    "process.stdout.write([b, b + '-wal', b + '-shm'].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')).join('\\n'), 'latin1');";
  return execFileSync(process.execPath, ['-e', script, path.join(t.dataDir, 'herald.db')], {
    encoding: 'latin1',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Runs the CLI from source (no build), feeding `stdin`. */
function runCliFromSource(
  args: string[],
  env: Record<string, string>,
  stdin: string | null,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== null) child.stdin?.end(stdin);
  });
}

interface Session {
  cookie: string;
  csrf: string;
}

function errorType(res: InjectResponse): string {
  return (res.json() as { error: { type: string } }).error.type;
}

/** A counter-based address per test, so the per-IP throttle of one test never touches another. */
let nextIp = 1;
function freshIp(): string {
  nextIp += 1;
  return `10.0.${Math.floor(nextIp / 250)}.${nextIp % 250}`;
}

class CapturingSink implements AuditSink {
  entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
}

for (const engine of enginesUnderTest()) {
  describe(`admin identity and access on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let deps: AdminGroupDeps;
    const cli = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
    const emails = { owner: 'owner@example.com', admin: 'admin@example.com', developer: 'dev@example.com', viewer: 'viewer@example.com' };

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      deps = createAdminGroupDeps(h.herald);
      for (const [role, email] of Object.entries(emails)) {
        await deps.accounts.create({ email, password: PASSWORD, role }, { kind: 'cli' }, cli);
      }
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    function inject(app: FastifyInstance, options: InjectOptions & { session?: Session; ip?: string }): Promise<InjectResponse> {
      const { session, ip, ...rest } = options;
      const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
      if (session) {
        headers['cookie'] = session.cookie;
        headers['x-csrf-token'] ??= session.csrf;
      }
      return app.inject({ ...rest, headers, remoteAddress: ip ?? '127.0.0.1' });
    }

    function call(options: InjectOptions & { session?: Session; ip?: string }): Promise<InjectResponse> {
      return inject(h.app, options);
    }

    async function login(
      email: string,
      password = PASSWORD,
      ip = freshIp(),
      headers: Record<string, string> = {},
    ): Promise<InjectResponse> {
      return call({ method: 'POST', url: '/admin/api/login', payload: { email, password }, ip, headers: { origin: ORIGIN, ...headers } });
    }

    async function signIn(email: string, app: FastifyInstance = h.app, cookieName = 'herald_session'): Promise<Session> {
      const res = await inject(app, {
        method: 'POST',
        url: '/admin/api/login',
        payload: { email, password: PASSWORD },
        ip: freshIp(),
        headers: { origin: ORIGIN },
      });
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((c) => c.name === cookieName);
      assert.ok(cookie, `login sets ${cookieName}`);
      return { cookie: `${cookieName}=${cookie.value}`, csrf: (res.json() as { csrf_token: string }).csrf_token };
    }

    async function accountCount(): Promise<number> {
      return (await deps.accounts.list()).length;
    }

    test('login, me and logout; the session cookie is httpOnly, SameSite=Strict, not readable cross-site', async () => {
      const res = await login(emails.owner);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { account: { id: string; email: string; role: string }; csrf_token: string };
      assert.equal(body.account.email, emails.owner);
      assert.equal(body.account.role, 'owner');
      assert.match(body.csrf_token, /^[A-Za-z0-9_-]{43}$/);

      const cookie = res.cookies.find((c) => c.name === 'herald_session');
      assert.ok(cookie);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      assert.equal(cookie.secure, undefined, 'plain http (no HERALD_PUBLIC_URL): not Secure, or browsers would drop it');
      assert.equal(cookie.maxAge, h.herald.config.sessionTtlMs / 1000);
      assert.ok(!res.body.includes(cookie.value), 'the cookie value is not in the body');
      const session: Session = { cookie: `herald_session=${cookie.value}`, csrf: body.csrf_token };

      const me = await call({ method: 'GET', url: '/admin/api/me', session });
      assert.equal(me.statusCode, 200, me.body);
      const meBody = me.json() as { kind: string; account: { email: string }; csrf_token: string; session: { is_fresh: boolean } };
      assert.equal(meBody.kind, 'session');
      assert.equal(meBody.account.email, emails.owner);
      assert.equal(meBody.csrf_token, body.csrf_token, 'GET /me hands the page the same synchronizer token');
      assert.equal(meBody.session.is_fresh, true);

      assert.equal((await call({ method: 'GET', url: '/admin/api/me' })).statusCode, 401);

      const out = await call({ method: 'POST', url: '/admin/api/logout', session, headers: { origin: ORIGIN } });
      assert.equal(out.statusCode, 204, out.body);
      const cleared = out.cookies.find((c) => c.name === 'herald_session');
      assert.ok(cleared && cleared.value === '' && (cleared.maxAge === 0 || (cleared.expires?.getTime() ?? 1) <= Date.now()));
      const after = await call({ method: 'GET', url: '/admin/api/me', session });
      assert.equal(after.statusCode, 401);
      assert.equal(errorType(after), 'UNAUTHENTICATED');
    });

    test('wrong password, unknown email and disabled account answer alike, in similar time', async () => {
      await deps.accounts.create({ email: 'gone@example.com', password: PASSWORD, role: 'viewer' }, { kind: 'cli' }, cli);
      await deps.accounts.update('gone@example.com', { disabled: true }, { kind: 'cli' }, cli);

      const wrong = await login(emails.viewer, 'not the password at all');
      const unknown = await login('nobody@example.com', 'not the password at all');
      const disabled = await login('gone@example.com', PASSWORD);
      for (const res of [wrong, unknown, disabled]) {
        assert.equal(res.statusCode, 401);
        assert.deepEqual(res.json(), wrong.json());
        assert.equal(res.headers['set-cookie'], undefined);
      }
      assert.equal(errorType(wrong), 'INVALID_CREDENTIALS');

      // An unknown email still pays for an argon2 verify (against a dummy hash). Compared with
      // the fastest of a few tries each: without the dummy verify it would be ~10x faster.
      const fastest = async (email: string) => {
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          await login(email, `wrong-${i}-password-x`);
          best = Math.min(best, performance.now() - started);
        }
        return best;
      };
      const known = await fastest('admin@example.com');
      const missing = await fastest('missing@example.com');
      assert.ok(missing > known * 0.4, `unknown email took ${missing.toFixed(1)} ms, wrong password ${known.toFixed(1)} ms`);
      // Give the admin account its clean slate back for later tests.
      assert.equal((await login(emails.admin)).statusCode, 200);
    });

    test('CSRF: a write without the token, with a wrong one, or from a foreign origin is refused and changes nothing', async () => {
      const session = await signIn(emails.owner);
      const before = await accountCount();
      const create = (extra: { headers?: Record<string, string>; csrf?: string }) =>
        call({
          method: 'POST',
          url: '/admin/api/accounts',
          session: { cookie: session.cookie, csrf: extra.csrf ?? session.csrf },
          headers: { origin: ORIGIN, ...extra.headers },
          payload: { email: `csrf-${Math.random()}@example.com`, password: PASSWORD, role: 'viewer' },
        });

      const noToken = await call({
        method: 'POST',
        url: '/admin/api/accounts',
        headers: { cookie: session.cookie, origin: ORIGIN },
        payload: { email: 'csrf-a@example.com', password: PASSWORD, role: 'viewer' },
      });
      assert.equal(noToken.statusCode, 403);
      assert.equal(errorType(noToken), 'CSRF_TOKEN_INVALID');

      const wrongToken = await create({ csrf: `${session.csrf.slice(0, -1)}${session.csrf.endsWith('A') ? 'B' : 'A'}` });
      assert.equal(wrongToken.statusCode, 403);
      assert.equal(errorType(wrongToken), 'CSRF_TOKEN_INVALID');

      const foreign = await create({ headers: { origin: 'https://evil.example' } });
      assert.equal(foreign.statusCode, 403);
      assert.equal(errorType(foreign), 'ORIGIN_NOT_ALLOWED');

      const crossSite = await create({ headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(crossSite.statusCode, 403);
      assert.equal(errorType(crossSite), 'ORIGIN_NOT_ALLOWED');

      const nullOrigin = await create({ headers: { origin: 'null' } });
      assert.equal(nullOrigin.statusCode, 403);

      const logoutWithoutToken = await call({
        method: 'POST',
        url: '/admin/api/logout',
        headers: { cookie: session.cookie, origin: ORIGIN },
      });
      assert.equal(logoutWithoutToken.statusCode, 403);
      assert.equal((await call({ method: 'GET', url: '/admin/api/me', session })).statusCode, 200, 'the session survived');

      assert.equal(await accountCount(), before, 'no refused write changed anything');

      const ok = await create({ headers: { 'sec-fetch-site': 'same-origin' } });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(await accountCount(), before + 1);
    });

    test('session fixation: a cookie presented before login is discarded, never upgraded', async () => {
      // A planted, well-formed value the server never issued.
      const planted = 'herald_session=' + 'A'.repeat(43);
      const first = await login(emails.developer, PASSWORD, freshIp(), { cookie: planted });
      assert.equal(first.statusCode, 200);
      const issued = first.cookies.find((c) => c.name === 'herald_session');
      assert.ok(issued && `herald_session=${issued.value}` !== planted);
      assert.equal((await call({ method: 'GET', url: '/admin/api/me', headers: { cookie: planted } })).statusCode, 401);

      // An attacker's own valid session planted in the victim's browser: logging in replaces it.
      const attacker = await signIn(emails.viewer);
      const victim = await login(emails.developer, PASSWORD, freshIp(), { cookie: attacker.cookie });
      assert.equal(victim.statusCode, 200);
      const victimCookie = victim.cookies.find((c) => c.name === 'herald_session');
      assert.ok(victimCookie);
      assert.notEqual(`herald_session=${victimCookie.value}`, attacker.cookie, 'the post-login id differs');
      const stale = await call({ method: 'GET', url: '/admin/api/me', headers: { cookie: attacker.cookie } });
      assert.equal(stale.statusCode, 401, 'the pre-login session no longer opens anything');
      const fresh = await call({ method: 'GET', url: '/admin/api/me', headers: { cookie: `herald_session=${victimCookie.value}` } });
      assert.equal((fresh.json() as { account: { email: string } }).account.email, emails.developer);
    });

    test('brute force per account: locked with 429 + Retry-After, even for the right password, until the lock expires', async () => {
      const email = 'brute@example.com';
      await deps.accounts.create({ email, password: PASSWORD, role: 'viewer' }, { kind: 'cli' }, cli);
      for (let i = 0; i < ACCOUNT_MAX_ATTEMPTS; i++) {
        // A different IP each time: this is the per-account limit, not the per-IP one.
        assert.equal((await login(email, `guess number ${i}`)).statusCode, 401);
      }
      const locked = await login(email, PASSWORD);
      assert.equal(locked.statusCode, 429);
      assert.equal(errorType(locked), 'RATE_LIMITED');
      const retryAfter = Number(locked.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= LOCK_BASE_MS / 1000, `Retry-After ${locked.headers['retry-after']}`);
      assert.equal(locked.headers['set-cookie'], undefined);
      // An unknown email is throttled the same way, so a 429 reveals nothing either.
      for (let i = 0; i < ACCOUNT_MAX_ATTEMPTS; i++) await login('ghost@example.com', `guess ${i}`);
      assert.equal((await login('ghost@example.com', 'guess again')).statusCode, 429);

      h.clock.advance(retryAfter * 1000 + 1);
      assert.equal((await login(email, PASSWORD)).statusCode, 200, 'the lock has expired');

      // A success starts the count over; once locked again, a single failure after the lock
      // ends is enough to lock once more, for twice as long.
      for (let i = 0; i < ACCOUNT_MAX_ATTEMPTS; i++) await login(email, `guess again ${i}`);
      assert.equal((await login(email, PASSWORD)).statusCode, 429);
      h.clock.advance(LOCK_BASE_MS + 1);
      assert.equal((await login(email, 'still guessing')).statusCode, 401);
      const relocked = await login(email, PASSWORD);
      assert.equal(relocked.statusCode, 429);
      assert.ok(Number(relocked.headers['retry-after']) > LOCK_BASE_MS / 1000, 'the second lock is longer');
      h.clock.advance(Number(relocked.headers['retry-after']) * 1000 + 1);
      assert.equal((await login(email, PASSWORD)).statusCode, 200);
    });

    test('brute force: a parallel burst gets at most the allowed number of password checks', async () => {
      const email = 'burst@example.com';
      await deps.accounts.create({ email, password: PASSWORD, role: 'viewer' }, { kind: 'cli' }, cli);
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login(email, `parallel guess ${i}`)));
      const checked = results.filter((r) => r.statusCode === 401).length;
      const refused = results.filter((r) => r.statusCode === 429).length;
      assert.ok(checked <= ACCOUNT_MAX_ATTEMPTS, `${checked} guesses were checked`);
      assert.equal(checked + refused, 30);
      assert.equal((await login(email, PASSWORD)).statusCode, 429);
    });

    test('brute force per IP: many emails from one address lock that address only', async () => {
      const ip = freshIp();
      for (let i = 0; i < IP_MAX_ATTEMPTS; i++) {
        assert.equal((await login(`spray-${i}@example.com`, 'Winter2026!', ip)).statusCode, 401);
      }
      const locked = await login(emails.viewer, PASSWORD, ip);
      assert.equal(locked.statusCode, 429, 'a correct password from the locked address still fails');
      assert.ok(Number(locked.headers['retry-after']) > 0);
      assert.equal((await login(emails.viewer, PASSWORD, freshIp())).statusCode, 200, 'other addresses are unaffected');
      h.clock.advance(Number(locked.headers['retry-after']) * 1000 + 1);
      assert.equal((await login(emails.viewer, PASSWORD, ip)).statusCode, 200);
    });

    test('roles: viewer and developer get 403 on owner/admin routes; admins cannot touch owners; the last owner stays', async () => {
      for (const email of [emails.viewer, emails.developer]) {
        const session = await signIn(email);
        for (const [method, url] of [
          ['GET', '/admin/api/accounts'],
          ['POST', '/admin/api/accounts'],
          ['GET', '/admin/api/service-tokens'],
          ['POST', '/admin/api/service-tokens'],
        ] as const) {
          const res = await call({ method, url, session, headers: { origin: ORIGIN }, payload: method === 'POST' ? {} : undefined });
          assert.equal(res.statusCode, 403, `${email} ${method} ${url}`);
          assert.equal(errorType(res), 'FORBIDDEN');
        }
        assert.equal((await call({ method: 'GET', url: '/admin/api/me', session })).statusCode, 200);
      }

      const admin = await signIn(emails.admin);
      assert.equal((await call({ method: 'GET', url: '/admin/api/accounts', session: admin })).statusCode, 200);
      const makeOwner = await call({
        method: 'POST',
        url: '/admin/api/accounts',
        session: admin,
        headers: { origin: ORIGIN },
        payload: { email: 'second-owner@example.com', password: PASSWORD, role: 'owner' },
      });
      assert.equal(makeOwner.statusCode, 403);
      const ownerAccount = (await deps.accounts.list()).find((a) => a.email === emails.owner);
      assert.ok(ownerAccount);
      const demoteOwner = await call({
        method: 'PATCH',
        url: `/admin/api/accounts/${ownerAccount.id}`,
        session: admin,
        headers: { origin: ORIGIN },
        payload: { role: 'viewer' },
      });
      assert.equal(demoteOwner.statusCode, 403);

      const owner = await signIn(emails.owner);
      const selfDemote = await call({
        method: 'PATCH',
        url: `/admin/api/accounts/${ownerAccount.id}`,
        session: owner,
        headers: { origin: ORIGIN },
        payload: { role: 'admin' },
      });
      assert.equal(selfDemote.statusCode, 409, selfDemote.body);
      assert.equal((await deps.accounts.get(ownerAccount.id)).role, 'owner');

      // Role changes and disabling apply to live sessions at once.
      const developerAccount = (await deps.accounts.list()).find((a) => a.email === emails.developer);
      assert.ok(developerAccount);
      const devSession = await signIn(emails.developer);
      const disable = await call({
        method: 'PATCH',
        url: `/admin/api/accounts/${developerAccount.id}`,
        session: owner,
        headers: { origin: ORIGIN },
        payload: { disabled: true },
      });
      assert.equal(disable.statusCode, 200, disable.body);
      assert.equal((await call({ method: 'GET', url: '/admin/api/me', session: devSession })).statusCode, 401);
      await deps.accounts.update(developerAccount.id, { disabled: false }, { kind: 'cli' }, cli);
    });

    test('the last owner survives two concurrent demotions (each sees the other owner)', async () => {
      await deps.accounts.create({ email: 'co-owner@example.com', password: PASSWORD, role: 'owner' }, { kind: 'cli' }, cli);
      const results = await Promise.allSettled([
        deps.accounts.update(emails.owner, { role: 'admin' }, { kind: 'cli' }, cli),
        deps.accounts.update('co-owner@example.com', { role: 'admin' }, { kind: 'cli' }, cli),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one demotion goes through');
      const owners = (await deps.accounts.list()).filter((a) => a.role === 'owner' && a.status === 'active');
      assert.equal(owners.length, 1);
      await deps.accounts.update(emails.owner, { role: 'owner' }, { kind: 'cli' }, cli);
      await deps.accounts.update('co-owner@example.com', { disabled: true }, { kind: 'cli' }, cli);
    });

    test('fresh login: sensitive writes need a password entered in the last 10 minutes; reauth restores it', async () => {
      const session = await signIn(emails.owner);
      h.clock.advance(11 * 60_000);
      const payload = { email: 'late@example.com', password: PASSWORD, role: 'viewer' };
      const stale = await call({ method: 'POST', url: '/admin/api/accounts', session, headers: { origin: ORIGIN }, payload });
      assert.equal(stale.statusCode, 403);
      assert.equal(errorType(stale), 'SESSION_NOT_FRESH');
      assert.equal((await call({ method: 'GET', url: '/admin/api/accounts', session })).statusCode, 200, 'reading needs no fresh session');

      const wrong = await call({
        method: 'POST',
        url: '/admin/api/reauth',
        session,
        headers: { origin: ORIGIN },
        payload: { password: 'nope nope nope' },
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(errorType(wrong), 'INVALID_CREDENTIALS');
      const reauth = await call({
        method: 'POST',
        url: '/admin/api/reauth',
        session,
        headers: { origin: ORIGIN },
        payload: { password: PASSWORD },
      });
      assert.equal(reauth.statusCode, 200, reauth.body);
      const created = await call({ method: 'POST', url: '/admin/api/accounts', session, headers: { origin: ORIGIN }, payload });
      assert.equal(created.statusCode, 201, created.body);
    });

    test('sessions end after the idle timeout and at the absolute expiry', async () => {
      const idle = await signIn(emails.viewer);
      h.clock.advance(h.herald.config.sessionIdleTimeoutMs + 1);
      assert.equal((await call({ method: 'GET', url: '/admin/api/me', session: idle })).statusCode, 401);

      const busy = await signIn(emails.viewer);
      const step = h.herald.config.sessionIdleTimeoutMs / 2;
      let elapsed = 0;
      while (elapsed + step < h.herald.config.sessionTtlMs) {
        h.clock.advance(step);
        elapsed += step;
        assert.equal((await call({ method: 'GET', url: '/admin/api/me', session: busy })).statusCode, 200, `active at ${elapsed} ms`);
      }
      h.clock.advance(h.herald.config.sessionTtlMs - elapsed);
      assert.equal((await call({ method: 'GET', url: '/admin/api/me', session: busy })).statusCode, 401, 'absolute expiry');
    });

    test('service tokens: shown once, stored hashed, scoped, revocable', async () => {
      const owner = await signIn(emails.owner);
      const created = await call({
        method: 'POST',
        url: '/admin/api/service-tokens',
        session: owner,
        headers: { origin: ORIGIN },
        payload: { name: 'ci-staging', role: 'developer', workspaces: ['staging'], expires_in: '90d' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const token = created.json() as { id: string; token: string; display_prefix: string; workspace_ids: string[]; expires_at: number };
      assert.match(token.token, /^hst_[0-9A-Za-z]{36}$/);
      assert.ok(token.token.startsWith(token.display_prefix));
      assert.deepEqual(token.workspace_ids, [h.staging.id]);
      assert.equal(token.expires_at, h.clock.now() + 90 * 86_400_000);

      const list = await call({ method: 'GET', url: '/admin/api/service-tokens', session: owner });
      assert.ok(list.body.includes(token.id));
      assert.ok(!list.body.includes(token.token), 'never shown again');
      const dump = dumpDatabase(t);
      assert.ok(!dump.includes(token.token), 'the database does not hold the token');
      assert.ok(dump.includes(sha256Hex(token.token)), 'it holds its SHA-256');
      assert.ok(!dump.includes(PASSWORD), 'nor any password');

      const auth = { authorization: `ServiceToken ${token.token}` };
      const me = await call({ method: 'GET', url: '/admin/api/me', headers: auth });
      assert.equal(me.statusCode, 200, me.body);
      assert.equal((me.json() as { kind: string }).kind, 'service_token');
      // A developer token: no admin routes.
      assert.equal((await call({ method: 'GET', url: '/admin/api/accounts', headers: auth })).statusCode, 403);
      // Writes with a service token need no CSRF token or Origin (browsers never send it by themselves).
      const write = await call({ method: 'POST', url: '/admin/api/service-tokens', headers: auth, payload: { name: 'x', role: 'viewer' } });
      assert.equal(write.statusCode, 403);
      assert.equal(errorType(write), 'FORBIDDEN', 'refused for its role, not for CSRF');

      assert.equal(
        (await call({ method: 'GET', url: '/admin/api/me', headers: { authorization: `ServiceToken ${token.token.slice(0, -1)}x` } }))
          .statusCode,
        401,
      );
      assert.equal(
        (await call({ method: 'GET', url: '/admin/api/me', headers: { authorization: `Bearer ${token.token}` } })).statusCode,
        401,
      );

      const owned = await call({
        method: 'POST',
        url: '/admin/api/service-tokens',
        session: owner,
        headers: { origin: ORIGIN },
        payload: { name: 'nope', role: 'owner' },
      });
      assert.equal(owned.statusCode, 400, 'no owner tokens');

      await deps.serviceTokens.flushUses();
      const revoke = await call({
        method: 'DELETE',
        url: `/admin/api/service-tokens/${token.id}`,
        session: owner,
        headers: { origin: ORIGIN },
      });
      assert.equal(revoke.statusCode, 200, revoke.body);
      assert.equal((revoke.json() as { status: string }).status, 'revoked');
      const revoked = await call({ method: 'GET', url: '/admin/api/me', headers: auth });
      assert.equal(revoked.statusCode, 401);
      assert.equal(errorType(revoked), 'KEY_REVOKED');
    });

    test('service tokens: an admin token may create tokens (counts as fresh) but only within its own scope; expired → 401', async () => {
      const admin = await deps.serviceTokens.create({ name: 'automation', role: 'admin', workspaces: ['staging'] }, { kind: 'cli' }, cli);
      const auth = { authorization: `ServiceToken ${admin.token}` };
      h.clock.advance(30 * 60_000);
      const inScope = await call({
        method: 'POST',
        url: '/admin/api/service-tokens',
        headers: auth,
        payload: { name: 'child', role: 'viewer', workspaces: ['staging'] },
      });
      assert.equal(inScope.statusCode, 201, inScope.body);
      const wider = await call({
        method: 'POST',
        url: '/admin/api/service-tokens',
        headers: auth,
        payload: { name: 'child', role: 'viewer', workspaces: ['production'] },
      });
      assert.equal(wider.statusCode, 404, 'a workspace outside its scope reads as missing');
      const everything = await call({
        method: 'POST',
        url: '/admin/api/service-tokens',
        headers: auth,
        payload: { name: 'child', role: 'viewer' },
      });
      assert.equal(everything.statusCode, 403);
      const accounts = await call({
        method: 'POST',
        url: '/admin/api/accounts',
        headers: auth,
        payload: { email: 'svc@example.com', password: PASSWORD, role: 'viewer' },
      });
      assert.equal(accounts.statusCode, 403, 'accounts are managed by people');

      const short = await deps.serviceTokens.create({ name: 'short', role: 'viewer', expiresInMs: 60_000 }, { kind: 'cli' }, cli);
      h.clock.advance(60_001);
      const expired = await call({ method: 'GET', url: '/admin/api/me', headers: { authorization: `ServiceToken ${short.token}` } });
      assert.equal(expired.statusCode, 401);
      assert.equal(errorType(expired), 'KEY_EXPIRED');
    });

    describe('through a route of its own (adminGroup + requireWorkspaceAccess)', () => {
      let app: FastifyInstance;
      let sink: CapturingSink;
      let secureDeps: AdminGroupDeps;
      let secureApp: FastifyInstance;

      before(async () => {
        sink = new CapturingSink();
        const own = createAdminGroupDeps(h.herald, sink);
        app = Fastify();
        registerRawJsonParser(app);
        registerErrorHandling(app);
        adminGroup(app, own, (group) => {
          registerAdminIdentityRoutes(group, own);
          group.get<{ Params: { id: string } }>('/admin/api/test/workspaces/:id', async (request) => {
            const principal = requireAdmin(request, 'viewer');
            const workspace = await h.herald.workspaces.get(request.params.id);
            requireWorkspaceAccess(principal, workspace.id);
            return { id: workspace.id, slug: workspace.slug };
          });
        });
        // A second, independent group on the same app: each call of adminGroup stands alone.
        adminGroup(app, own, (group) => {
          group.get('/admin/api/test/ping', async (request) => ({ role: requireAdmin(request, 'viewer').role }));
        });
        await app.ready();

        secureDeps = { ...createAdminGroupDeps(h.herald, sink), publicOrigin: 'https://herald.example.com', isSecureCookie: true };
        secureApp = Fastify();
        registerRawJsonParser(secureApp);
        registerErrorHandling(secureApp);
        adminGroup(secureApp, secureDeps, (group) => registerAdminIdentityRoutes(group, secureDeps));
        await secureApp.ready();
      });

      after(async () => {
        await app?.close();
        await secureApp?.close();
      });

      test('a workspace outside a service token scope answers 404 exactly like a missing one', async () => {
        const production = await h.herald.workspaces.get('production');
        const scoped = await deps.serviceTokens.create(
          { name: 'staging-only', role: 'viewer', workspaces: ['staging'] },
          { kind: 'cli' },
          cli,
        );
        const headers = { authorization: `ServiceToken ${scoped.token}` };
        const get = (id: string) => inject(app, { method: 'GET', url: `/admin/api/test/workspaces/${id}`, headers });

        assert.equal((await get(h.staging.id)).statusCode, 200);
        const outside = await get(production.id);
        const missing = await get('ws_doesNotExist00000000');
        assert.equal(outside.statusCode, 404);
        assert.equal(missing.statusCode, 404);
        assert.equal(outside.body.replaceAll(production.id, '<id>'), missing.body.replaceAll('ws_doesNotExist00000000', '<id>'));

        const all = await deps.serviceTokens.create({ name: 'everywhere', role: 'viewer' }, { kind: 'cli' }, cli);
        const wide = await inject(app, {
          method: 'GET',
          url: `/admin/api/test/workspaces/${production.id}`,
          headers: { authorization: `ServiceToken ${all.token}` },
        });
        assert.equal(wide.statusCode, 200);
        const ping = await inject(app, { method: 'GET', url: '/admin/api/test/ping', headers });
        assert.equal(ping.statusCode, 200);
        assert.equal((await inject(app, { method: 'GET', url: '/admin/api/test/ping' })).statusCode, 401);

        await deps.serviceTokens.revoke(scoped.id, { kind: 'cli' }, cli);
        assert.equal((await get(h.staging.id)).statusCode, 401, 'revoked: refused on the next request');
      });

      test('with an https HERALD_PUBLIC_URL the cookie is Secure and __Host-, and only that origin may write', async () => {
        const res = await inject(secureApp, {
          method: 'POST',
          url: '/admin/api/login',
          payload: { email: emails.owner, password: PASSWORD },
          ip: freshIp(),
          headers: { origin: 'https://herald.example.com' },
        });
        assert.equal(res.statusCode, 200, res.body);
        const cookie = res.cookies.find((c) => c.name === '__Host-herald_session');
        assert.ok(cookie);
        assert.equal(cookie.secure, true);
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Strict');
        assert.equal(cookie.path, '/');
        const session = { cookie: `__Host-herald_session=${cookie.value}`, csrf: (res.json() as { csrf_token: string }).csrf_token };

        const sameHostHttp = await inject(secureApp, {
          method: 'POST',
          url: '/admin/api/logout',
          session,
          headers: { origin: 'http://herald.example.com' },
        });
        assert.equal(sameHostHttp.statusCode, 403, 'the scheme counts too');
        const foreignLogin = await inject(secureApp, {
          method: 'POST',
          url: '/admin/api/login',
          payload: { email: emails.owner, password: PASSWORD },
          headers: { origin: 'https://evil.example' },
        });
        assert.equal(foreignLogin.statusCode, 403, 'login CSRF is refused too');
        const out = await inject(secureApp, {
          method: 'POST',
          url: '/admin/api/logout',
          session,
          headers: { origin: 'https://herald.example.com' },
        });
        assert.equal(out.statusCode, 204);
      });

      test('audit entries for login, failure, lockout, logout, reauth, accounts and tokens hold no secret', async () => {
        sink.entries = [];
        const email = 'audited@example.com';
        const ip = freshIp();
        const session = await signIn(emails.owner, app);
        const created = await inject(app, {
          method: 'POST',
          url: '/admin/api/accounts',
          session,
          headers: { origin: ORIGIN },
          payload: { email, password: PASSWORD, role: 'developer' },
        });
        assert.equal(created.statusCode, 201);
        const id = (created.json() as { id: string }).id;
        await inject(app, {
          method: 'PATCH',
          url: `/admin/api/accounts/${id}`,
          session,
          headers: { origin: ORIGIN },
          payload: { role: 'viewer' },
        });
        await inject(app, {
          method: 'PATCH',
          url: `/admin/api/accounts/${id}`,
          session,
          headers: { origin: ORIGIN },
          payload: { disabled: true },
        });
        await inject(app, {
          method: 'POST',
          url: '/admin/api/reauth',
          session,
          headers: { origin: ORIGIN },
          payload: { password: PASSWORD },
        });
        const token = await inject(app, {
          method: 'POST',
          url: '/admin/api/service-tokens',
          session,
          headers: { origin: ORIGIN },
          payload: { name: 'audited', role: 'viewer' },
        });
        const tokenBody = token.json() as { id: string; token: string };
        await inject(app, { method: 'DELETE', url: `/admin/api/service-tokens/${tokenBody.id}`, session, headers: { origin: ORIGIN } });
        for (let i = 0; i <= ACCOUNT_MAX_ATTEMPTS; i++) {
          await inject(app, {
            method: 'POST',
            url: '/admin/api/login',
            ip,
            payload: { email: 'target@example.com', password: `secret-guess-${i}` },
          });
        }
        // A password typed into the email box.
        await inject(app, {
          method: 'POST',
          url: '/admin/api/login',
          ip: freshIp(),
          payload: { email: 'Hunter2-in-email-box', password: 'x' },
        });
        await inject(app, { method: 'POST', url: '/admin/api/logout', session, headers: { origin: ORIGIN } });

        const actions = sink.entries.map((e) => e.action);
        for (const action of [
          'login.succeeded',
          'account.created',
          'account.role_changed',
          'account.disabled',
          'reauth.succeeded',
          'service_token.created',
          'service_token.revoked',
          'login.failed',
          'login.locked',
          'logout',
        ]) {
          assert.ok(actions.includes(action), `${action} recorded (got ${actions.join(', ')})`);
        }
        const logout = sink.entries.find((e) => e.action === 'logout');
        assert.equal(logout?.actorType, 'account');
        assert.equal(logout?.actorLabel, emails.owner);
        const text = JSON.stringify(sink.entries);
        const sessionValue = session.cookie.split('=')[1] as string;
        for (const secret of [PASSWORD, tokenBody.token, sessionValue, session.csrf, 'secret-guess-0', 'hunter2-in-email-box']) {
          assert.ok(!text.includes(secret), 'no password, token, session id or CSRF token in the audit log');
        }
        assert.ok(!text.includes('ses_'), 'no session id either');
      });
    });

    test('CLI: admin create reads the password from stdin; without one it refuses; set-role, disable, list', async () => {
      const email = 'from-cli@example.com';
      const created = await runCliFromSource(
        ['admin', 'create', '--email', email, '--role', 'admin', '--password-stdin', '--json'],
        t.env,
        `${PASSWORD}\n`,
      );
      assert.equal(created.code, 0, created.stderr);
      const account = JSON.parse(created.stdout) as { id: string; email: string; role: string };
      assert.equal(account.email, email);
      assert.equal(account.role, 'admin');
      assert.ok(!created.stdout.includes(PASSWORD));
      assert.equal((await login(email)).statusCode, 200, 'the password from stdin works (trailing newline dropped)');

      const noPassword = await runCliFromSource(
        ['admin', 'create', '--email', 'nopass@example.com', '--role', 'owner', '--json'],
        t.env,
        null,
      );
      assert.equal(noPassword.code, 2, noPassword.stderr);
      assert.equal((JSON.parse(noPassword.stderr) as { error: { code: string } }).error.code, 'USAGE');
      const weak = await runCliFromSource(
        ['admin', 'create', '--email', 'weak@example.com', '--role', 'viewer', '--password-stdin', '--json'],
        t.env,
        'short\n',
      );
      assert.equal(weak.code, 1);
      assert.equal((JSON.parse(weak.stderr) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
      assert.equal(
        (await deps.accounts.list()).some((a) => a.email === 'nopass@example.com' || a.email === 'weak@example.com'),
        false,
      );

      const setRole = await runCliFromSource(['admin', 'set-role', email, 'viewer', '--json'], t.env, null);
      assert.equal(setRole.code, 0, setRole.stderr);
      assert.equal((await deps.accounts.get(email)).role, 'viewer');
      const disable = await runCliFromSource(['admin', 'disable', email, '--json'], t.env, null);
      assert.equal(disable.code, 0, disable.stderr);
      assert.equal((await login(email)).statusCode, 401, 'a disabled account cannot sign in');
      const list = await runCliFromSource(['admin', 'list', '--json'], t.env, null);
      const listed = JSON.parse(list.stdout) as Array<{ email: string; status: string }>;
      assert.equal(listed.find((a) => a.email === email)?.status, 'disabled');

      const token = await runCliFromSource(
        [
          'service-token',
          'create',
          '--name',
          'terraform',
          '--role',
          'developer',
          '--workspace',
          'staging',
          '--expires-in',
          '90d',
          '--json',
        ],
        t.env,
        null,
      );
      assert.equal(token.code, 0, token.stderr);
      const tokenBody = JSON.parse(token.stdout) as { id: string; token: string };
      assert.equal(
        (await call({ method: 'GET', url: '/admin/api/me', headers: { authorization: `ServiceToken ${tokenBody.token}` } })).statusCode,
        200,
      );
      const revoke = await runCliFromSource(['service-token', 'revoke', tokenBody.id, '--json'], t.env, null);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.equal(
        (await call({ method: 'GET', url: '/admin/api/me', headers: { authorization: `ServiceToken ${tokenBody.token}` } })).statusCode,
        401,
      );
    });
  });
}
