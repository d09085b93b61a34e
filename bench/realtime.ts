/**
 * Realtime latency, run by bench/run.ts as its own process: `node --import tsx bench/realtime.ts <spec.json>`.
 * Connects N socket.io clients the way the web SDK does (websocket transport, credentials in the
 * CONNECT packet's auth), each as its own user. Then sends HMAC-signed triggers one at a time, each
 * to one of those users, and times trigger sent → `new_notification` received on that user's
 * socket. Sender and sockets live in this one process, so both ends read the same clock.
 * Prints one JSON line (RealtimeResult).
 */
import { createPrivateKey } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { emitResult, hmacHeaders, mintUserToken, percentile, readSpec, type RealtimeResult, type RealtimeSpec } from './lib/common.js';

const spec = readSpec<RealtimeSpec>();
const privateKey = createPrivateKey(spec.privateKeyPem);
const CONNECT_BATCH = 50;
const EVENT_TIMEOUT_MS = 5_000;

const sockets: Socket[] = [];
/** Indexes of the users whose socket connected: only they are sent triggers. */
const connectedUsers: number[] = [];
const connectErrors = new Map<string, number>();
let connectFailures = 0;
/** Per user index: resolves the trigger waiting for that user's notification. */
const waiting = new Map<number, (at: number) => void>();
let strayEvents = 0;

function connect(index: number): Promise<Socket | null> {
  const distinctId = `${spec.userPrefix}${index}`;
  return new Promise((resolve) => {
    const socket = io(spec.url, {
      path: '/socket.io/',
      transports: ['websocket'],
      auth: {
        authorization: spec.publicKey,
        'x-ss-signature': mintUserToken(privateKey, spec.kid, distinctId),
        distinct_id: distinctId,
        tenant_id: 'default',
        schema: '1',
      },
      forceNew: true,
      reconnection: false,
      timeout: 30_000,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error: Error) => {
      connectFailures++;
      connectErrors.set(error.message, (connectErrors.get(error.message) ?? 0) + 1);
      socket.close();
      resolve(null);
    });
    socket.on('new_notification', () => {
      const at = performance.now();
      const done = waiting.get(index);
      if (done) {
        waiting.delete(index);
        done(at);
      } else strayEvents++;
    });
  });
}

async function trigger(index: number): Promise<{ eventMs: number; httpMs: number; status: number } | { error: string }> {
  const body = JSON.stringify({
    workflow: spec.workflow,
    recipients: [`${spec.userPrefix}${index}`],
    data: { order_id: `rt-${index}-${Math.random().toString(36).slice(2)}`, amount: 1 },
  });
  let timer: NodeJS.Timeout | undefined;
  const event = new Promise<number | null>((resolve) => {
    waiting.set(index, resolve);
    timer = setTimeout(() => {
      waiting.delete(index);
      resolve(null);
    }, EVENT_TIMEOUT_MS);
  });
  const started = performance.now();
  const response = await fetch(`${spec.url}/trigger/`, {
    method: 'POST',
    headers: hmacHeaders(spec.workspaceKey, spec.secret, 'POST', '/trigger/', body),
    body,
  });
  const httpMs = performance.now() - started;
  const text = await response.text();
  const eventAt = await event;
  clearTimeout(timer);
  if (response.status !== 202) return { error: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  if (eventAt === null) return { error: `no new_notification within ${EVENT_TIMEOUT_MS} ms` };
  return { eventMs: eventAt - started, httpMs, status: response.status };
}

const connectStarted = performance.now();
for (let start = 0; start < spec.clients; start += CONNECT_BATCH) {
  const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, spec.clients - start) }, (_, i) => connect(start + i)));
  batch.forEach((socket, i) => {
    if (!socket) return;
    sockets.push(socket);
    connectedUsers.push(start + i);
  });
}
const connectSeconds = (performance.now() - connectStarted) / 1000;

const eventTimes: number[] = [];
const httpTimes: number[] = [];
const failureReasons = new Map<string, number>();
let failures = 0;
// Spread the recipients over all connected users (a stride coprime with the client count).
const stride = 7_919;
if (connectedUsers.length > 0) {
  for (let i = 0; i < spec.warmupTriggers + spec.triggers; i++) {
    const outcome = await trigger(connectedUsers[(i * stride) % connectedUsers.length] as number);
    if (i < spec.warmupTriggers) continue;
    if ('error' in outcome) {
      failures++;
      failureReasons.set(outcome.error, (failureReasons.get(outcome.error) ?? 0) + 1);
    } else {
      eventTimes.push(outcome.eventMs);
      httpTimes.push(outcome.httpMs);
    }
  }
}
for (const socket of sockets) socket.close();

eventTimes.sort((a, b) => a - b);
httpTimes.sort((a, b) => a - b);
const result: RealtimeResult = {
  connected: sockets.length,
  connectFailures,
  connectErrors: [...connectErrors].map(([message, count]) => `${count}× ${message}`),
  connectSeconds,
  triggers: spec.triggers,
  p50Ms: percentile(eventTimes, 0.5),
  p99Ms: percentile(eventTimes, 0.99),
  maxMs: eventTimes.at(-1) ?? Number.NaN,
  httpP50Ms: percentile(httpTimes, 0.5),
  httpP99Ms: percentile(httpTimes, 0.99),
  failures,
  failureReasons: [...failureReasons].map(([message, count]) => `${count}× ${message}`),
  strayEvents,
};
emitResult(result);
process.exit(0);
