import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { MasterKeyError } from '../credentials/encryption.js';
import { MigrationError } from '../db/migrate.js';
import { DataDirLockedError } from '../db/data-dir-lock.js';
import { AppError, StartupError } from '../lib/errors.js';
import { COMMANDS, type Invocation } from './commands.js';
import { UsageError } from './output.js';

const USAGE = `Usage: herald <command> [options]   (every command takes --json)

Server and database
  serve                                     start the HTTP server (same as npm start)
  migrate                                   apply pending database migrations
  master-key generate                       print a fresh master key for HERALD_MASTER_KEY

Workspaces
  workspace list
  workspace create <slug> [--name N] [--mode test|live]
  workspace secret <ws>                     print the workspace key and secret
  workspace rotate-secret <ws> [--grace 24h]
  enhanced-security <ws> [on|off]
  signed-clients <ws> [on|off]              allow key+secret signed client SDKs (web-sdk 1.x, Android 1.x) in enhanced security

Credentials
  webhook-secret roll <ws> [--grace 24h]    a new webhook signing secret, printed once
  webhook-secret status <ws>
  api-key create <ws> --name N [--expires-in 30d] [--scope full|trigger|read] [--groups users,lists,…]
  api-key list <ws>
  api-key revoke <ws> <id>
  public-key create <ws> [--name N] [--allowed-origin https://app.example.com ...]
  public-key list <ws>
  public-key revoke <ws> <id>
  signing-key create <ws> [--name N]        prints the private key (PEM and Base64) once
  signing-key list <ws>
  signing-key revoke <ws> <kid>
  signing-key import <ws> <public.pem> [--name N]

Workflows
  workflow apply <ws> <file.json>           create or replace workflows by slug (file: one workflow or a list)
  workflow list <ws>
  workflow get <ws> <slug>
  workflow delete <ws> <slug>
  trigger <ws> <workflow> --user <id> [--data JSON] [--tenant T] [--url http://host:port]
                                            send a notification through the running server

Notification categories
  category apply <ws> <file.json>           create or replace categories by slug (file: one category or a list)
  category list <ws>

User tokens
  token sign --key <PEM | Base64 | @file> --user <distinct_id> [--tenant T ...] [--ttl 1h]

Dashboard accounts and admin API service tokens
  admin create --email E --role owner|admin|developer|viewer [--password-stdin]
                                            the password comes from stdin, or a prompt on a terminal
  admin list
  admin set-role <email|id> <role>
  admin disable <email|id>
  admin enable <email|id>
  admin set-password <email|id> [--password-stdin]   also signs the account out everywhere
  service-token create --name N --role admin|developer|viewer [--workspace <ws> ...] [--expires-in 90d]
  service-token list
  service-token revoke <id>

<ws> is a workspace slug (staging, production, ...). Configuration comes from the environment
(HERALD_DATA_DIR, DATABASE_URL, HERALD_MASTER_KEY, ...): see README.`;

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  name: { type: 'string' },
  mode: { type: 'string' },
  grace: { type: 'string' },
  'expires-in': { type: 'string' },
  scope: { type: 'string' },
  data: { type: 'string' },
  url: { type: 'string' },
  groups: { type: 'string' },
  'allowed-origin': { type: 'string', multiple: true },
  key: { type: 'string' },
  user: { type: 'string' },
  tenant: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  email: { type: 'string' },
  role: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  workspace: { type: 'string', multiple: true },
} as const;

const COMMON = ['json', 'help', 'version'];
const ALLOWED_OPTIONS: Record<string, string[]> = {
  'workspace create': ['name', 'mode'],
  'workspace rotate-secret': ['grace'],
  'webhook-secret roll': ['grace'],
  trigger: ['user', 'data', 'tenant', 'url'],
  'api-key create': ['name', 'expires-in', 'scope', 'groups'],
  'public-key create': ['name', 'allowed-origin'],
  'signing-key create': ['name'],
  'signing-key import': ['name'],
  'token sign': ['key', 'user', 'tenant', 'ttl'],
  'admin create': ['email', 'role', 'password-stdin'],
  'admin set-password': ['password-stdin'],
  'service-token create': ['name', 'role', 'workspace', 'expires-in'],
};

