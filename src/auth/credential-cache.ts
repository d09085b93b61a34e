import { createPublicKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ApiKeyRecord, ApiKeyService } from '../credentials/api-keys.service.js';
import type { PublicKeyRecord, PublicKeyService } from '../credentials/public-keys.service.js';
import type { SigningKeyService } from '../credentials/signing-keys.service.js';
import type { ValidSecret, WorkspaceSecretService } from '../credentials/workspace-secrets.service.js';
import type { Workspace, WorkspaceService } from '../workspaces/workspaces.service.js';

/**
 * Read-through cache of what authentication looks up on every request. Correctness does not
 * depend on it being fresh for long: every entry is dropped as soon as the change feed reports a
 * credential change (any process, any tool), and entries live at most CACHE_MAX_AGE_MS anyway.
 * Time-dependent decisions (expiry, grace periods) are made at use time, never cached.
 */

const CACHE_MAX_AGE_MS = 60_000;
const CACHE_MAX_ENTRIES = 50_000;
const SIGNING_KEY_REREAD_INTERVAL_MS = 1_000;

interface EntryValues {
  workspace: Workspace | null;
  secrets: ValidSecret[];
  apiKey: ApiKeyRecord | null;
  publicKey: PublicKeyRecord | null;
  signingKeys: Array<{ kid: string; key: KeyObject }>;
}

interface Entry {
  kind: keyof EntryValues;
  value: EntryValues[keyof EntryValues];
}

export interface CacheSources {
  workspaces: WorkspaceService;
  workspaceSecrets: WorkspaceSecretService;
  apiKeys: ApiKeyService;
  publicKeys: PublicKeyService;
  signingKeys: SigningKeyService;
}

export class CredentialCache {
  readonly #entries = new LRUCache<string, Entry>({ max: CACHE_MAX_ENTRIES, ttl: CACHE_MAX_AGE_MS });
  #generation = 0;
  readonly #listeners: Array<() => void> = [];
  /** When each workspace's signing keys were last re-read because a token named an unknown kid. */
  readonly #signingKeyRereads = new LRUCache<string, number>({ max: 10_000 });

  constructor(private readonly sources: CacheSources) {}

  /** Drops everything. Credential changes are rare; precision is not worth the risk of a stale entry. */
  invalidateAll(): void {
    this.#generation += 1;
    this.#entries.clear();
    for (const listener of this.#listeners) listener();
  }

  onInvalidate(listener: () => void): void {
    this.#listeners.push(listener);
  }

  private async load<K extends keyof EntryValues>(
    cacheKey: string,
    kind: K,
    loader: () => Promise<EntryValues[K]>,
  ): Promise<EntryValues[K]> {
    const hit = this.#entries.get(cacheKey);
    if (hit && hit.kind === kind) return hit.value as EntryValues[K];
    const generation = this.#generation;
    const value = await loader();
    // A load that raced an invalidation may have read the old state: use it once, don't keep it.
    if (generation === this.#generation) this.#entries.set(cacheKey, { kind, value });
    return value;
  }

  workspaceByKey(workspaceKey: string): Promise<Workspace | null> {
    return this.load(`wk:${workspaceKey}`, 'workspace', async () => (await this.sources.workspaces.findByKey(workspaceKey)) ?? null);
  }

  workspaceById(id: string): Promise<Workspace | null> {
    return this.load(`wid:${id}`, 'workspace', async () => (await this.sources.workspaces.findById(id)) ?? null);
  }

  secrets(workspaceId: string): Promise<ValidSecret[]> {
    return this.load(`sec:${workspaceId}`, 'secrets', () => this.sources.workspaceSecrets.validSecrets(workspaceId));
  }

  apiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    return this.load(`ak:${keyHash}`, 'apiKey', async () => (await this.sources.apiKeys.findByHash(keyHash)) ?? null);
  }

  publicKey(key: string): Promise<PublicKeyRecord | null> {
    return this.load(`pk:${key}`, 'publicKey', async () => (await this.sources.publicKeys.findByKey(key)) ?? null);
  }

  /**
   * The signing keys again from the database, for a token whose kid is not among the cached ones:
   * a key created a moment ago through another process is accepted before the change feed reports
   * it. At most once a second per workspace, so tokens with made-up kids cannot load the database.
   */
  async signingKeysAfterMiss(workspaceId: string): Promise<Array<{ kid: string; key: KeyObject }>> {
    const now = Date.now();
    const last = this.#signingKeyRereads.get(workspaceId);
    if (last === undefined || now - last >= SIGNING_KEY_REREAD_INTERVAL_MS) {
      this.#signingKeyRereads.set(workspaceId, now);
      this.#entries.delete(`sk:${workspaceId}`);
    }
    return this.signingKeys(workspaceId);
  }

  /** Active signing keys, imported once (an import costs as much as a verification). */
  signingKeys(workspaceId: string): Promise<Array<{ kid: string; key: KeyObject }>> {
    return this.load(`sk:${workspaceId}`, 'signingKeys', async () =>
      (await this.sources.signingKeys.listActive(workspaceId)).map((row) => ({ kid: row.kid, key: createPublicKey(row.publicKeyPem) })),
    );
  }
}
