import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';

/**
 * `/demo/inbox`: a small page that runs the unmodified `@suprsend/web-sdk` in the browser against
 * this Herald (feed, counts, realtime). The SDK ships only ES modules with bare imports, so the
 * page maps those imports to files served from the installed packages (no bundler step).
 * Settings come from the URL fragment, which browsers never send to the server: a user token put
 * there does not end up in any request log.
 */

const require = createRequire(import.meta.url);

/** The folder of an installed package (not every package exports its package.json, so walk up from its entry). */
function packageDir(name: string, from?: string): string {
  let dir = path.dirname(require.resolve(name, from ? { paths: [from] } : undefined));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = parent;
  }
}

/** The ES module files the page needs, by the name it imports them with. */
function vendorFiles(): Map<string, string> {
  const sdkDir = packageDir('@suprsend/web-sdk');
  return new Map([
    ['web-sdk.js', path.join(sdkDir, 'dist/es/index.js')],
    ['mitt.js', path.join(packageDir('mitt', sdkDir), 'dist/mitt.mjs')],
    ['jwt-decode.js', path.join(packageDir('jwt-decode', sdkDir), 'build/jwt-decode.esm.js')],
    ['socket.io-client.js', path.join(packageDir('socket.io-client', sdkDir), 'dist/socket.io.esm.min.js')],
    ['zustand-vanilla.js', path.join(packageDir('zustand', sdkDir), 'esm/vanilla.mjs')],
  ]);
}

const IMPORT_MAP = {
  imports: {
    '@suprsend/web-sdk': '/demo/vendor/web-sdk.js',
    mitt: '/demo/vendor/mitt.js',
    'jwt-decode': '/demo/vendor/jwt-decode.js',
    'socket.io-client': '/demo/vendor/socket.io-client.js',
    'zustand/vanilla': '/demo/vendor/zustand-vanilla.js',
  },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald inbox demo</title>
<script type="importmap">${JSON.stringify(IMPORT_MAP)}</script>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 14px 24px; display: flex; align-items: center; gap: 16px; }
  header h1 { font-size: 17px; margin: 0; flex: 1; }
  #badge { background: #e5484d; border-radius: 999px; padding: 2px 9px; font-weight: 600; min-width: 10px; text-align: center; }
  main { max-width: 640px; margin: 24px auto; padding: 0 16px; }
  form[hidden] { display: none; }
  form { display: grid; gap: 8px; background: #fff; padding: 16px; border-radius: 10px; box-shadow: 0 1px 3px #0002; }
  label { display: grid; gap: 4px; font-size: 13px; color: #555; }
  input { font: inherit; padding: 7px 9px; border: 1px solid #ccd; border-radius: 6px; }
  button { font: inherit; padding: 7px 14px; border: 0; border-radius: 6px; background: #3e63dd; color: #fff; cursor: pointer; }
  #status { color: #666; font-size: 13px; margin: 12px 0; }
  ul { list-style: none; padding: 0; margin: 0; display: grid; gap: 10px; }
  li { background: #fff; border-radius: 10px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; border-left: 4px solid #3e63dd; }
  li.read { border-left-color: transparent; opacity: .75; }
  li h2 { font-size: 15px; margin: 0 0 4px; }
  li p { margin: 0; }
  li small { color: #888; }
</style>
</head>
<body>
<header><h1>Herald inbox demo</h1><span>Unread <span id="badge">0</span></span><button id="mark-all" type="button">Mark all read</button></header>
<main>
  <form id="settings" hidden>
    <label>Public key <input name="public_key" required></label>
    <label>User (distinct_id) <input name="distinct_id" required></label>
    <label>User token (x-ss-signature; needed in enhanced security mode) <input name="token"></label>
    <label>Tenant <input name="tenant_id" placeholder="default"></label>
    <button type="submit">Open inbox</button>
  </form>
  <div id="status">Loading…</div>
  <ul id="notifications"></ul>
</main>
<script type="module" src="/demo/inbox.js"></script>
</body>
</html>`;

const SCRIPT = `import { SuprSend } from '@suprsend/web-sdk';

const settings = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
const status = document.getElementById('status');
const list = document.getElementById('notifications');
const badge = document.getElementById('badge');
const form = document.getElementById('settings');

if (!settings.public_key || !settings.distinct_id) {
  status.textContent = 'Enter a public key and a user to open their inbox.';
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = new URLSearchParams(new FormData(form)).toString();
    location.reload();
  });
} else {
  start().catch((error) => { status.textContent = 'Error: ' + error.message; });
}

function render(data) {
  badge.textContent = String(data.meta?.badge ?? 0);
  list.replaceChildren(...data.notifications.map((n) => {
    const item = document.createElement('li');
    item.className = n.read_on ? 'read' : 'unread';
    item.dataset.id = n.n_id;
    const title = document.createElement('h2');
    title.textContent = n.message.header || n.n_category;
    const text = document.createElement('p');
    text.textContent = n.message.text;
    const when = document.createElement('small');
    when.textContent = new Date(n.created_on).toLocaleString();
    item.append(title, text, when);
    item.addEventListener('click', () => feed.markAsRead(n.n_id));
    return item;
  }));
  status.textContent = data.notifications.length ? data.notifications.length + ' notification(s), live' : 'No notifications yet (live)';
}

let feed;
async function start() {
  const client = new SuprSend(settings.public_key, { host: location.origin });
  const identified = await client.identify(settings.distinct_id, settings.token || undefined);
  if (identified.status === 'error') throw new Error(identified.error?.message || 'identify failed');
  feed = client.feeds.initialize({
    tenantId: settings.tenant_id || 'default',
    host: { apiHost: location.origin, socketHost: location.origin },
  });
  feed.emitter.on('feed.store_update', render);
  feed.initializeSocketConnection();
  const fetched = await feed.fetch();
  if (fetched?.status === 'error') throw new Error(fetched.error?.message || 'fetch failed');
  render(feed.data);
  // Tests (and people) wait for this: the first page has arrived, not just the loading state.
  document.body.dataset.ready = 'true';
  document.getElementById('mark-all').addEventListener('click', () => feed.markAllAsRead());
}
`;

export function registerDemoRoutes(app: FastifyInstance): void {
  const files = vendorFiles();
  const cache = new Map<string, string>();
  app.get('/demo/inbox', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));
  app.get('/demo/inbox.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(SCRIPT));
  app.get<{ Params: { file: string } }>('/demo/vendor/:file', async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) throw new AppError('NOT_FOUND', `no demo file ${request.params.file}`);
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(file, 'utf8');
      cache.set(file, body);
    }
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body);
  });
}
