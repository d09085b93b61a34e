import type { FastifyInstance, FastifyRequest } from 'fastify';
import { looksLikePublicKey, looksLikeWorkspaceKey } from '../credentials/key-format.js';
import { AppError } from '../lib/errors.js';
import { checkApiKeyScope } from './api-key-scope.js';
import { verifyApiKey } from './api-key.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { CredentialCache } from './credential-cache.js';
import { parseHmacAuthorization, verifyHmacRequest } from './hmac.js';
import type { AuthOutcome, AuthRejection, CredentialKind, Principal } from './principal.js';
import { verifyPublicKeyRequest } from './public-key.js';
import type { UserTokenVerifier } from './user-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The credential a request to an API route presented, verified or not (for the request log). */
    presentedCredential?: PresentedCredential;
  }
  interface FastifyContextConfig {
    /** The credential kinds of the routeGroup a route belongs to (set by routeGroup; tests classify routes by it). */
    acceptsCredentials?: readonly CredentialKind[];
    /** A route only key+secret signed client SDKs call (src/preferences/signed-client-preferences.routes.ts). */
    signedClientRoute?: boolean;
  }
}

/**
 * What the request log may say about a presented credential: its kind and a non-secret id. The
 * id is kept only when the text has the shape of an identifier, so a secret sent in the wrong
 * place (a workspace secret as the workspace key, say) is never taken for one.
 */
export interface PresentedCredential {
  kind: CredentialKind | 'none';
  /** Workspace key (HMAC), API key display prefix or id, public key or its id; null if unknown. */
  id: string | null;
  workspaceId: string | null;
}

const API_KEY_DISPLAY_PREFIX_RE = /^hak_(?:test|live)_[0-9A-Za-z]{4}/;

