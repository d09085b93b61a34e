import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

/** Header values that carry credentials never reach a log line, whatever a serializer decides to print. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-ss-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-ss-signature"]',
  'headers.cookie',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
