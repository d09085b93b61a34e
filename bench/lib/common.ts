/**
 * Shared by the benchmark driver (bench/run.ts) and its child processes: the wire formats a client
 * produces (HMAC signatures of the backend SDKs, ES256 user tokens), the JSON the processes
 * exchange, and small helpers. Nothing here imports Herald: clients are written from the protocol.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A child script's command line: `node --import tsx bench/<script>.ts <spec.json>`. */
export function childArgs(script: string, specPath?: string): string[] {
  return ['--import', 'tsx', path.join(ROOT, 'bench', script), ...(specPath === undefined ? [] : [specPath])];
}

/** Reads the JSON spec a child process was started with (path in argv[2]). */
export function readSpec<T>(): T {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node --import tsx bench/<script>.ts <spec.json>');
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Signed as the SuprSend backend SDKs sign (HMAC-SHA256); the tests' client, written from the protocol. */
export { hmacHeaders } from '../../test/helpers/http.js';

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * A user token as a customer backend mints it: ES256 compact JWS (raw r||s signature), header with
 * the signing key's kid, claims as SuprSend documents them. `jti` makes every token unique, so a
 * server cannot answer a repeat from a cache.
 */
export function mintUserToken(privateKey: KeyObject, kid: string, distinctId: string, ttlS = 3_600): string {
  const nowS = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
  const payload = base64url(
    JSON.stringify({
      entity_type: 'subscriber',
      entity_id: distinctId,
      iat: nowS,
      exp: nowS + ttlS,
      jti: randomBytes(12).toString('base64url'),
    }),
  );
  const input = `${header}.${payload}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${base64url(signature)}`;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

// ---- load generator (bench/load.ts) ----

export type LoadRequest =
  | { kind: 'static'; method: 'GET'; path: string; headers: Record<string, string> }
  /** `POST /trigger/`, HMAC-signed, a fresh body (and signature) for every request. */
  | { kind: 'trigger'; workspaceKey: string; secret: string; workflow: string; recipientPrefix: string; recipientCount: number }
  /** GET with public key + a user token never sent before (minted before the clock starts). */
  | {
      kind: 'fresh-token';
      path: string;
      publicKey: string;
      privateKeyPem: string;
      kid: string;
      distinctId: string;
      /** Tokens minted for the warm-up and the measured run together. */
      poolSize: number;
    };

export interface LoadSpec {
  /** One server, or several (a cluster): connections are spread over them round-robin. */
  urls: string[];
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  request: LoadRequest;
}

export interface LoadResult {
  /** Mean of autocannon's per-second samples over the measured run. */
  reqPerSec: number;
  durationSeconds: number;
  responses: number;
  /** Latency of 2xx answers, from autocannon's per-response timings (ms, not rounded). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Problems that make the run invalid (e.g. the token pool ran out and tokens were reused). */
  invalid: string[];
  notes: string[];
  /** CPU seconds the load generator itself used during the measured run. */
  cpuSeconds: number;
  /** Filled in by the driver: CPU shares during the measured run. */
  cpu?: { herald: number | null; database: number | null; foreign: number | null } | undefined;
}

/** Lines the load generator prints around the measured run, so the driver can meter CPU exactly then. */
export const MEASURE_START = '##measure-start';
export const MEASURE_END = '##measure-end';

// ---- ES256 verify bound (bench/verify-bound.ts) ----

export interface VerifySpec {
  privateKeyPem: string;
  kid: string;
  seconds: number;
}

export interface VerifyResult {
  verifiesPerSec: number;
  verifies: number;
  seconds: number;
}

// ---- realtime (bench/realtime.ts) ----

export interface RealtimeSpec {
  url: string;
  publicKey: string;
  privateKeyPem: string;
  kid: string;
  workspaceKey: string;
  secret: string;
  workflow: string;
  clients: number;
  userPrefix: string;
  warmupTriggers: number;
  triggers: number;
}

export interface RealtimeResult {
  connected: number;
  connectFailures: number;
  connectErrors: string[];
  connectSeconds: number;
  triggers: number;
  /** Trigger sent → `new_notification` received on the recipient's socket. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Trigger sent → HTTP answer received. */
  httpP50Ms: number;
  httpP99Ms: number;
  /** Triggers whose notification did not arrive within the timeout, or whose answer was not 202. */
  failures: number;
  failureReasons: string[];
  /** new_notification events that reached a socket other than the recipient's. */
  strayEvents: number;
}

/** Children print exactly one JSON line on stdout: their result. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
