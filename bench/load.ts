/**
 * Load generator, run by bench/run.ts as its own process: `node --import tsx bench/load.ts <spec.json>`.
 * Drives one scenario with autocannon (keep-alive connections, one request in flight per
 * connection): a warm-up run, then the measured run. Prints one JSON line (LoadResult).
 *
 * Everything a request needs that costs real CPU (ES256 tokens) is prepared before the clock
 * starts; what stays per request (a JSON body, an MD5 and an HMAC for triggers) is what a real
 * client pays too.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import autocannon, { type AutocannonRequest } from 'autocannon';
import {
  emitResult,
  hmacHeaders,
  MEASURE_END,
  MEASURE_START,
  mintUserToken,
  percentile,
  readSpec,
  type LoadResult,
  type LoadSpec,
} from './lib/common.js';
import { ownCpuSeconds } from './lib/cpu.js';

const spec = readSpec<LoadSpec>();
const invalid: string[] = [];
/** Fresh-token requests that had to reuse a token because the pool ran out (makes the run invalid). */
let reusedTokens = 0;
const notes: string[] = [];

function buildRequest(): AutocannonRequest {
  const request = spec.request;
  switch (request.kind) {
    case 'static':
      return { method: request.method, path: request.path, headers: request.headers };

    case 'trigger': {
      // Unique per request: a run id and a sequence number in the data. Recipients rotate over a
      // fixed set of users, as a real application's would.
      const runId = randomBytes(4).toString('hex');
      let seq = 0;
      return {
        method: 'POST',
        path: '/trigger/',
        setupRequest: (base) => {
          const n = seq++;
          const body = JSON.stringify({
            workflow: request.workflow,
            recipients: [`${request.recipientPrefix}${n % request.recipientCount}`],
            data: { order_id: `${runId}-${n}`, amount: (n % 977) + 0.5 },
          });
          return { ...base, body, headers: hmacHeaders(request.workspaceKey, request.secret, 'POST', '/trigger/', body) };
        },
      };
    }

    case 'fresh-token': {
      const privateKey = createPrivateKey(request.privateKeyPem);
      const started = performance.now();
      const tokens: string[] = new Array<string>(request.poolSize);
      for (let i = 0; i < request.poolSize; i++) tokens[i] = mintUserToken(privateKey, request.kid, request.distinctId);
      notes.push(`minted ${request.poolSize} unique tokens in ${((performance.now() - started) / 1000).toFixed(1)} s before the run`);
      let next = 0;
      return {
        method: 'GET',
        path: request.path,
        setupRequest: (base) => {
          if (next >= tokens.length) reusedTokens++;
          const token = tokens[next++ % tokens.length] as string;
          return { ...base, headers: { authorization: request.publicKey, 'x-ss-signature': token, 'content-type': 'application/json' } };
        },
      };
    }
  }
}

/** One autocannon per server URL, connections spread over them, run side by side; results summed. */
async function run(seconds: number, request: AutocannonRequest, record: boolean) {
  const latencies: number[] = [];
  const shares = spec.urls.map(
    (_, i) => Math.floor(spec.connections / spec.urls.length) + (i < spec.connections % spec.urls.length ? 1 : 0),
  );
  const results = await Promise.all(
    spec.urls.map((url, i) => {
      const instance = autocannon({ url, connections: shares[i] as number, duration: seconds, requests: [request] });
      if (record) {
        instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
          if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
        });
      }
      return instance;
    }),
  );
  const statusCodes: Record<string, number> = {};
  for (const result of results) {
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  const sum = (pick: (result: (typeof results)[number]) => number) => results.reduce((total, result) => total + pick(result), 0);
  return {
    result: {
      reqPerSecond: sum((r) => r.requests.average),
      duration: Math.max(...results.map((r) => r.duration)),
      total: sum((r) => r.requests.total),
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      statusCodes,
    },
    latencies,
  };
}

const request = buildRequest();
if (spec.warmupSeconds > 0) {
  const warm = await run(spec.warmupSeconds, request, false);
  const problems = warm.result.non2xx + warm.result.errors + warm.result.timeouts;
  if (problems > 0) notes.push(`warm-up: ${warm.result.non2xx} non-2xx, ${warm.result.errors} errors, ${warm.result.timeouts} timeouts`);
}
const reusedBefore = reusedTokens;
process.stdout.write(`${MEASURE_START}\n`);
const cpuBefore = ownCpuSeconds();
const { result, latencies } = await run(spec.durationSeconds, request, true);
const cpuSeconds = ownCpuSeconds() - cpuBefore;
process.stdout.write(`${MEASURE_END}\n`);
const reused = reusedTokens - reusedBefore;
if (reused > 0) invalid.push(`token pool ran out: ${reused} requests reused a token (raise the pool size)`);
latencies.sort((a, b) => a - b);

const output: LoadResult = {
  reqPerSec: result.reqPerSecond,
  durationSeconds: result.duration,
  responses: result.total,
  p50Ms: percentile(latencies, 0.5),
  p99Ms: percentile(latencies, 0.99),
  maxMs: latencies.at(-1) ?? Number.NaN,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: result.statusCodes,
  invalid,
  notes,
  cpuSeconds,
};
emitResult(output);
