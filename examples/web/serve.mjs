// Serves inbox.html on http://localhost:8788 and prints the URL to open, with the settings the page
// reads from its URL fragment. The page is on another origin than Herald, as your site would be.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { URLSearchParams } from 'node:url';

const { HERALD_URL = 'http://localhost:8787', HERALD_PUBLIC_KEY, HERALD_USER_TOKEN, HOST = 'localhost', PORT = '8788' } = process.env;
if (!HERALD_PUBLIC_KEY) {
  console.error('Set HERALD_PUBLIC_KEY (npm run herald -- public-key create staging)');
  process.exit(2);
}
const herald = HERALD_URL.replace(/\/+$/, '');
const page = readFileSync(new URL('./inbox.html', import.meta.url));

const server = http.createServer((request, response) => {
  if (request.url === '/' || request.url === '/inbox.html') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    return;
  }
  // The SDK's module files, passed through from the copy Herald serves for its demo inbox.
  const vendor = /^\/vendor\/([\w.-]+\.js)$/.exec(request.url ?? '');
  if (!vendor) {
    response.writeHead(404).end('not found');
    return;
  }
  const client = herald.startsWith('https:') ? https : http;
  client
    .get(`${herald}/demo/vendor/${vendor[1]}`, (upstream) => {
      response.writeHead(upstream.statusCode ?? 502, { 'content-type': 'text/javascript; charset=utf-8' });
      upstream.pipe(response);
    })
    .on('error', (error) => response.writeHead(502).end(`cannot reach Herald at ${herald}: ${error.message}`));
});

server.listen(Number(PORT), HOST, () => {
  const settings = new URLSearchParams({ host: herald, public_key: HERALD_PUBLIC_KEY, distinct_id: 'demo-user' });
  if (HERALD_USER_TOKEN) settings.set('token', HERALD_USER_TOKEN);
  console.log(`Open http://${HOST}:${server.address().port}/#${settings}`);
});
