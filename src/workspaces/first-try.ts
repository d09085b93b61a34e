import type { Config } from '../config.js';
import { CategoryService } from '../preferences/categories.service.js';
import type { Herald } from '../runtime.js';
import { WorkflowService } from '../workflows/workflows.service.js';

/**
 * What the first start of an embedded (SQLite) installation sets up in `staging`, so that a
 * notification can be sent and watched arrive without writing a file: an inbox-only workflow, the
 * category it names, and a public key for the demo inbox page. Nothing here is secret: the public
 * key ships in browser code by design, and staging needs no user token (enhanced security is off).
 */

const DEFAULT_PORT = 8787;

export const FIRST_TRY = {
  workspace: 'staging',
  workflow: 'welcome',
  category: 'transactional',
  user: 'demo-user',
  publicKeyName: 'demo inbox',
} as const;

export async function prepareFirstTry(herald: Herald): Promise<void> {
  const staging = await herald.workspaces.get(FIRST_TRY.workspace);
  await new CategoryService(herald).apply(staging.id, [
    { slug: FIRST_TRY.category, name: 'Transactional', description: 'Messages about things the user did', default_preference: 'opt_in' },
  ]);
  await new WorkflowService(herald).apply(staging.id, [
    {
      slug: FIRST_TRY.workflow,
      name: 'Welcome',
      category: FIRST_TRY.category,
      steps: [
        {
          type: 'inbox',
          template: {
            header: 'Welcome to Herald',
            text: '{{#if data.message}}{{data.message}}{{else}}Your first notification, delivered live.{{/if}}',
          },
        },
      ],
    },
  ]);
  await herald.publicKeys.create(staging, { name: FIRST_TRY.publicKeyName });
}

/** Where a person can try it now: the demo inbox and the command that sends to it (null once the demo key is gone). */
export async function firstTryLines(herald: Herald, config: Config, address: string): Promise<string[] | null> {
  const staging = await herald.workspaces.get(FIRST_TRY.workspace).catch(() => undefined);
  if (!staging) return null;
  const demoKey = (await herald.publicKeys.list(staging.id)).find((k) => k.name === FIRST_TRY.publicKeyName && k.status === 'active');
  const workflow = await new WorkflowService(herald).find(staging.id, FIRST_TRY.workflow);
  if (!demoKey || !workflow) return null;
  const base = browsableAddress(config, address);
  const data = JSON.stringify({ message: 'Hello from Herald' });
  return [
    `Dashboard: ${base}/dashboard/`,
    `Try it: open ${base}/demo/inbox#public_key=${demoKey.key}&distinct_id=${FIRST_TRY.user}`,
    `        then send ${FIRST_TRY.user} a notification: npm run herald -- trigger ${FIRST_TRY.workspace} ${FIRST_TRY.workflow} ` +
      `--user ${FIRST_TRY.user} --data '${data}'${config.port === DEFAULT_PORT ? '' : ` --url ${base}`}`,
  ];
}

/** The address a browser on this machine can use (a server bound to every interface answers on localhost). */
function browsableAddress(config: Config, address: string): string {
  if (config.host === '0.0.0.0' || config.host === '::') return `http://localhost:${new URL(address).port}`;
  return address;
}
