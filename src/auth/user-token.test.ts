import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, base64url } from 'jose';
import { fixedClock } from '../lib/clock.js';
import { UserTokenVerifier } from './user-token.js';

const NOW_S = 1_800_000_000;
const clock = fixedClock(NOW_S * 1000);

function keyPair(kid: string): { kid: string; privateKey: KeyObject; key: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, key: publicKey };
}

const A = keyPair('kid-a');
const B = keyPair('kid-b');

function sign(
  claims: Record<string, unknown>,
  options: { kid?: string | null; key?: KeyObject; exp?: number; iat?: number } = {},
): Promise<string> {
  const jwt = new SignJWT({ entity_type: 'subscriber', entity_id: 'u1', ...claims })
    .setProtectedHeader(options.kid === null ? { alg: 'ES256' } : { alg: 'ES256', kid: options.kid ?? A.kid })
    .setIssuedAt(options.iat ?? NOW_S - 10)
    .setExpirationTime(options.exp ?? NOW_S + 3600);
  return jwt.sign(options.key ?? A.privateKey);
}

function verifier(): UserTokenVerifier {
  clock.set(NOW_S * 1000);
  return new UserTokenVerifier(() => clock.now());
}

test('a valid token yields the user and its tenant scope (default when absent)', async () => {
  const v = verifier();
  const scoped = await v.verify(await sign({ scope: { tenant_id: 'acme' } }), 'ws1', [A, B]);
  assert.deepEqual(scoped, { ok: true, token: { subscriberId: 'u1', tenantScope: ['acme'], kid: 'kid-a', exp: NOW_S + 3600 } });
  const multi = await v.verify(await sign({ scope: { tenant_id: ['t1', 't2'] } }), 'ws1', [A]);
  assert.deepEqual(multi.ok && multi.token.tenantScope, ['t1', 't2']);
  const plain = await v.verify(await sign({}), 'ws1', [A]);
  assert.deepEqual(plain.ok && plain.token.tenantScope, ['default']);
});

test('without a kid each active key is tried; with a kid only that key', async () => {
  const v = verifier();
  const unlabelled = await sign({}, { kid: null, key: B.privateKey });
  const result = await v.verify(unlabelled, 'ws1', [A, B]);
  assert.equal(result.ok && result.token.kid, 'kid-b');
  const mislabelled = await sign({}, { kid: 'kid-a', key: B.privateKey });
  const rejected = await v.verify(mislabelled, 'ws1', [A, B]);
  assert.equal(rejected.ok, false);
  const unknown = await v.verify(await sign({}, { kid: 'kid-zzz' }), 'ws1', [A, B]);
  assert.match(unknown.ok ? '' : unknown.reason, /kid "kid-zzz" is not an active signing key/);
});

test('alg none, HS256 and RS256 are refused before any signature work', async () => {
  const v = verifier();
  const payload = base64url.encode(JSON.stringify({ entity_type: 'subscriber', entity_id: 'u1', exp: NOW_S + 60 }));
  for (const alg of ['none', 'HS256', 'RS256', 'ES384']) {
    const header = base64url.encode(JSON.stringify({ alg, typ: 'JWT' }));
    const result = await v.verify(`${header}.${payload}.`, 'ws1', [A]);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, new RegExp(`alg "${alg}" not allowed`));
  }
});

test('expiry is enforced with at most 5 s of leeway, and the reason says by how much', async () => {
  const v = verifier();
  const within = await v.verify(await sign({}, { exp: NOW_S - 4 }), 'ws1', [A]);
  assert.equal(within.ok, true);
  const expired = await v.verify(await sign({}, { exp: NOW_S - 180 }), 'ws1', [A]);
  assert.equal(expired.ok, false);
  assert.equal(expired.ok ? '' : expired.code, 'TOKEN_EXPIRED');
  assert.match(expired.ok ? '' : expired.reason, /expired 3 min ago/);
  const noExp = await new SignJWT({ entity_type: 'subscriber', entity_id: 'u1' }).setProtectedHeader({ alg: 'ES256' }).sign(A.privateKey);
  assert.equal((await v.verify(noExp, 'ws1', [A])).ok, false);
});

test('iat and nbf in the future are refused', async () => {
  const v = verifier();
  const future = await v.verify(await sign({}, { iat: NOW_S + 60 }), 'ws1', [A]);
  assert.match(future.ok ? '' : future.reason, /iat is 1 min in the future/);
  const nbf = await v.verify(await sign({ nbf: NOW_S + 60 }), 'ws1', [A]);
  assert.equal(nbf.ok, false);
});

