import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { SignJWT } from 'jose';
import { loadConfig } from '../config.js';
import { generateMasterKey } from '../credentials/encryption.js';
import { loadMasterKey } from '../credentials/master-key.js';
import type { WorkspaceMode } from '../credentials/key-format.js';
import { publicKeyOf, readPrivateSigningKey, SigningKeyFormatError, thumbprintOf } from '../credentials/signing-keys.js';
import { openDb } from '../db/client.js';
import { migrateToLatest } from '../db/migrate.js';
import { signRequest } from '../auth/hmac.js';
import { parseDuration } from '../lib/duration.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';
import type { AuditActor } from '../audit/audit.types.js';
import { openHerald, type Herald } from '../runtime.js';
import type { Workspace } from '../workspaces/workspaces.service.js';
import { describeApiKeyScope, parseApiKeyScope } from '../auth/api-key-scope.js';
import { formatTime, table, UsageError } from './output.js';
import { readNewPassword } from './password-input.js';
import { WorkflowService } from '../workflows/workflows.service.js';
import { CategoryService } from '../preferences/categories.service.js';

/** The dashboard's account and token services, loaded only by the commands that use them. */
async function adminDeps(h: Herald) {
  const { createAdminGroupDeps } = await import('../admin/admin-group.js');
  return createAdminGroupDeps(h);
}

export interface Invocation {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  isJson: boolean;
}

/** What a command produced: a JSON value for --json, and the text a person reads. */
export interface Result {
  json: unknown;
  text: string;
}

type Command = (inv: Invocation) => Promise<Result | undefined>;

function arg(inv: Invocation, index: number, name: string): string {
  const value = inv.positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing <${name}>`);
  return value;
}

function option(inv: Invocation, name: string): string | undefined {
  const value = inv.options[name];
  return typeof value === 'string' ? value : undefined;
}

function optionList(inv: Invocation, name: string): string[] {
  const value = inv.options[name];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}

function duration(text: string, flag: string, allowZero: boolean): number {
  const ms = parseDuration(text);
  if (ms === 0 && !allowZero) throw new UsageError(`${flag} must be longer than 0 (got "${text}"); e.g. 30d, 12h or 15m`);
  if (ms === null) {
    throw new UsageError(
      `${flag} "${text}" is not a duration; use a number with s, m, h, d or w (e.g. 30d, 12h)${allowZero ? ', or 0' : ''}`,
    );
  }
  return ms;
}

/** The server of this installation, as a local client reaches it (a wildcard bind answers on loopback). */
function localServerUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/** JSON.parse's complaint with the line and column of the position it names. */
function describeJsonError(text: string, error: Error): string {
  // Node 20 says "… at position 14"; later versions add "(line 1 column 15)" themselves.
  const message = error.message.replace(/\s*\(line \d+ column \d+\)$/, '');
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return message;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+/, '')} at line ${line}, column ${column}`;
}

