import type { FastifyInstance, FastifyRequest } from 'fastify';
import { looksLikePublicKey } from '../credentials/key-format.js';
import { AppError } from '../lib/errors.js';
import { verifyApiKey } from './api-key.js';
import type { CredentialCache } from './credential-cache.js';
import { verifyHmacRequest } from './hmac.js';
import type { AuthOutcome, CredentialKind, Principal } from './principal.js';
import { verifyPublicKeyRequest } from './public-key.js';
import type { UserTokenVerifier } from './user-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthDeps {
  cache: CredentialCache;
  tokens: UserTokenVerifier;
  now: () => number;
  hmacMaxSkewMs: number;
  noteApiKeyUse: (id: string, at: number) => void;
}

const BEARER_RE = /^Bearer\s+(\S+)\s*$/i;

/** Tells the scheme from the header's shape: `Bearer <key>`, `<workspace_key>:<sig>`, or a bare public key. */
export function classifyAuthorization(header: string): CredentialKind {
  if (/^Bearer\s/i.test(header)) return 'api_key';
  if (looksLikePublicKey(header.trim()) || !header.includes(':')) return 'public_key';
  return 'hmac';
}

const KIND_NAMES: Record<CredentialKind, string> = {
  hmac: 'workspace key + secret signatures',
  api_key: 'API keys',
  public_key: 'public keys',
};

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function authenticate(request: FastifyRequest, accepts: readonly CredentialKind[], deps: AuthDeps): Promise<AuthOutcome> {
  const authorization = header(request, 'authorization');
  if (!authorization) {
    return { ok: false, code: 'UNAUTHENTICATED', message: 'missing Authorization header', reason: 'no credential' };
  }
  const kind = classifyAuthorization(authorization);
  if (!accepts.includes(kind)) {
    const accepted = accepts.map((k) => KIND_NAMES[k]).join(' or ');
    return {
      ok: false,
      code: 'UNAUTHENTICATED',
      message: `this route accepts ${accepted}`,
      reason: `${kind} credential on a route that accepts ${accepts.join(', ')}`,
    };
  }
  switch (kind) {
    case 'api_key': {
      const match = BEARER_RE.exec(authorization);
      if (!match?.[1])
        return { ok: false, code: 'UNAUTHENTICATED', message: 'Authorization must be Bearer <API key>', reason: 'empty bearer token' };
      return verifyApiKey(match[1], { cache: deps.cache, now: deps.now, noteUse: deps.noteApiKeyUse });
    }
    case 'hmac':
      return verifyHmacRequest(
        authorization,
        {
          method: request.method,
          rawBody: request.rawBody,
          contentType: header(request, 'content-type') ?? '',
          date: header(request, 'date') ?? '',
          requestTarget: request.raw.url ?? request.url,
        },
        { cache: deps.cache, now: deps.now, maxSkewMs: deps.hmacMaxSkewMs },
      );
    case 'public_key':
      return verifyPublicKeyRequest(authorization.trim(), header(request, 'x-ss-signature'), header(request, 'origin'), {
        cache: deps.cache,
        tokens: deps.tokens,
      });
  }
}

/**
 * Registers a group of routes that all accept the same fixed set of credential kinds. Routes
 * are only ever added through this, so none can forget authentication. The hook runs at
 * preHandler because HMAC signatures cover the raw body.
 */
export function routeGroup(
  app: FastifyInstance,
  accepts: readonly CredentialKind[],
  deps: AuthDeps,
  register: (group: FastifyInstance) => void,
): void {
  void app.register(async (group) => {
    group.addHook('preHandler', async (request) => {
      const outcome = await authenticate(request, accepts, deps);
      if (!outcome.ok) throw new AppError(outcome.code, outcome.message, { detail: outcome.reason });
      request.principal = outcome.principal;
    });
    register(group);
  });
}

/** The principal of an authenticated request; throws (fail closed) if auth did not run. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'not authenticated', { detail: 'route reached without a principal' });
  return request.principal;
}
