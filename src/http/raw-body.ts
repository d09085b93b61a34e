import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import { textProblem } from '../lib/text.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes exactly as received: HMAC signatures are computed over them. */
    rawBody?: Buffer;
  }
}

/** Deeper than any payload the SDKs send; far below where JSON.stringify or SQLite's JSON functions give up. */
export const MAX_JSON_DEPTH = 64;

/**
 * Why a parsed body cannot be stored and read back as it came, or undefined: nesting past
 * MAX_JSON_DEPTH, or a string (value or key) that is not clean text (src/lib/text.ts).
 */
function jsonProblem(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem === undefined ? undefined : `the string at ${path} ${problem}`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels at ${path}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = textProblem(key);
    if (keyProblem !== undefined) return `a key in ${path} ${keyProblem}`;
    const problem = jsonProblem(item, `${path}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Body parsing that keeps the raw bytes of every body, whatever its content type: HMAC signatures
 * cover them, and a body the server did not keep would be checked as an empty one. JSON is parsed;
 * any other type reaches the route as its bytes (which no route takes as a valid payload). An
 * empty body is accepted as "no body": the SDKs send `Content-Type: application/json` on bodiless
 * DELETE requests too.
 */
export function registerRawJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, body.length === 0 ? undefined : body);
  });
  app.addContentTypeParser(/^application\/(.+\+)?json(;.*)?$/i, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      done(new AppError('BAD_REQUEST', 'request body is not valid JSON'), undefined);
      return;
    }
    const problem = jsonProblem(value, '$', 0);
    if (problem !== undefined) {
      done(new AppError('VALIDATION_FAILED', `request body: ${problem}`), undefined);
      return;
    }
    done(null, value);
  });
}

/** Why a path parameter or query value (or its name) cannot be used, or undefined. */
function fieldsProblem(fields: unknown, what: string): string | undefined {
  if (typeof fields !== 'object' || fields === null) return undefined;
  for (const [name, value] of Object.entries(fields)) {
    const nameProblem = textProblem(name);
    if (nameProblem !== undefined) return `a ${what} name ${nameProblem}`;
    for (const item of [value].flat()) {
      const problem = typeof item === 'string' ? textProblem(item) : undefined;
      if (problem !== undefined) return `${what} ${JSON.stringify(name.slice(0, 64))} ${problem}`;
    }
  }
  return undefined;
}

/**
 * Path parameters and query values are client text as much as bodies are: one holding U+0000
 * reached PostgreSQL (which refuses it) and came back as a 500. Refused for every route, as the
 * body parser above refuses such bodies. preValidation runs after the route groups' onRequest
 * hooks, so the request log still learns which credential came with the request.
 */
export function registerInputTextCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const problem = fieldsProblem(request.params, 'path parameter') ?? fieldsProblem(request.query, 'query parameter');
    if (problem !== undefined) throw new AppError('VALIDATION_FAILED', problem);
  });
}
