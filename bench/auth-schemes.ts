/**
 * Cost of each authentication scheme inside the server: median latency of GET /v1/auth/whoami
 * through the real app (routing, auth, serialisation) with app.inject, on SQLite, next to a bare
 * Fastify route and Herald's unauthenticated /healthz measured in the same run.
 * Run: `node --import tsx bench/auth-schemes.ts`.
 */
import { createHmac, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openHerald } from '../src/runtime.js';

const WARMUP = 200;
const ITERATIONS = 2_000;

async function measure(app: FastifyInstance, request: () => InjectOptions, expectStatus: number): Promise<{ median: number; p95: number }> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const options = request();
    const started = process.hrtime.bigint();
    const response = await app.inject(options);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (response.statusCode !== expectStatus) throw new Error(`unexpected ${response.statusCode}: ${response.body}`);
    if (i >= WARMUP) samples.push(elapsed);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)] as number, p95: samples[Math.floor(samples.length * 0.95)] as number };
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
const config = loadConfig({ HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const herald = await openHerald(config);
const app = buildApp({ herald, logger: pino({ level: 'silent' }) });
await app.ready();
const bare = Fastify({ logger: false });
bare.get('/hello', async () => ({ hello: 'world' }));
await bare.ready();

const staging = await herald.workspaces.get('staging');
const secret = await herald.workspaceSecrets.reveal(staging.id);
const { key: apiKey } = await herald.apiKeys.create(staging, { name: 'bench' });
const { key: publicKey } = await herald.publicKeys.create(staging, {});
const signing = await herald.signingKeys.create(staging, {});
const privateKey = createPrivateKey(signing.pem);
const nowS = Math.floor(Date.now() / 1000);
const mint = (user: string) =>
  new SignJWT({ entity_type: 'subscriber', entity_id: user })
    .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + 3600)
    .sign(privateKey);
const token = await mint('alice');
const freshTokens = await Promise.all(Array.from({ length: WARMUP + ITERATIONS }, (_, i) => mint(`user-${i}`)));
let fresh = 0;

const hmacHeaders = () => {
  const date = new Date().toUTCString();
  const signature = createHmac('sha256', secret)
    .update(`GET\n\napplication/json; charset=utf-8\n${date}\n/v1/auth/whoami`)
    .digest('base64');
  return { 'content-type': 'application/json; charset=utf-8', date, authorization: `${staging.workspaceKey}:${signature}` };
};

const cases: Array<[string, FastifyInstance, () => InjectOptions, number]> = [
  ['bare Fastify route', bare, () => ({ method: 'GET', url: '/hello' }), 200],
  ['Herald /healthz (no auth)', app, () => ({ method: 'GET', url: '/healthz' }), 200],
  ['HMAC (workspace key + secret)', app, () => ({ method: 'GET', url: '/v1/auth/whoami', headers: hmacHeaders() }), 200],
  ['Bearer API key', app, () => ({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${apiKey}` } }), 200],
  ['public key only', app, () => ({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: publicKey } }), 200],
  [
    'public key + user token (cached)',
    app,
    () => ({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: publicKey, 'x-ss-signature': token } }),
    200,
  ],
  [
    'public key + user token (first sight: ES256 verify)',
    app,
    () => ({
      method: 'GET',
      url: '/v1/auth/whoami',
      headers: { authorization: publicKey, 'x-ss-signature': freshTokens[fresh++ % freshTokens.length] as string },
    }),
    200,
  ],
];

const results: Array<{ name: string; median: number; p95: number }> = [];
for (const [name, target, request, status] of cases) results.push({ name, ...(await measure(target, request, status)) });
const base = results[0]?.median ?? 1;
console.log(`node ${process.version}, ${ITERATIONS} requests per case after ${WARMUP} warm-up, app.inject (no sockets)`);
console.log('case'.padEnd(52), 'median ms'.padStart(10), 'p95 ms'.padStart(9), 'x bare'.padStart(8));
for (const r of results)
  console.log(r.name.padEnd(52), r.median.toFixed(3).padStart(10), r.p95.toFixed(3).padStart(9), (r.median / base).toFixed(1).padStart(8));

await app.close();
await herald.close();
await bare.close();
rmSync(dataDir, { recursive: true, force: true });