/** The usage lines of one command (or of a command group: `herald api-key --help`). */
function commandHelp(name: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  lines.forEach((line, index) => {
    if (!line.trimStart().startsWith(`${name} `) && line.trim() !== name) return;
    picked.push(line);
    // Continuation lines (indented past the command column) belong to it.
    for (let next = index + 1; next < lines.length && /^ {20,}\S/.test(lines[next] as string); next++) picked.push(lines[next] as string);
  });
  return `Usage: herald <command> [options]   (every command takes --json)\n\n${picked.join('\n')}\n\n${USAGE.split('\n\n').at(-1)}`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function resolveCommand(positionals: string[]): { name: string; rest: string[] } | null {
  const [first, second] = positionals;
  if (first !== undefined && second !== undefined && COMMANDS[`${first} ${second}`])
    return { name: `${first} ${second}`, rest: positionals.slice(2) };
  if (first !== undefined && COMMANDS[first]) return { name: first, rest: positionals.slice(1) };
  return null;
}

function emitError(isJson: boolean, code: string, message: string): void {
  if (isJson) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`herald: ${message}\n`);
}

/**
 * `--key "$(cat key.pem)"` passes a value starting with `-----BEGIN`, which parseArgs would
 * take for an option; bind such a value to its flag explicitly.
 */
function joinPemValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const current = argv[i] as string;
    const next = argv[i + 1];
    if (current.startsWith('--') && !current.includes('=') && next?.startsWith('-----BEGIN')) {
      out.push(`${current}=${next}`);
      i++;
    } else {
      out.push(current);
    }
  }
  return out;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function runCli(rawArgv: string[]): Promise<number> {
  const argv = joinPemValues(rawArgv);
  const isJson = argv.includes('--json');
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    emitError(isJson, 'USAGE', `${(error as Error).message}\n\n${isJson ? '' : USAGE}`.trim());
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(isJson ? `${JSON.stringify({ version: version() })}\n` : `${version()}\n`);
    return 0;
  }
  const command = resolveCommand(positionals);
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    const group = positionals[0] !== undefined && Object.keys(COMMANDS).some((name) => name.startsWith(`${positionals[0]} `));
    const topic = command?.name ?? (group ? positionals[0] : undefined);
    process.stdout.write(`${topic === undefined ? USAGE : commandHelp(topic)}\n`);
    return 0;
  }
  if (!command) {
    emitError(isJson, 'USAGE', `unknown command "${positionals.slice(0, 2).join(' ')}"\n\n${isJson ? '' : USAGE}`.trim());
    return 2;
  }
  const allowed = new Set([...COMMON, ...(ALLOWED_OPTIONS[command.name] ?? [])]);
  const stray = Object.keys(values).filter((key) => !allowed.has(key));
  if (stray.length > 0) {
    emitError(isJson, 'USAGE', `"${command.name}" does not take ${stray.map((s) => `--${s}`).join(', ')}`);
    return 2;
  }

  const invocation: Invocation = { positionals: command.rest, options: values, isJson };
  try {
    const result = await COMMANDS[command.name]?.(invocation);
    if (result) process.stdout.write(isJson ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      emitError(isJson, 'USAGE', error.isHelpful ? `${error.message} (herald ${command.name} --help)` : error.message);
      return 2;
    }
    if (error instanceof AppError) {
      emitError(isJson, error.code, error.message);
      return 1;
    }
    if (error instanceof DataDirLockedError || error instanceof StartupError) {
      emitError(isJson, 'SERVE', error.message);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof MasterKeyError || error instanceof MigrationError) {
      emitError(
        isJson,
        error.name === 'ConfigError' ? 'CONFIG' : error.name === 'MasterKeyError' ? 'MASTER_KEY' : 'MIGRATION',
        error.message,
      );
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01') {
      emitError(isJson, 'DATABASE', `cannot reach the database: ${(error as Error).message}`);
      return 1;
    }
    emitError(isJson, 'INTERNAL', `unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
