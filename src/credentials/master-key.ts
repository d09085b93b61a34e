import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { generateMasterKey, MasterKeyError, parseMasterKey } from './encryption.js';

export interface LoadedMasterKey {
  key: Buffer;
  source: 'env' | 'file';
  /** True when this call generated the key file (first start in embedded mode). */
  isNew: boolean;
}

/**
 * HERALD_MASTER_KEY wins. Without it, embedded (SQLite) mode keeps a key file next to the database,
 * created on first start with 0600 permissions. PostgreSQL mode has no such fallback: several
 * processes on several hosts must share one key, so it has to be configured explicitly.
 */
export function loadMasterKey(config: Config): LoadedMasterKey {
  if (config.masterKeyText !== undefined) {
    try {
      return { key: parseMasterKey(config.masterKeyText), source: 'env', isNew: false };
    } catch (error) {
      throw new MasterKeyError(`HERALD_MASTER_KEY: ${(error as Error).message}`);
    }
  }
  if (config.engine === 'postgres') {
    throw new MasterKeyError(
      'HERALD_MASTER_KEY is required when DATABASE_URL points to PostgreSQL (workspace secrets are encrypted with it). ' +
        'Generate one with `herald master-key generate`, store it in your secret manager, and give the same value to every Herald process.',
    );
  }
  const file = config.masterKeyFile;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': never overwrite an existing key file, even if two processes start at once.
    writeFileSync(file, `${generateMasterKey()}\n`, { flag: 'wx', mode: 0o600 });
    return { key: readKeyFile(file), source: 'file', isNew: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { key: readKeyFile(file), source: 'file', isNew: false };
}

function readKeyFile(file: string): Buffer {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MasterKeyError(`master key file ${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
  }
  try {
    return parseMasterKey(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MasterKeyError(`master key file ${file}: ${(error as Error).message}`);
  }
}
