import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import { requireTenant, subscriberFor } from '../auth/client-scope.js';
import { verifyPublicKeyRequest, type PublicKeyDeps } from '../auth/public-key.js';
import { AppError } from '../lib/errors.js';
import type { JsonObject } from '../lib/json.js';
import { integerIdAsText } from '../lib/text.js';
import type { RealtimeEvent, RealtimeNotifier, RealtimeTarget } from './realtime.js';

/**
 * The web SDK's in-app feed socket (reference/client-sdk-protocol.md §2.2, §6.1): socket.io v4 at
 * /socket.io/, credentials in the CONNECT packet's auth object, one room per (workspace, tenant,
 * user). With HERALD_REDIS_URL the rooms span every process through the Redis adapter.
 */

/**
 * The SDK refreshes its user token only on a connect_error with exactly this message, and the
 * same text answers every credential failure so a client learns nothing about which check failed
 * (the precise reason goes to the log).
 */
export const AUTH_ERROR_MESSAGE = 'Authentication Error: wrong auth token';
const SERVER_ERROR_MESSAGE = 'Server Error: could not check credentials, try again later';
// Clients only send the CONNECT packet (public key, a JWT, two ids); nothing large is legitimate.
const MAX_CLIENT_PACKET_BYTES = 64 * 1024;
// Re-verifying after a credential change costs one cached lookup and at most one signature check
// per socket; a bounded batch keeps thousands of sockets from monopolising the event loop.
const RECHECK_BATCH_SIZE = 32;

type ServerToClientEvents = { [E in RealtimeEvent]: (payload: JsonObject) => void };
type ClientToServerEvents = Record<string, never>;
type InterServerEvents = Record<string, never>;
interface SocketData {
  target: RealtimeTarget;
}
type FeedSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What a socket presented at handshake, kept to re-verify it when credentials change. */
interface HandshakeCredentials {
  publicKey: string;
  userToken: string | undefined;
  origin: string | undefined;
  distinctId: unknown;
  tenantId: unknown;
}

type HandshakeOutcome = { ok: true; target: RealtimeTarget } | { ok: false; code: string; reason: string };

export interface SocketServerDeps {
  auth: PublicKeyDeps;
  /** Called with a listener to run whenever cached credentials are dropped (a credential changed). */
  onCredentialsChanged: (listener: () => void) => void;
  redisUrl: string | undefined;
  /** Names this installation's Redis channels, so Herald servers on other databases never cross. */
  installationId: () => Promise<string>;
  logger: Logger;
}

export interface SocketServer extends RealtimeNotifier {
  /** Connects to Redis when configured; must finish before the HTTP server accepts connections. */
  start(): Promise<void>;
  /** Ends every client connection; the HTTP server's close would otherwise wait for them. */
  disconnectAll(): void;
  close(): Promise<void>;
  /** Cross-process fan-out: 'local' without Redis; 'degraded' while Redis is away. */
  health(): { fanOut: 'local' | 'redis' | 'degraded'; droppedEvents: number };
  /** Clients connected to this process. */
  connectedClients(): number;
}

/**
 * One room per (workspace, tenant, user). JSON keeps the parts apart whatever they contain, and
 * unlike encodeURIComponent it cannot throw (a lone surrogate comes out escaped).
 */
export function roomOf(target: RealtimeTarget): string {
  return JSON.stringify([target.workspaceId, target.tenantId, target.distinctId]);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function credentialsOf(socket: FeedSocket): HandshakeCredentials {
  const auth: Record<string, unknown> = socket.handshake.auth;
  return {
    publicKey: typeof auth['authorization'] === 'string' ? auth['authorization'].trim() : '',
    userToken: stringOrUndefined(auth['x-ss-signature']),
    origin: stringOrUndefined(socket.handshake.headers.origin),
    distinctId: auth['distinct_id'],
    tenantId: auth['tenant_id'],
  };
}

async function verifyHandshake(credentials: HandshakeCredentials, deps: PublicKeyDeps): Promise<HandshakeOutcome> {
  if (credentials.publicKey === '') return { ok: false, code: 'UNAUTHENTICATED', reason: 'no public key in the handshake auth' };
  const outcome = await verifyPublicKeyRequest(credentials.publicKey, credentials.userToken, credentials.origin, deps);
  if (!outcome.ok) return { ok: false, code: outcome.code, reason: outcome.reason };
  try {
    // The SDK passes identify()'s distinct_id through untouched, and apps use numeric ids.
    const distinctId = subscriberFor(outcome.principal, integerIdAsText(credentials.distinctId, 'distinct_id'));
    const tenantId = requireTenant(outcome.principal, credentials.tenantId);
    return { ok: true, target: { workspaceId: outcome.principal.workspaceId, tenantId, distinctId } };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, reason: error.detail ?? error.message };
    throw error;
  }
}

