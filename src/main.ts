import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { StartupError } from './lib/errors.js';
import { createLogger } from './logger.js';
import { openHerald } from './runtime.js';
import { firstTryLines } from './workspaces/first-try.js';

/** Starts the server; resolves once it listens. Used by `npm start` and `herald serve`. */
export async function serve(config: Config): Promise<void> {
  // The banner goes through the log lines' own stream, so it can never land between two of them.
  const stdout = pino.destination({ dest: 1, sync: false });
  const logger = createLogger(config, stdout);
  // The last line of defence: a promise some library forgot to handle (a client of PostgreSQL or
  // Redis failing in the background) is a bug to log, not a reason to stop serving every workspace.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug: please report it); the server keeps running');
  });
  // Before the database is opened: a second server on one SQLite directory stops here, untouched.
  const lock = config.engine === 'sqlite' ? lockDataDir(config.dataDir) : undefined;
  process.once('exit', () => lock?.release());
  const herald = await openHerald(config, { logger, backgroundCheckpoints: true });
  const app = buildApp({ herald, logger });
  let isClosing = false;
  const shutdown = (signal: string) => {
    if (isClosing) return;
    isClosing = true;
    logger.info({ signal }, 'shutting down: draining requests');
    app
      .close()
      .then(() => herald.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().then(() => herald.close());
    lock?.release();
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new StartupError(
      `port ${config.port} on ${config.host} is already in use (another Herald, or another program); ` +
        `stop that one, or give Herald another port: PORT=${config.port + 1} npm start`,
    );
  }
  const tryIt = herald.engine === 'sqlite' ? await firstTryLines(herald, config, address) : null;
  stdout.write(banner(config, herald.location, herald.engine, herald.masterKeySource, herald.isFirstStart, address, tryIt));
}

function banner(
  config: Config,
  location: string,
  engine: string,
  keySource: string,
  isFirstStart: boolean,
  address: string,
  tryIt: string[] | null,
): string {
  const lines = [`Herald listening on ${address}`, `Data: ${location} (${engine})`];
  if (engine === 'sqlite') {
    lines.push(
      keySource === 'file'
        ? `Master key: ${config.masterKeyFile}. Back it up with the data; without it stored workspace secrets cannot be read.`
        : 'Master key: from HERALD_MASTER_KEY.',
    );
  }
  if (isFirstStart) {
    lines.push(
      'First start: created workspaces "staging" (test) and "production" (live, enhanced security on).',
      'Get a workspace key and secret with:   npm run herald -- workspace secret staging',
      'Create an API key with:                npm run herald -- api-key create staging --name my-backend',
      'Create the first dashboard owner with: npm run herald -- admin create --email you@example.com --role owner',
    );
  }
  if (tryIt) lines.push('', ...tryIt);
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await serve(loadConfig());
  } catch (error) {
    process.stderr.write(`herald: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
