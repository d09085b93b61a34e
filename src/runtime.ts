import { readFileSync } from 'node:fs';
import type { Kysely, LogEvent } from 'kysely';
import type { Logger } from 'pino';
import { AuditService } from './audit/audit.service.js';
import type { Config, Engine } from './config.js';
import { ApiKeyService } from './credentials/api-keys.service.js';
import { MasterKeyError, parseMasterKey, SecretBox } from './credentials/encryption.js';
import { loadMasterKey } from './credentials/master-key.js';
import { PublicKeyService } from './credentials/public-keys.service.js';
import { SigningKeyService } from './credentials/signing-keys.service.js';
import { WebhookSecretService } from './credentials/webhook-secrets.service.js';
import { WorkspaceSecretService } from './credentials/workspace-secrets.service.js';
import { openDb } from './db/client.js';
import { migrateToLatest } from './db/migrate.js';
import type { Database } from './db/schema.js';
import { systemClock, type Clock } from './lib/clock.js';
import { RequestLogService } from './request-log/request-log.service.js';
import { prepareFirstTry } from './workspaces/first-try.js';
import { WorkspaceService } from './workspaces/workspaces.service.js';

/** Everything the server and the CLI share: the database, the master key and the services. */
export interface Herald {
  config: Config;
  engine: Engine;
  /** Where the data lives, for humans (no credentials in it). */
  location: string;
  db: Kysely<Database>;
  clock: Clock;
  masterKeySource: 'env' | 'file';
  /** True when this process created the organisation and default workspaces. */
  isFirstStart: boolean;
  workspaces: WorkspaceService;
  workspaceSecrets: WorkspaceSecretService;
  webhookSecrets: WebhookSecretService;
  apiKeys: ApiKeyService;
  publicKeys: PublicKeyService;
  signingKeys: SigningKeyService;
  /** Append-only log of credential and security events. */
  audit: AuditService;
  /** Buffered log of API requests; the server starts its timers, close() writes what is left. */
  requestLog: RequestLogService;
  close(): Promise<void>;
}

export interface OpenHeraldOptions {
  clock?: Clock;
  onQuery?: (event: LogEvent) => void;
  /** The server's logger, for database connection faults. */
  logger?: Logger;
  /** SQLite: checkpoint the WAL from a worker thread (the long-running server does). */
  backgroundCheckpoints?: boolean;
}

/** Opens the database, applies pending migrations and bootstraps a fresh installation. */
export async function openHerald(config: Config, options: OpenHeraldOptions = {}): Promise<Herald> {
  // The master key comes first: a missing key in PostgreSQL mode must fail before anything is written.
  const masterKey = loadMasterKey(config);
  const box = new SecretBox(masterKey.key);
  const clock = options.clock ?? systemClock;
  const handle = await openDb(config, {
    onQuery: options.onQuery,
    logger: options.logger,
    backgroundCheckpoints: options.backgroundCheckpoints,
  });
  const { db } = handle;
  try {
    await migrateToLatest(db, handle.engine, config.databaseSchema);
    const audit = new AuditService(db, clock);
    const workspaceSecrets = new WorkspaceSecretService(db, box, clock, audit);
    const webhookSecrets = new WebhookSecretService(db, box, workspaceSecrets, clock, audit);
    const workspaces = new WorkspaceService(db, box, workspaceSecrets, webhookSecrets, clock, audit);
    const isFirstStart = await workspaces.bootstrap().catch((error: unknown) => {
      throw explainKeyMismatch(error, config, masterKey.source);
    });
    const apiKeys = new ApiKeyService(db, clock, audit);
    const requestLog = new RequestLogService(db, clock, { maxRows: config.requestLogMaxRows, maxAgeMs: config.requestLogMaxAgeMs });
    const herald: Herald = {
      config,
      engine: handle.engine,
      location: handle.location,
      db,
      clock,
      masterKeySource: masterKey.source,
      isFirstStart,
      workspaces,
      workspaceSecrets,
      webhookSecrets,
      apiKeys,
      publicKeys: new PublicKeyService(db, clock, audit),
      signingKeys: new SigningKeyService(db, clock, audit),
      audit,
      requestLog,
      async close() {
        await requestLog.close();
        await apiKeys.flushUses();
        await db.destroy();
      },
    };
    if (isFirstStart && handle.engine === 'sqlite' && config.isSampleDataOn) await prepareFirstTry(herald);
    return herald;
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/**
 * Embedded mode with HERALD_MASTER_KEY set to another key than the data directory's: when the key
 * file beside the database is the right one, say so instead of asking for "the original key".
 */
function explainKeyMismatch(error: unknown, config: Config, source: 'env' | 'file'): unknown {
  if (!(error instanceof MasterKeyError) || !/does not match/.test(error.message) || source !== 'env' || config.engine !== 'sqlite') {
    return error;
  }
  let fileKey: SecretBox;
  try {
    fileKey = new SecretBox(parseMasterKey(readFileSync(config.masterKeyFile, 'utf8').trim()));
  } catch {
    return error;
  }
  if (!error.message.includes(`database expects ${fileKey.fingerprint()}`)) return error;
  return new MasterKeyError(
    `HERALD_MASTER_KEY holds another key than the one this data directory was created with; the key file ${config.masterKeyFile} ` +
      'is the right one: unset HERALD_MASTER_KEY to use it',
  );
}