export interface AuthDeps {
  cache: CredentialCache;
  tokens: UserTokenVerifier;
  now: () => number;
  hmacMaxSkewMs: number;
  hmacMaxFutureSkewMs: number;
  noteApiKeyUse: (id: string, at: number) => void;
  /** API rate limits (src/http/rate-limits.ts); none when absent. */
  limits?: RateLimits;
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

const SCHEME_SHAPES: Record<CredentialKind, string> = {
  hmac: '"Authorization: <workspace key>:<signature>", as the backend SDKs send',
  api_key: '"Authorization: Bearer <API key>"',
  public_key: '"Authorization: <public key>", as the browser and mobile SDKs send',
};

const API_KEY_WITHOUT_BEARER_RE = /^hak_(?:test|live)_[0-9A-Za-z]+$/;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Kind and non-secret id of an Authorization header, before any verification. */
export function presentedCredentialOf(authorization: string | undefined): PresentedCredential {
  if (!authorization) return { kind: 'none', id: null, workspaceId: null };
  const kind = classifyAuthorization(authorization);
  let id: string | null = null;
  if (kind === 'api_key') {
    // The display prefix (`hak_test_Ab3x`), as key lists show it: never more of the key.
    id = API_KEY_DISPLAY_PREFIX_RE.exec(BEARER_RE.exec(authorization)?.[1] ?? '')?.[0] ?? null;
  } else if (kind === 'hmac') {
    const workspaceKey = parseHmacAuthorization(authorization)?.workspaceKey ?? '';
    id = looksLikeWorkspaceKey(workspaceKey) ? workspaceKey : null;
  } else if (looksLikePublicKey(authorization.trim())) {
    id = authorization.trim();
  }
  return { kind, id, workspaceId: null };
}

/**
 * Names the workspace and credential of a rejected request where that can be known, so the
 * rejection appears in that workspace's request log. Lookups go through the credential cache and
 * happen only for rejections the mechanism did not already attribute.
 */
async function attributeRejection(request: FastifyRequest, outcome: AuthRejection, deps: AuthDeps): Promise<void> {
  const presented = request.presentedCredential ?? presentedCredentialOf(header(request, 'authorization'));
  let workspaceId = outcome.workspaceId ?? null;
  let id = outcome.credentialId ?? presented.id;
  try {
    if (workspaceId === null && presented.id !== null) {
      if (presented.kind === 'hmac') {
        workspaceId = (await deps.cache.workspaceByKey(presented.id))?.id ?? null;
      } else if (presented.kind === 'public_key') {
        const record = await deps.cache.publicKey(presented.id);
        workspaceId = record?.workspaceId ?? null;
        id = record?.id ?? id;
      }
    }
  } catch {
    // Attribution is for the log only; the client still gets the real rejection.
  }
  request.presentedCredential = { kind: presented.kind, id, workspaceId };
}

async function authenticate(request: FastifyRequest, accepts: readonly CredentialKind[], deps: AuthDeps): Promise<AuthOutcome> {
  const authorization = header(request, 'authorization');
  if (!authorization) {
    const schemes = accepts.map((k) => `${KIND_NAMES[k]} (${SCHEME_SHAPES[k]})`).join(', or ');
    return {
      ok: false,
      code: 'UNAUTHENTICATED',
      message: `missing Authorization header: this route accepts ${schemes}`,
      reason: 'no credential',
    };
  }
  // An API key sent bare reads as a public key: say what is missing instead.
  if (API_KEY_WITHOUT_BEARER_RE.test(authorization.trim())) {
    const fix = accepts.includes('api_key')
      ? 'send it as "Authorization: Bearer <API key>"'
      : `this route accepts ${accepts.map((k) => KIND_NAMES[k]).join(' or ')}, not API keys`;
    return { ok: false, code: 'UNAUTHENTICATED', message: `an API key without "Bearer": ${fix}`, reason: 'API key without Bearer' };
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
    case 'hmac': {
      // web-sdk 1.x signs the date it sends in x-amz-date (browsers cannot set Date, so its calls
      // never carry one); a Date header wins when both are present. The signature covers whichever
      // is used, and the same staleness check applies.
      const dateHeader = header(request, 'date');
      const amzDate = dateHeader === undefined ? header(request, 'x-amz-date') : undefined;
      return verifyHmacRequest(
        authorization,
        {
          method: request.method,
          rawBody: request.rawBody,
          contentType: header(request, 'content-type') ?? '',
          date: amzDate ?? dateHeader ?? '',
          requestTarget: request.raw.url ?? request.url,
        },
        { cache: deps.cache, now: deps.now, maxSkewMs: deps.hmacMaxSkewMs, maxFutureSkewMs: deps.hmacMaxFutureSkewMs },
        {
          dateHeader: amzDate === undefined ? 'date' : 'x-amz-date',
          routeUrl: request.routeOptions.url,
          isClientRoute: request.routeOptions.config.signedClientRoute === true,
        },
      );
    }
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
    group.addHook('onRoute', (route) => {
      route.config = { ...route.config, acceptsCredentials: accepts };
    });
    // onRequest, so that requests failing before authentication (body too large, bad JSON) still
    // tell the request log what they presented.
    group.addHook('onRequest', async (request) => {
      request.presentedCredential = presentedCredentialOf(header(request, 'authorization'));
    });
    group.addHook('preHandler', async (request, reply) => {
      deps.limits?.checkAddress(request, reply);
      const outcome = await authenticate(request, accepts, deps);
      if (!outcome.ok) {
        await attributeRejection(request, outcome, deps);
        await deps.limits?.noteFailure(request);
        throw new AppError(outcome.code, outcome.message, { detail: outcome.reason });
      }
      request.principal = outcome.principal;
      await deps.limits?.checkPrincipal(request, outcome.principal, reply);
      if (outcome.principal.apiKeyScope) checkApiKeyScope(request, outcome.principal.apiKeyScope);
    });
    register(group);
  });
}

/** The principal of an authenticated request; throws (fail closed) if auth did not run. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'not authenticated', { detail: 'route reached without a principal' });
  return request.principal;
}