test('entity_type must be subscriber, entity_id a string, scope well-formed', async () => {
  const v = verifier();
  for (const claims of [{ entity_type: 'admin' }, { entity_id: 42 }, { entity_id: '' }, { scope: { tenant_id: 7 } }, { scope: 'acme' }]) {
    const result = await v.verify(await sign(claims), 'ws1', [A]);
    assert.equal(result.ok, false, JSON.stringify(claims));
    assert.equal(result.ok ? '' : result.code, 'TOKEN_INVALID');
  }
});

test('a verified token is remembered until exp, per workspace, and forgotten on clear()', async () => {
  const v = verifier();
  const token = await sign({}, { exp: NOW_S + 60 });
  assert.equal((await v.verify(token, 'ws1', [A])).ok, true);
  // Cached: no key is needed for the repeat.
  assert.equal((await v.verify(token, 'ws1', [])).ok, true);
  // Not across workspaces.
  assert.equal((await v.verify(token, 'ws2', [])).ok, false);
  clock.advance(70_000);
  assert.equal((await v.verify(token, 'ws1', [])).ok, false, 'a cached token still expires');
  clock.set(NOW_S * 1000);
  assert.equal((await v.verify(token, 'ws1', [A])).ok, true);
  v.clear();
  assert.equal((await v.verify(token, 'ws1', [])).ok, false, 'clear() drops verified tokens (e.g. after a signing key is revoked)');
});

test('a tampered payload or a signature by another key is refused', async () => {
  const v = verifier();
  const token = await sign({});
  const [h, , s] = token.split('.') as [string, string, string];
  const forged = `${h}.${base64url.encode(JSON.stringify({ entity_type: 'subscriber', entity_id: 'admin', exp: NOW_S + 60 }))}.${s}`;
  assert.equal((await v.verify(forged, 'ws1', [A])).ok, false);
  assert.equal((await v.verify(await sign({}, { key: B.privateKey }), 'ws1', [A])).ok, false);
  assert.equal((await v.verify('not.a.jwt', 'ws1', [A])).ok, false);
});

test('only the compact ES256 form is accepted: canonical base64url, no crit, numeric time claims', async () => {
  const v = verifier();
  // A signature with a '-' or '_' in it, so that its base64 spelling below differs (one in about
  // fifteen ECDSA signatures has neither; each signing draws a fresh one).
  let token = await sign({});
  while (!/[-_]/.test(token.split('.')[2] as string)) token = await sign({});
  const [h, p, s] = token.split('.') as [string, string, string];
  assert.equal((await v.verify(token, 'ws1', [A])).ok, true);
  const refused = async (candidate: string, reason: RegExp) => {
    const result = await v.verify(candidate, 'ws1', [A]);
    assert.equal(result.ok, false, candidate);
    assert.match(result.ok ? '' : result.reason, reason);
  };
  // The same signature spelled another way (a spare bit of its last character set: the same 64
  // bytes to a lenient decoder), padded, or in the base64 alphabet.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = s.at(-1) as string;
  const respelled = `${s.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(last) ^ 1] as string}`;
  await refused(`${h}.${p}.${respelled}`, /signature|signing key/);
  await refused(`${h}.${p}.${s}==`, /signature is not 64 bytes/);
  await refused(`${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`, /signature/);
  await refused(`${h}.${p}.${s}.extra`, /not a compact JWS/);
  await refused(`${h}=.${p}.${s}`, /not a compact JWS/);
  const crit = await new SignJWT({ entity_type: 'subscriber', entity_id: 'u1', exp: NOW_S + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: A.kid, crit: ['b64'], b64: true })
    .sign(A.privateKey);
  await refused(crit, /crit/);
  const withClaims = (claims: Record<string, unknown>) =>
    new SignJWT({ entity_type: 'subscriber', entity_id: 'u1', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: A.kid })
      .sign(A.privateKey);
  await refused(await withClaims({}), /"exp" missing/);
  await refused(await withClaims({ exp: String(NOW_S + 60) }), /"exp" is not a number/);
  await refused(await withClaims({ exp: NOW_S + 60, nbf: NOW_S + 600 }), /"nbf" is 10 min ahead/);
  await refused(await withClaims({ exp: NOW_S + 60, iat: 'yesterday' }), /"iat" is not a number/);
  const arrayPayload = `${h}.${base64url.encode('[1]')}.${s}`;
  await refused(arrayPayload, /payload is not a JSON object/);
});
