import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { AuditEntry as AdminAuditEntry, AuditSink as AdminAuditSink } from '../src/admin/audit-sink.js';
import type { AuditEntryView } from '../src/audit/audit.service.js';
import type { AuditActor, AuditEntry } from '../src/audit/audit.types.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

// The audit service is what the admin identity layer records through: the shapes must stay one.
const _sameEntry: [(e: AuditEntry) => AdminAuditEntry, (e: AdminAuditEntry) => AuditEntry] = [(e) => e, (e) => e];
void _sameEntry;

const ACTOR: AuditActor = { type: 'account', id: 'adm_test', label: 'owner@example.com', ip: '203.0.113.7' };

function publicPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Runs the CLI from source (no build), as `herald <args> --json`. */
function cli(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args, '--json'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`herald ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

function actions(entries: AuditEntryView[]): string[] {
  return entries.map((e) => e.action);
}

for (const engine of enginesUnderTest()) {
  describe(`audit log on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    /** Every secret handed out in these tests; none may appear in the audit table. */
    const secrets: string[] = [];

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      secrets.push(h.staging.secret);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('the first start records the default workspaces as created by the system', async () => {
      for (const slug of ['staging', 'production']) {
        const workspace = await h.herald.workspaces.get(slug);
        const { entries } = await h.herald.audit.list(workspace.id);
        const created = entries.find((e) => e.action === 'workspace.created');
        assert.ok(created, `${slug}: no workspace.created entry`);
        assert.deepEqual(created.actor, { type: 'system', id: null, label: 'system' });
        assert.deepEqual(created.target, { type: 'workspace', id: workspace.id });
        assert.equal(created.details['slug'], slug);
      }
    });

    test('credential services record who did what to which credential', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const since = (await h.herald.audit.list(staging.id, { limit: 1 })).entries[0]?.id ?? 0;

      const apiKey = await h.herald.apiKeys.create(staging, { name: 'billing' }, ACTOR);
      secrets.push(apiKey.key);
      await h.herald.apiKeys.revoke(staging, apiKey.id, ACTOR);
      await h.herald.apiKeys.revoke(staging, apiKey.id, ACTOR); // already revoked: nothing happens, nothing recorded
      const publicKey = await h.herald.publicKeys.create(staging, { name: 'web' }, ACTOR);
      await h.herald.publicKeys.revoke(staging, publicKey.id, ACTOR);
      const signing = await h.herald.signingKeys.create(staging, { name: 'tokens' }, ACTOR);
      secrets.push(signing.pem, signing.base64);
      const pem = publicPem();
      const imported = await h.herald.signingKeys.import(staging, { publicKeyPem: pem, name: 'theirs' }, ACTOR);
      // A change that fails records nothing: the entry is written in the change's transaction.
      await assert.rejects(h.herald.signingKeys.import(staging, { publicKeyPem: pem }, ACTOR), /already registered/);
      await h.herald.signingKeys.revoke(staging, signing.kid, ACTOR);
      const rotated = await h.herald.workspaceSecrets.rotate(staging, 0, ACTOR);
      secrets.push(rotated.workspace_secret);
      const revealed = await h.herald.workspaceSecrets.revealTo(staging.id, ACTOR);
      assert.equal(revealed, rotated.workspace_secret);
      await h.herald.workspaces.setEnhancedSecurity('staging', true, ACTOR);
      await h.herald.workspaces.setEnhancedSecurity('staging', false, ACTOR);

      const { entries } = await h.herald.audit.list(staging.id, { limit: 200 });
      const mine = entries.filter((e) => e.id > since).reverse();
      assert.deepEqual(actions(mine), [
        'api_key.created',
        'api_key.revoked',
        'public_key.created',
        'public_key.revoked',
        'signing_key.created',
        'signing_key.imported',
        'signing_key.revoked',
        'workspace_secret.rotated',
        'workspace_secret.revealed',
        'enhanced_security.enabled',
        'enhanced_security.disabled',
      ]);
      for (const e of mine) {
        assert.deepEqual(e.actor, { type: 'account', id: 'adm_test', label: 'owner@example.com' });
        assert.equal(e.ip, '203.0.113.7');
        assert.equal(e.workspace_id, staging.id);
        assert.equal(e.time, h.clock.now());
      }
      assert.deepEqual(mine[0]?.target, { type: 'api_key', id: apiKey.id });
      assert.deepEqual(mine[0]?.details, {
        name: 'billing',
        display_prefix: apiKey.display_prefix,
        expires_at: null,
        scope: 'full',
        route_groups: null,
      });
      assert.deepEqual(mine[2]?.target, { type: 'public_key', id: publicKey.id });
      assert.deepEqual(mine[5]?.target, { type: 'signing_key', id: imported.kid });
      assert.deepEqual(mine[6]?.target, { type: 'signing_key', id: signing.kid });
      assert.equal(mine[7]?.details['grace_ms'], 0);

      const created = await h.herald.workspaces.create({ slug: 'audited' }, ACTOR);
      const createdEntries = (await h.herald.audit.list(created.id)).entries;
      assert.deepEqual(actions(createdEntries), ['workspace.created']);
      assert.equal(createdEntries[0]?.actor.label, 'owner@example.com');

      // Callers that name no actor are recorded as the system, not skipped.
      const unattributed = await h.herald.apiKeys.create(staging, { name: 'in-process' });
      secrets.push(unattributed.key);
      const latest = (await h.herald.audit.list(staging.id, { limit: 1 })).entries[0];
      assert.equal(latest?.action, 'api_key.created');
      assert.equal(latest?.actor.type, 'system');
      assert.equal(latest?.target?.id, unattributed.id);
    });

    test('account-level entries, pages, and details that are never secrets', async () => {
      const apiKey = await h.herald.apiKeys.create(await h.herald.workspaces.get('staging'), { name: 'leaky' });
      secrets.push(apiKey.key);
      const entry: AuditEntry = {
        workspaceId: null,
        actorType: 'anonymous',
        actorId: null,
        actorLabel: 'someone@example.com',
        action: 'login.failed',
        ip: '198.51.100.1',
        details: { reason: 'wrong password', password: 'hunter2-hunter2', nested: { token: 'abc', note: `pasted ${apiKey.key}` } },
      };
      const sink: AdminAuditSink = h.herald.audit;
      await sink.record(entry);
      for (let i = 0; i < 4; i++) await h.herald.audit.record({ ...entry, action: 'logout', details: { i } });

      const first = await h.herald.audit.list(null, { limit: 3 });
      assert.deepEqual(actions(first.entries), ['logout', 'logout', 'logout']);
      assert.ok(first.next);
      const second = await h.herald.audit.list(null, { limit: 3, before: first.next });
      assert.deepEqual(actions(second.entries), ['logout', 'login.failed']);
      assert.equal(second.next, null);
      assert.ok(first.entries.concat(second.entries).every((e) => e.workspace_id === null));

      const failed = second.entries[1];
      assert.equal(failed?.actor.label, 'someone@example.com');
      assert.equal(failed?.details['reason'], 'wrong password');
      assert.equal(failed?.details['password'], '[redacted]');
      assert.deepEqual(failed?.details['nested'], { token: '[redacted]', note: `pasted ${apiKey.key.slice(0, 13)}…` });
    });

    test('the CLI records its credential commands as cli:<os user>', async () => {
      const run = (...args: string[]) => cli(args, t.env);
      const workspace = await run('workspace', 'create', 'cli-audit');
      const revealed = await run('workspace', 'secret', 'cli-audit');
      const rotated = await run('workspace', 'rotate-secret', 'cli-audit', '--grace', '0');
      secrets.push(revealed['workspace_secret'] as string, rotated['workspace_secret'] as string);
      const apiKey = await run('api-key', 'create', 'cli-audit', '--name', 'deploy');
      secrets.push(apiKey['key'] as string);
      await run('api-key', 'revoke', 'cli-audit', apiKey['id'] as string);
      const publicKey = await run('public-key', 'create', 'cli-audit');
      await run('public-key', 'revoke', 'cli-audit', publicKey['id'] as string);
      const signing = await run('signing-key', 'create', 'cli-audit');
      secrets.push(signing['pem'] as string, signing['base64'] as string);
      const pemFile = path.join(t.dataDir, 'their-key.pem');
      writeFileSync(pemFile, publicPem());
      const imported = await run('signing-key', 'import', 'cli-audit', pemFile);
      await run('signing-key', 'revoke', 'cli-audit', signing['kid'] as string);
      await run('enhanced-security', 'cli-audit', 'on');
      await run('enhanced-security', 'cli-audit', 'off');
      // Reading lists and showing state are not credential events.
      await run('api-key', 'list', 'cli-audit');
      await run('enhanced-security', 'cli-audit');

      const { entries } = await h.herald.audit.list(workspace['id'] as string, { limit: 200 });
      assert.deepEqual(actions(entries).reverse(), [
        'workspace.created',
        'workspace_secret.revealed',
        'workspace_secret.rotated',
        'api_key.created',
        'api_key.revoked',
        'public_key.created',
        'public_key.revoked',
        'signing_key.created',
        'signing_key.imported',
        'signing_key.revoked',
        'enhanced_security.enabled',
        'enhanced_security.disabled',
      ]);
      const label = `cli:${userInfo().username}`;
      for (const e of entries) {
        assert.deepEqual(e.actor, { type: 'cli', id: null, label });
        assert.equal(e.ip, null);
      }
      assert.ok(entries.some((e) => e.action === 'api_key.revoked' && e.target?.id === apiKey['id']));
      assert.ok(entries.some((e) => e.action === 'signing_key.imported' && e.target?.id === imported['kid']));
    });

    test('no secret appears anywhere in the audit table', async () => {
      const table = JSON.stringify(await h.herald.db.selectFrom('audit_log').selectAll().execute());
      assert.ok(secrets.length >= 10);
      for (const secret of secrets) {
        assert.ok(secret.length > 20);
        assert.ok(!table.includes(secret), `a secret (${secret.slice(0, 8)}…) was recorded`);
        assert.ok(!table.includes(JSON.stringify(secret).slice(1, -1)), 'not even JSON-escaped');
      }
      assert.ok(!table.includes('PRIVATE KEY'));
      assert.ok(!table.includes('LS0tLS1CRUdJTi'));
      assert.ok(!table.includes('hunter2'));
    });

    test('append-only: no code path updates or deletes audit rows, and the database refuses to', async () => {
      const auditDir = path.join(ROOT, 'src/audit');
      for (const file of readdirSync(auditDir)) {
        const text = readFileSync(path.join(auditDir, file), 'utf8');
        assert.ok(
          !/updateTable|deleteFrom|replaceInto|mergeInto|onConflict|\b(update|delete\s+from|truncate(\s+table)?)\s+"?audit_log/i.test(text),
          `src/audit/${file}`,
        );
      }
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
          d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
        );
      for (const file of walk(path.join(ROOT, 'src'))) {
        const text = readFileSync(file, 'utf8');
        if (file.endsWith(path.join('migrations', '0005-logs.ts'))) continue; // creates the table and its guards
        assert.ok(
          !/(updateTable|deleteFrom)\(\s*['"]audit_log['"]|(update|delete\s+from|truncate(\s+table)?)\s+"?audit_log/i.test(text),
          `${path.relative(ROOT, file)} writes to audit_log other than by insert`,
        );
      }

      const before = await h.herald.db.selectFrom('audit_log').selectAll().execute();
      assert.ok(before.length > 0);
      await assert.rejects(h.herald.db.updateTable('audit_log').set({ action: 'rewritten' }).execute(), /append-only/);
      await assert.rejects(h.herald.db.deleteFrom('audit_log').execute(), /append-only/);
      await assert.rejects(sql`delete from audit_log where id = ${before[0]?.id ?? 0}`.execute(h.herald.db), /append-only/);
      assert.deepEqual(await h.herald.db.selectFrom('audit_log').selectAll().execute(), before);
    });
  });
}