/** Reads and parses a JSON file given on the command line (`-` reads standard input). */
function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${describeJsonError(text, error as Error)}`, false);
  }
}

async function withHerald<T>(fn: (herald: Herald) => Promise<T>): Promise<T> {
  const herald = await openHerald(loadConfig());
  try {
    return await fn(herald);
  } finally {
    await herald.close();
  }
}

/** Most commands act on one workspace, named by slug, id or key and looked up once Herald is open. */
function withWorkspace<T>(ref: string, fn: (herald: Herald, workspace: Workspace) => Promise<T>): Promise<T> {
  return withHerald(async (herald) => fn(herald, await herald.workspaces.get(ref)));
}

/** `<command> <ws> [on|off]`: shows a workspace switch, or sets it (audited as the CLI). */
async function withSwitch(
  inv: Invocation,
  command: string,
  set: (herald: Herald, ref: string, isOn: boolean) => Promise<Workspace>,
  describe: (workspace: Workspace) => Result,
): Promise<Result> {
  const ref = arg(inv, 0, 'workspace');
  const state = inv.positionals[1];
  if (state !== undefined && state !== 'on' && state !== 'off') throw new UsageError(`${command} takes on or off`);
  return withHerald(async (h) => describe(state === undefined ? await h.workspaces.get(ref) : await set(h, ref, state === 'on')));
}

function createdBy(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Whoever runs the CLI, for the audit log: shell access to the data is the credential here. */
function cliActor(): AuditActor {
  return { type: 'cli', id: null, label: createdBy(), ip: null };
}

const ONCE_WARNING = 'This is the only time it is shown. Store it now; Herald keeps only a hash.';

export const COMMANDS: Record<string, Command> = {
  async serve() {
    // Loaded here: the server pulls in Fastify, socket.io and every route, which no other command
    // needs (each CLI call would otherwise spend a second loading them).
    const { serve } = await import('../main.js');
    await serve(loadConfig());
    return undefined;
  },

  async migrate() {
    const config = loadConfig();
    // Same rule as every other command: no PostgreSQL work without the key that protects its secrets.
    loadMasterKey(config);
    const handle = await openDb(config);
    try {
      const applied = await migrateToLatest(handle.db, handle.engine, config.databaseSchema);
      return {
        json: { applied, database: handle.location },
        text: applied.length ? `Applied ${applied.join(', ')} on ${handle.location}` : `Up to date: ${handle.location}`,
      };
    } finally {
      await handle.db.destroy();
    }
  },

  async 'master-key generate'() {
    const key = generateMasterKey();
    return { json: { master_key: key }, text: key };
  },

  async 'workspace list'() {
    return withHerald(async (h) => {
      const list = await h.workspaces.list();
      const json = list.map((w) => ({
        id: w.id,
        slug: w.slug,
        name: w.name,
        mode: w.mode,
        workspace_key: w.workspaceKey,
        enhanced_security: w.isEnhancedSecurity,
        allow_signed_clients: w.allowsSignedClients,
        created_at: w.createdAt,
      }));
      const text = table(
        json.map((w) => ({
          slug: w.slug,
          name: w.name,
          mode: w.mode,
          'workspace key': w.workspace_key,
          'enhanced security': w.enhanced_security ? 'on' : 'off',
        })),
        ['slug', 'name', 'mode', 'workspace key', 'enhanced security'],
      );
      return { json, text };
    });
  },

  async 'workspace create'(inv) {
    const slug = arg(inv, 0, 'slug');
    const modeText = option(inv, 'mode');
    if (modeText !== undefined && modeText !== 'test' && modeText !== 'live') throw new UsageError('--mode must be test or live');
    return withHerald(async (h) => {
      const w = await h.workspaces.create({ slug, name: option(inv, 'name'), mode: modeText as WorkspaceMode | undefined }, cliActor());
      return {
        json: {
          id: w.id,
          slug: w.slug,
          name: w.name,
          mode: w.mode,
          workspace_key: w.workspaceKey,
          enhanced_security: w.isEnhancedSecurity,
        },
        text: `Created workspace ${w.slug} (${w.mode}), key ${w.workspaceKey}. Its secret: herald workspace secret ${w.slug}`,
      };
    });
  },

  async 'workspace secret'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const secret = await h.workspaceSecrets.revealTo(w.id, cliActor());
      return {
        json: { workspace_key: w.workspaceKey, workspace_secret: secret },
        text: `Workspace key:    ${w.workspaceKey}\nWorkspace secret: ${secret}`,
      };
    });
  },

  async 'workspace rotate-secret'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const graceText = option(inv, 'grace');
    return withHerald(async (h) => {
      const graceMs = graceText === undefined ? h.config.secretGracePeriodMs : duration(graceText, '--grace', true);
      const w = await h.workspaces.get(ref);
      const rotated = await h.workspaceSecrets.rotate(w, graceMs, cliActor());
      const until = rotated.previous_valid_until;
      return {
        json: { workspace_key: w.workspaceKey, workspace_secret: rotated.workspace_secret, previous_valid_until: until },
        text:
          `Workspace key:    ${w.workspaceKey}\nWorkspace secret: ${rotated.workspace_secret}\n` +
          (until === null || until <= h.clock.now()
            ? 'The previous secret no longer works.'
            : `The previous secret keeps working until ${formatTime(until)}.`),
      };
    });
  },

  async 'webhook-secret roll'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const graceText = option(inv, 'grace');
    return withWorkspace(ref, async (h, w) => {
      const graceMs = graceText === undefined ? h.config.secretGracePeriodMs : duration(graceText, '--grace', true);
      const rolled = await h.webhookSecrets.roll(w, graceMs, cliActor());
      const until = rolled.previous_valid_until;
      return {
        json: { workspace: w.slug, ...rolled },
        text:
          `Webhook signing secret for ${w.slug}:\n\n  ${rolled.webhook_secret}\n\n${ONCE_WARNING}\n` +
          (until === null
            ? 'Webhooks are signed with this secret only from now on.'
            : `Until ${formatTime(until)} webhooks carry a signature with the previous secret as well.`),
      };
    });
  },

  async 'webhook-secret status'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const status = await h.webhookSecrets.status(w.id);
      const lines = !status.has_own_secret
        ? ['Webhooks are signed with the workspace secret: run `herald webhook-secret roll` to give them a secret of their own.']
        : [
            status.current ? `Current secret ${status.current.id}, made ${formatTime(status.current.created_at)}.` : 'No current secret.',
            ...status.previous.map((p) => `Previous secret ${p.id} still signs until ${formatTime(p.valid_until)}.`),
          ];
      return { json: status, text: lines.join('\n') };
    });
  },

  async 'api-key create'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const name = option(inv, 'name');
    if (name === undefined) throw new UsageError('--name is required (what the key is for, e.g. --name billing-service)');
    const expiresText = option(inv, 'expires-in');
    const expiresInMs = expiresText === undefined ? undefined : duration(expiresText, '--expires-in', false);
    const groupsText = option(inv, 'groups');
    const scope = parseApiKeyScope(
      option(inv, 'scope'),
      groupsText?.split(',').map((g) => g.trim()),
    );
    return withWorkspace(ref, async (h, w) => {
      const key = await h.apiKeys.create(w, { name, expiresInMs, createdBy: createdBy(), scope }, cliActor());
      return {
        json: { ...key, workspace: w.slug },
        text:
          `API key "${key.name}" (${key.id}) for ${w.slug}, scope ${describeApiKeyScope(scope)}` +
          `${key.expires_at ? `, expires ${formatTime(key.expires_at)}` : ''}:\n\n  ${key.key}\n\n${ONCE_WARNING}`,
      };
    });
  },

  async 'api-key list'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const keys = await h.apiKeys.list(w.id);
      const text = table(
        keys.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: `${k.display_prefix}…`,
          scope: describeApiKeyScope({ scope: k.scope, groups: k.route_groups }),
          status: k.status,
          created: formatTime(k.created_at),
          'last used': formatTime(k.last_used_at),
          expires: formatTime(k.expires_at),
        })),
        ['id', 'name', 'prefix', 'scope', 'status', 'created', 'last used', 'expires'],
      );
      return { json: keys, text };
    });
  },

  async 'api-key revoke'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const id = arg(inv, 1, 'id');
    return withWorkspace(ref, async (h, w) => {
      const key = await h.apiKeys.revoke(w, id, cliActor());
      return { json: key, text: `Revoked API key ${key.id} ("${key.name}"). Running servers reject it within a second.` };
    });
  },

  async 'public-key create'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const key = await h.publicKeys.create(
        w,
        { name: option(inv, 'name'), allowedOrigins: optionList(inv, 'allowed-origin') },
        cliActor(),
      );
      return {
        json: { ...key, workspace: w.slug },
        text: `Public key ${key.id} for ${w.slug}: ${key.key}\nAllowed origins: ${key.allowed_origins.length ? key.allowed_origins.join(', ') : 'any'}`,
      };
    });
  },

  async 'public-key list'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const keys = await h.publicKeys.list(w.id);
      const text = table(
        keys.map((k) => ({
          id: k.id,
          key: k.key,
          name: k.name,
          status: k.status,
          origins: k.allowed_origins.join(' ') || 'any',
          created: formatTime(k.created_at),
        })),
        ['id', 'key', 'name', 'status', 'origins', 'created'],
      );
      return { json: keys, text };
    });
  },

  async 'public-key revoke'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const id = arg(inv, 1, 'id');
    return withWorkspace(ref, async (h, w) => {
      const key = await h.publicKeys.revoke(w, id, cliActor());
      return { json: key, text: `Revoked public key ${key.id}.` };
    });
  },

  async 'signing-key create'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const key = await h.signingKeys.create(w, { name: option(inv, 'name') }, cliActor());
      return {
        json: { ...key, workspace: w.slug },
        text:
          `Signing key ${key.kid} (ES256) for ${w.slug}.\n\nPrivate key (PEM):\n${key.pem}\nPrivate key (Base64, for env vars):\n${key.base64}\n\n` +
          'This is the only time the private key is shown: Herald keeps only the public half.',
      };
    });
  },

  async 'signing-key list'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const keys = await h.signingKeys.list(w.id);
      const text = table(
        keys.map((k) => ({ kid: k.kid, name: k.name, source: k.source, status: k.status, created: formatTime(k.created_at) })),
        ['kid', 'name', 'source', 'status', 'created'],
      );
      return { json: keys, text };
    });
  },

  async 'signing-key revoke'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const kid = arg(inv, 1, 'kid');
    return withWorkspace(ref, async (h, w) => {
      const key = await h.signingKeys.revoke(w, kid, cliActor());
      return { json: key, text: `Revoked signing key ${key.kid}; tokens it signed stop working within a second.` };
    });
  },

  async 'signing-key import'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const file = arg(inv, 1, 'public.pem');
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return withWorkspace(ref, async (h, w) => {
      const key = await h.signingKeys.import(w, { publicKeyPem: pem, name: option(inv, 'name') }, cliActor());
      return { json: { ...key, workspace: w.slug }, text: `Imported signing key ${key.kid} into ${w.slug}.` };
    });
  },

  async 'signed-clients'(inv) {
    return withSwitch(
      inv,
      'signed-clients',
      (h, ref, isOn) => h.workspaces.setSignedClients(ref, isOn, cliActor()),
      (w) => {
        const effect = !w.isEnhancedSecurity
          ? ' Enhanced security is off, so they are accepted either way.'
          : w.allowsSignedClients
            ? ' They are accepted although enhanced security is on: these apps carry the workspace secret.'
            : ' Enhanced security is on, so they are refused.';
        return {
          json: { workspace: w.slug, allow_signed_clients: w.allowsSignedClients, enhanced_security: w.isEnhancedSecurity },
          text: `Key+secret signed client calls (web-sdk 1.x, Android 1.x, iOS legacy) are ${w.allowsSignedClients ? 'allowed' : 'not allowed'} in ${w.slug}.${effect}`,
        };
      },
    );
  },

  async 'enhanced-security'(inv) {
    return withSwitch(
      inv,
      'enhanced-security',
      (h, ref, isOn) => h.workspaces.setEnhancedSecurity(ref, isOn, cliActor()),
      (w) => ({
        json: { workspace: w.slug, enhanced_security: w.isEnhancedSecurity },
        text: `Enhanced security mode is ${w.isEnhancedSecurity ? 'on' : 'off'} in ${w.slug}.${
          w.isEnhancedSecurity ? ' Client requests without a valid user token are rejected.' : ''
        }`,
      }),
    );
  },

  async 'workflow apply'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const definitions = readJsonFile(arg(inv, 1, 'file.json'));
    return withWorkspace(ref, async (h, w) => {
      const workflows = new WorkflowService(h);
      const applied = await workflows.apply(w.id, Array.isArray(definitions) ? definitions : [definitions]);
      for (const warning of await workflows.warningsFor(w, applied)) process.stderr.write(`herald: warning: ${warning}\n`);
      return {
        json: applied,
        text: applied.map((wf) => `Applied workflow ${wf.slug} (${wf.category}, ${wf.steps.length} step(s)) in ${w.slug}.`).join('\n'),
      };
    });
  },

  async trigger(inv) {
    const ref = arg(inv, 0, 'workspace');
    const workflow = arg(inv, 1, 'workflow');
    const user = option(inv, 'user');
    if (user === undefined || user === '') throw new UsageError('--user is required: the distinct_id to notify');
    const dataText = option(inv, 'data');
    let data: unknown = {};
    if (dataText !== undefined) {
      try {
        data = JSON.parse(dataText) as unknown;
      } catch (error) {
        throw new UsageError(`--data is not valid JSON: ${describeJsonError(dataText, error as Error)}`);
      }
      if (!isPlainObject(data)) throw new UsageError('--data must be a JSON object, e.g. \'{"order_id": "A1"}\'');
    }
    const tenants = optionList(inv, 'tenant');
    if (tenants.length > 1) throw new UsageError('--tenant takes one tenant for a trigger');
    return withWorkspace(ref, async (h, w) => {
      // Through the running server, as a backend SDK would: its open sockets get the live update.
      const base = (option(inv, 'url') ?? process.env['HERALD_URL'] ?? localServerUrl(h.config.host, h.config.port)).replace(/\/+$/, '');
      const body = JSON.stringify({
        workflow,
        recipients: [user],
        data,
        ...(tenants[0] === undefined ? {} : { tenant_id: tenants[0] }),
      });
      const date = new Date().toUTCString();
      const contentType = 'application/json; charset=utf-8';
      const signature = signRequest(await h.workspaceSecrets.reveal(w.id), {
        method: 'POST',
        rawBody: Buffer.from(body),
        contentType,
        date,
        requestTarget: '/trigger/',
      });
      let response: Response;
      try {
        response = await fetch(`${base}/trigger/`, {
          method: 'POST',
          headers: { authorization: `${w.workspaceKey}:${signature}`, date, 'content-type': contentType },
          body,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          `no Herald server answers at ${base} (${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}): ` +
            'start it with npm start, or point --url (or HERALD_URL) at it',
        );
      }
      const answer = (await response.json().catch(() => ({}))) as { message_id?: string; message?: string };
      if (!response.ok)
        throw new AppError('VALIDATION_FAILED', `the server refused the trigger (${response.status}): ${answer.message ?? 'no message'}`);
      return {
        json: { workspace: w.slug, workflow, user, message_id: answer.message_id ?? null },
        text: `Triggered ${workflow} for ${user} in ${w.slug} (message_id ${answer.message_id ?? '?'}).`,
      };
    });
  },

  async 'workflow list'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const list = await new WorkflowService(h).list(w.id);
      const text = table(
        list.map((wf) => ({
          slug: wf.slug,
          name: wf.name,
          category: wf.category,
          steps: wf.steps.map((s) => s.type).join(', '),
          updated: formatTime(wf.updated_at),
        })),
        ['slug', 'name', 'category', 'steps', 'updated'],
      );
      return { json: list, text };
    });
  },

  async 'workflow get'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const slug = arg(inv, 1, 'slug');
    return withWorkspace(ref, async (h, w) => {
      const wf = await new WorkflowService(h).get(w.id, slug);
      return { json: wf, text: JSON.stringify({ slug: wf.slug, name: wf.name, category: wf.category, steps: wf.steps }, null, 2) };
    });
  },

  async 'workflow delete'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const slug = arg(inv, 1, 'slug');
    return withWorkspace(ref, async (h, w) => {
      await new WorkflowService(h).delete(w.id, slug);
      return { json: { deleted: slug }, text: `Deleted workflow ${slug} from ${w.slug}.` };
    });
  },

  async 'category apply'(inv) {
    const ref = arg(inv, 0, 'workspace');
    const content = readJsonFile(arg(inv, 1, 'file.json'));
    return withWorkspace(ref, async (h, w) => {
      const result = await new CategoryService(h).apply(w.id, content);
      const parts = [
        result.created.length ? `created ${result.created.join(', ')}` : '',
        result.replaced.length ? `replaced ${result.replaced.join(', ')}` : '',
      ].filter(Boolean);
      return {
        json: result,
        text: `Applied ${result.categories.length} categor${result.categories.length === 1 ? 'y' : 'ies'} in ${w.slug}: ${parts.join('; ')}.`,
      };
    });
  },

  async 'category list'(inv) {
    const ref = arg(inv, 0, 'workspace');
    return withWorkspace(ref, async (h, w) => {
      const list = await new CategoryService(h).list(w.id);
      const text = table(
        list.map((c) => ({
          slug: c.slug,
          name: c.name,
          section: c.section ?? '-',
          default: c.default_preference,
          updated: formatTime(c.updated_at),
        })),
        ['slug', 'name', 'section', 'default', 'updated'],
      );
      return { json: list, text };
    });
  },

  async 'token sign'(inv) {
    const keyOption = option(inv, 'key');
    const user = option(inv, 'user');
    if (keyOption === undefined) throw new UsageError('--key is required: the private signing key as PEM, Base64, or @file');
    if (user === undefined || user === '') throw new UsageError('--user is required: the distinct_id the token is for');
    const ttlMs = duration(option(inv, 'ttl') ?? '1h', '--ttl', false);
    let keyText = keyOption;
    if (keyOption.startsWith('@')) {
      try {
        keyText = readFileSync(keyOption.slice(1), 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${keyOption.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    let privateKey;
    try {
      privateKey = readPrivateSigningKey(keyText);
    } catch (error) {
      if (error instanceof SigningKeyFormatError) throw new UsageError(error.message);
      throw error;
    }
    const kid = await thumbprintOf(publicKeyOf(privateKey));
    const tenants = optionList(inv, 'tenant');
    const nowS = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { entity_type: 'subscriber', entity_id: user };
    if (tenants.length > 0) claims['scope'] = { tenant_id: tenants.length === 1 ? tenants[0] : tenants };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + Math.floor(ttlMs / 1000))
      .sign(privateKey);
    return { json: { token, kid, expires_at: (nowS + Math.floor(ttlMs / 1000)) * 1000 }, text: token };
  },
  async 'admin create'(inv) {
    const email = option(inv, 'email');
    const role = option(inv, 'role');
    if (email === undefined) throw new UsageError('--email is required');
    if (role === undefined) throw new UsageError('--role is required: owner, admin, developer or viewer (the first account: owner)');
    const password = await readNewPassword(inv.options['password-stdin'] === true);
    return withHerald(async (h) => {
      const account = await (await adminDeps(h)).accounts.create({ email, password, role }, { kind: 'cli' }, cliActor());
      return {
        json: account,
        text: `Created ${account.role} account ${account.email} (${account.id}). It can sign in to the dashboard now.`,
      };
    });
  },

  async 'admin list'() {
    return withHerald(async (h) => {
      const accounts = await (await adminDeps(h)).accounts.list();
      const text = table(
        accounts.map((a) => ({
          id: a.id,
          email: a.email,
          role: a.role,
          status: a.status,
          created: formatTime(a.created_at),
          'last login': formatTime(a.last_login_at),
        })),
        ['id', 'email', 'role', 'status', 'created', 'last login'],
      );
      return { json: accounts, text };
    });
  },

  async 'admin set-role'(inv) {
    const ref = arg(inv, 0, 'email|id');
    const role = arg(inv, 1, 'role');
    return withHerald(async (h) => {
      const account = await (await adminDeps(h)).accounts.update(ref, { role }, { kind: 'cli' }, cliActor());
      return { json: account, text: `${account.email} is now ${account.role}.` };
    });
  },

  async 'admin disable'(inv) {
    const ref = arg(inv, 0, 'email|id');
    return withHerald(async (h) => {
      const account = await (await adminDeps(h)).accounts.update(ref, { disabled: true }, { kind: 'cli' }, cliActor());
      return { json: account, text: `Disabled ${account.email}; its sessions have ended.` };
    });
  },

  async 'admin enable'(inv) {
    const ref = arg(inv, 0, 'email|id');
    return withHerald(async (h) => {
      const account = await (await adminDeps(h)).accounts.update(ref, { disabled: false }, { kind: 'cli' }, cliActor());
      return { json: account, text: `Enabled ${account.email}.` };
    });
  },

  async 'admin set-password'(inv) {
    const ref = arg(inv, 0, 'email|id');
    const password = await readNewPassword(inv.options['password-stdin'] === true);
    return withHerald(async (h) => {
      const account = await (await adminDeps(h)).accounts.setPassword(ref, password, cliActor());
      return { json: account, text: `Set a new password for ${account.email}; its sessions have ended.` };
    });
  },

  async 'service-token create'(inv) {
    const name = option(inv, 'name');
    const role = option(inv, 'role');
    if (name === undefined) throw new UsageError('--name is required (what the token is for, e.g. --name terraform)');
    if (role === undefined) throw new UsageError('--role is required: admin, developer or viewer');
    const workspaces = optionList(inv, 'workspace');
    const expiresText = option(inv, 'expires-in');
    const expiresInMs = expiresText === undefined ? undefined : duration(expiresText, '--expires-in', false);
    return withHerald(async (h) => {
      const created = await (
        await adminDeps(h)
      ).serviceTokens.create(
        { name, role, workspaces: workspaces.length > 0 ? workspaces : '*', expiresInMs },
        { kind: 'cli' },
        cliActor(),
      );
      const scope = created.workspace_ids === '*' ? 'every workspace' : `${created.workspace_ids.length} workspace(s)`;
      return {
        json: created,
        text:
          `Service token "${created.name}" (${created.id}), role ${created.role}, ${scope}` +
          `${created.expires_at ? `, expires ${formatTime(created.expires_at)}` : ''}:\n\n  ${created.token}\n\n` +
          `Send it as Authorization: ServiceToken <token>. ${ONCE_WARNING}`,
      };
    });
  },

  async 'service-token list'() {
    return withHerald(async (h) => {
      const tokens = await (await adminDeps(h)).serviceTokens.list();
      const slugs = new Map((await h.workspaces.list()).map((w) => [w.id, w.slug]));
      const text = table(
        tokens.map((t) => ({
          id: t.id,
          name: t.name,
          prefix: `${t.display_prefix}…`,
          role: t.role,
          workspaces: t.workspace_ids === '*' ? '*' : t.workspace_ids.map((id) => slugs.get(id) ?? id).join(' '),
          status: t.status,
          'last used': formatTime(t.last_used_at),
          expires: formatTime(t.expires_at),
        })),
        ['id', 'name', 'prefix', 'role', 'workspaces', 'status', 'last used', 'expires'],
      );
      return { json: tokens, text };
    });
  },

  async 'service-token revoke'(inv) {
    const id = arg(inv, 0, 'id');
    return withHerald(async (h) => {
      const token = await (await adminDeps(h)).serviceTokens.revoke(id, { kind: 'cli' }, cliActor());
      return { json: token, text: `Revoked service token ${token.id} ("${token.name}"); it is refused from the next request on.` };
    });
  },
};
