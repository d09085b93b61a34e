import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { ERROR_CODES } from '../src/lib/errors.js';
import { buildOpenApiDocument, type OpenApiDocument, type Parameter } from '../src/openapi/openapi.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** Answered for every route by Fastify (HEAD for GET) or by CORS (OPTIONS `*`): not API operations. */
const IGNORED_METHODS = new Set(['HEAD', 'OPTIONS']);

/**
 * Every (METHOD, path) the app registered, from Fastify's public printRoutes() tree, with
 * `:param` turned into `{param}`. Each line of the tree is `<indent><├── or └── ><fragment> (<METHODS>)`,
 * four characters of indent per level; a route's path is its ancestors' fragments joined. Nothing
 * in production is changed to allow this: the tree is Fastify's own view of its router.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) {
      assert.equal(line.trim(), '', `unparsed printRoutes line: ${JSON.stringify(line)}`);
      continue;
    }
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + (match[2] ?? '');
    stack.push(path);
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '')) {
      if (IGNORED_METHODS.has(method)) continue;
      // A wildcard route (the dashboard's SPA fallback) is documented as a trailing {path} parameter.
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}').replace(/\/?\*$/, '/{path}')}`);
    }
  }
  return routes.sort();
}

function documentedRoutes(doc: OpenApiDocument): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) if (item[method]) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes.sort();
}

/** Resolves a local JSON pointer (`#/components/schemas/X`), or undefined when it leads nowhere. */
function resolvePointer(doc: unknown, pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function collectRefs(node: unknown, where: string, out: Array<{ ref: string; where: string }>): void {
  if (Array.isArray(node)) node.forEach((item, i) => collectRefs(item, `${where}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push({ ref: value, where });
      else collectRefs(value, `${where}/${key}`, out);
    }
  }
}

const engine = enginesUnderTest()[0] ?? 'sqlite';

describe(`OpenAPI document (${engine})`, () => {
  let t: TestEnv;
  let h: InProcess;
  let served: OpenApiDocument;
  let response: Response;

  before(async () => {
    t = await createTestEnv(engine);
    h = await startInProcess(t);
    response = await fetch(`${h.baseUrl}/openapi.json`);
    served = (await response.json()) as OpenApiDocument;
  });

  after(async () => {
    await h?.close();
    await t?.cleanup();
  });

  test('GET /openapi.json is served without credentials, cacheable, as JSON', () => {
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(response.headers.get('cache-control') ?? '', /^public\b/);
    assert.equal(served.openapi, '3.1.0');
    assert.deepEqual(served, JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  test('the trailing-slash spelling is the same route', async () => {
    const slashed = await fetch(`${h.baseUrl}/openapi.json/`);
    assert.equal(slashed.status, 200);
    await slashed.arrayBuffer();
  });

  test('info: title, package version, relative server, trailing-slash note', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(served.info.title, 'Herald');
    assert.equal(served.info.version, pkg.version);
    assert.deepEqual(
      served.servers.map((s) => s.url),
      ['/'],
    );
    assert.match(served.info.description, /trailing slash/);
  });

  test('no drift: every registered route is documented, and every documented route is registered', () => {
    const registered = registeredRoutes(h.app);
    // The parser read the tree, not an empty or garbled one: a few routes every build has.
    for (const known of [
      'GET /healthz',
      'POST /trigger',
      'GET /v1/user/{id}',
      'PATCH /v1/feed/notifications/{id}/read',
      'POST /admin/api/login',
    ]) {
      assert.ok(registered.includes(known), `parser missed ${known}`);
    }
    const documented = documentedRoutes(served);
    const undocumented = registered.filter((route) => !documented.includes(route));
    const phantom = documented.filter((route) => !registered.includes(route));
    // One assertion for both directions, so a failure lists all the drift at once.
    assert.deepEqual(
      { undocumented, phantom },
      { undocumented: [], phantom: [] },
      `undocumented: routes missing from src/openapi/openapi.ts; phantom: documented routes the app does not serve`,
    );
    // Cross-check the parse with the router itself: each documented route is found by hasRoute.
    for (const route of documented) {
      const [method, path] = route.split(' ') as [HTTPMethods, string];
      const url = path.replace(/\/\{path\}$/, '/*').replace(/\{(\w+)\}/g, ':$1');
      assert.ok(h.app.hasRoute({ method, url }), `hasRoute(${route})`);
    }
  });

  test('paths are trailing-slash-less and use {param} syntax', () => {
    for (const path of Object.keys(served.paths)) {
      assert.ok(path === '/' || !path.endsWith('/'), `${path} ends with a slash`);
      assert.ok(!path.includes(':'), `${path} uses :param syntax`);
    }
  });

  test('every $ref resolves', () => {
    const refs: Array<{ ref: string; where: string }> = [];
    collectRefs(served, '#', refs);
    assert.ok(refs.length > 50);
    const broken = refs.filter(({ ref }) => resolvePointer(served, ref) === undefined);
    assert.deepEqual(broken, []);
  });

  test('operationIds are unique; every operation has a summary, known tags, known security schemes and responses', () => {
    const ids = new Set<string>();
    const tags = new Set(served.tags.map((tag) => tag.name));
    const schemes = new Set(Object.keys(served.components.securitySchemes));
    for (const [path, item] of Object.entries(served.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId} (${where})`);
        ids.add(op.operationId);
        assert.ok(op.summary.length > 0, where);
        assert.ok(op.tags.length > 0 && op.tags.every((tag) => tags.has(tag)), `${where} tags`);
        assert.ok(Array.isArray(op.security), `${where} declares its security`);
        for (const requirement of op.security) {
          for (const name of Object.keys(requirement)) assert.ok(schemes.has(name), `${where} names unknown scheme ${name}`);
        }
        assert.ok(
          Object.keys(op.responses).some((status) => /^[23]\d\d$/.test(status)),
          `${where} has a success response`,
        );
      }
    }
  });

  test('path parameters match the path template exactly', () => {
    const resolve = (p: Parameter): Parameter => (p.$ref ? (resolvePointer(served, p.$ref) as Parameter) : p);
    for (const [path, item] of Object.entries(served.paths)) {
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve);
        const pathParams = declared.filter((p) => p.in === 'path');
        assert.deepEqual(pathParams.map((p) => p.name).sort(), inTemplate, `${method.toUpperCase()} ${path}`);
        assert.ok(
          pathParams.every((p) => p.required === true),
          `${method.toUpperCase()} ${path}: path parameters are required`,
        );
        const names = declared.map((p) => `${p.in}:${p.name}`);
        assert.equal(new Set(names).size, names.length, `${method.toUpperCase()} ${path}: a parameter is declared twice`);
      }
    }
  });

  test('security follows the surface: backend, client, shared, admin, open', () => {
    const schemesOf = (method: (typeof METHODS)[number], path: string) =>
      (served.paths[path]?.[method]?.security ?? []).flatMap((r) => Object.keys(r)).sort();
    assert.deepEqual(schemesOf('post', '/trigger'), ['apiKey', 'hmac']);
    assert.deepEqual(schemesOf('get', '/v1/feed/notifications'), ['publicKey', 'publicKey', 'userToken']);
    assert.deepEqual(schemesOf('post', '/v2/event'), ['apiKey', 'hmac', 'publicKey', 'publicKey', 'userToken']);
    assert.deepEqual(schemesOf('get', '/admin/api/me'), ['serviceToken', 'session']);
    assert.deepEqual(schemesOf('post', '/admin/api/login'), []);
    assert.deepEqual(schemesOf('get', '/healthz'), []);
    const session = served.components.securitySchemes['session'];
    assert.equal(session?.in, 'cookie');
    assert.match(session?.description ?? '', /herald_session/);
    assert.match(session?.description ?? '', /x-csrf-token/);
    assert.equal(served.components.securitySchemes['apiKey']?.scheme, 'bearer');
    assert.equal(served.components.securitySchemes['userToken']?.name, 'x-ss-signature');
  });

  test('the error envelope lists exactly the error codes of src/lib/errors.ts', () => {
    const envelope = served.components.schemas['ErrorEnvelope'];
    assert.deepEqual(envelope?.required, ['status', 'code', 'message', 'error']);
    assert.deepEqual(served.components.schemas['ErrorType']?.enum, ERROR_CODES);
  });

  test('a documented error response matches what the server sends', async () => {
    const res = await fetch(`${h.baseUrl}/v1/user`);
    const body = (await res.json()) as { status: string; code: number; error: { type: string } };
    assert.equal(res.status, 401);
    assert.equal(body.status, 'error');
    assert.equal(body.code, 401);
    assert.ok((ERROR_CODES as string[]).includes(body.error.type));
    assert.ok(served.paths['/v1/user']?.get?.responses['401']);
  });
});