/** Attaches the feed socket to the app's HTTP server (before it listens). */
export function createSocketServer(httpServer: HttpServer, deps: SocketServerDeps): SocketServer {
  const log = deps.logger.child({ component: 'realtime' });
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    path: '/socket.io/',
    // The SDK uses the websocket transport only; polling stays available for other clients.
    transports: ['websocket', 'polling'],
    // Any page may connect: the public key's allowed origins are checked in the handshake below.
    cors: { origin: '*', credentials: false },
    serveClient: false,
    maxHttpBufferSize: MAX_CLIENT_PACKET_BYTES,
  });
  // Not socket.data: the Redis adapter ships socket.data to other processes (fetchSockets), and
  // credentials must not travel. A WeakMap forgets a socket once it is gone.
  const credentialsBySocket = new WeakMap<FeedSocket, HandshakeCredentials>();
  const redisClients: Redis[] = [];
  let droppedEvents = 0;
  // A connection upgraded between disconnectAll() and the HTTP server's close would hold that close open.
  let isClosing = false;
  io.engine.on('connection', (connection: { close(): void }) => {
    if (isClosing) connection.close();
  });

  io.use((socket, next) => {
    const credentials = credentialsOf(socket);
    verifyHandshake(credentials, deps.auth).then(
      (outcome) => {
        if (!outcome.ok) {
          log.info({ socketId: socket.id, code: outcome.code, reason: outcome.reason }, 'realtime connection rejected');
          next(new Error(AUTH_ERROR_MESSAGE));
          return;
        }
        socket.data.target = outcome.target;
        credentialsBySocket.set(socket, credentials);
        next();
      },
      (error: unknown) => {
        log.error({ err: error, socketId: socket.id }, 'realtime handshake could not be verified');
        next(new Error(SERVER_ERROR_MESSAGE));
      },
    );
  });
  io.on('connection', (socket) => {
    const refuse = (error: unknown) => {
      log.error({ err: error, socketId: socket.id }, 'realtime connection could not join its room');
      socket.disconnect(true);
    };
    // socket.io runs this from its packet handling, where a throw would end the process.
    try {
      void Promise.resolve(socket.join(roomOf(socket.data.target))).catch(refuse);
    } catch (error) {
      refuse(error);
    }
  });

  // A revoked public key or signing key, or enhanced security switched on, must also end the
  // connections it already let in. Invalidation listeners run synchronously and the token cache is
  // cleared by another one, so re-verification starts on the next tick, once all of them ran.
  let isRechecking = false;
  let isRecheckPending = false;
  const recheckAll = async (): Promise<void> => {
    const sockets = [...io.of('/').sockets.values()];
    for (let start = 0; start < sockets.length; start += RECHECK_BATCH_SIZE) {
      await Promise.all(sockets.slice(start, start + RECHECK_BATCH_SIZE).map((socket) => recheck(socket)));
    }
  };
  const recheck = async (socket: FeedSocket): Promise<void> => {
    const credentials = credentialsBySocket.get(socket);
    if (!credentials || !socket.connected) return;
    const outcome = await verifyHandshake(credentials, deps.auth);
    // Expiry is enforced when a socket connects, which is where the SDK refreshes its token (on
    // connect_error). Dropping a live socket because its token aged would end its feed silently:
    // the SDK does not reconnect after a server-side disconnect. A revoked key is caught before
    // the expiry check, so it still disconnects.
    if (outcome.ok || outcome.code === 'TOKEN_EXPIRED') return;
    log.info(
      { socketId: socket.id, code: outcome.code, reason: outcome.reason },
      'realtime connection closed: credentials no longer valid',
    );
    socket.disconnect(true);
  };
  const scheduleRecheck = (): void => {
    if (isRechecking) {
      isRecheckPending = true;
      return;
    }
    isRechecking = true;
    setImmediate(() => {
      recheckAll()
        .catch((error: unknown) => log.error({ err: error }, 'could not re-verify realtime connections after a credential change'))
        .finally(() => {
          isRechecking = false;
          if (isRecheckPending) {
            isRecheckPending = false;
            scheduleRecheck();
          }
        });
    });
  };
  deps.onCredentialsChanged(scheduleRecheck);

  return {
    emit(target, event, payload) {
      // Called after a delivery committed: a failure here loses one live update, never the request.
      try {
        io.to(roomOf(target)).emit(event, payload);
      } catch (error) {
        log.error({ err: error, event }, 'realtime event could not be sent');
      }
    },

    async start() {
      if (deps.redisUrl === undefined) return;
      const key = `herald-realtime#${await deps.installationId()}`;
      // lazyConnect lets start() fail on an unreachable Redis (misconfiguration fails at boot);
      // after that ioredis reconnects by itself. Publishes are not queued while Redis is away: the
      // events for other processes are dropped (same-process sockets still get theirs), so an
      // outage neither grows memory nor fails later with MaxRetriesPerRequestError.
      const pub = new Redis(deps.redisUrl, { lazyConnect: true, enableOfflineQueue: false });
      const sub = new Redis(deps.redisUrl, { lazyConnect: true });
      // Until both clients are up, a failure is start()'s to report (ioredis's own message for the
      // first one says only "Connection is closed").
      let hasStarted = false;
      let firstError: Error | undefined;
      let isPublishDown = false;
      for (const [role, client] of [
        ['publish', pub],
        ['subscribe', sub],
      ] as const) {
        redisClients.push(client);
        // One line per outage, not one per reconnect attempt. The URL may hold a password: never logged.
        let isDown = false;
        client.on('error', (error: Error) => {
          firstError ??= error;
          if (!hasStarted || isDown) return;
          isDown = true;
          log.warn({ role, reason: error.message }, 'realtime Redis connection lost; retrying');
        });
        client.on('ready', () => {
          if (isDown) log.info({ role }, 'realtime Redis connection restored');
          isDown = false;
          if (client === pub) isPublishDown = false;
        });
      }
      // The adapter neither awaits nor catches its publishes; an unhandled rejection ends the process.
      const publish = pub.publish.bind(pub);
      const safePublish = (channel: string, message: string | Buffer): Promise<number> =>
        publish(channel, message).catch((error: Error) => {
          droppedEvents++;
          if (!isPublishDown) {
            isPublishDown = true;
            log.warn({ reason: error.message }, 'realtime events for other processes are dropped until Redis is back');
          }
          return 0;
        });
      pub.publish = safePublish as unknown as Redis['publish'];
      try {
        await Promise.all([pub.connect(), sub.connect()]);
      } catch (error) {
        for (const client of redisClients) client.disconnect();
        const reason = (firstError ?? (error as Error)).message;
        throw new Error(`could not connect to Redis (HERALD_REDIS_URL): ${reason}`, { cause: error });
      }
      hasStarted = true;
      io.adapter(createAdapter(pub, sub, { key }));
    },

    health() {
      if (redisClients.length === 0) return { fanOut: 'local', droppedEvents };
      const isUp = redisClients.every((client) => client.status === 'ready');
      return { fanOut: isUp ? 'redis' : 'degraded', droppedEvents };
    },

    connectedClients() {
      return io.engine.clientsCount;
    },

    disconnectAll() {
      isClosing = true;
      // Local only: through the Redis adapter a plain disconnectSockets() reaches every process.
      io.local.disconnectSockets(true);
      io.engine.close();
    },

    async close() {
      // Not io.close(): it would close the HTTP server, which Fastify owns and closes itself.
      await io.of('/').adapter.close();
      await Promise.all(redisClients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
