import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { redactSecrets } from './credentials/redact.js';

/** Header values that carry credentials never reach a log line, whatever a serializer decides to print. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-ss-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-ss-signature"]',
  'headers.cookie',
];

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * Requests are logged by path only: query strings are where clients put tokens (the legacy inbox
 * sends its subscriber HMAC there, and anyone may paste a key into a URL). What remains of the
 * path is redacted too, in case a secret was put in the path itself.
 */
function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return {
    method: request.method,
    path: redactSecrets(query === -1 ? url : url.slice(0, query)),
    ...(query === -1 ? {} : { query: '[omitted]' }),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** `destination` defaults to stdout, written asynchronously (as pino does when given none). */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { req: serializeRequest },
    },
    destination,
  );
}
