import type { FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';
import { checkIdText, MAX_DISTINCT_ID_CHARS, MAX_TENANT_ID_CHARS } from '../lib/text.js';
import { requirePrincipal } from './authenticate.js';
import type { Principal } from './principal.js';
import { DEFAULT_TENANT } from './user-token.js';

/**
 * What a client (browser/mobile) request may act on. With a user token, exactly the token's user
 * (`entity_id`) in the tenants of its scope (`scope.tenant_id`, default ['default']); Herald
 * applies the scope to inbox, preferences and events alike. Without a token (enhanced security
 * mode off) the public key alone names the workspace and the request names the user.
 */

export interface ClientSubject {
  principal: Principal;
  distinctId: string;
  tenantId: string;
}

function clientPrincipal(request: FastifyRequest): Principal {
  const principal = requirePrincipal(request);
  if (principal.kind !== 'public_key')
    throw new AppError('UNAUTHENTICATED', 'client routes take a public key', { detail: `${principal.kind} on a client route` });
  return principal;
}

/** The user the request acts on: must be the token's user when there is a token (else 403). */
export function requireSubscriber(request: FastifyRequest, claimed: unknown): { principal: Principal; distinctId: string } {
  const principal = clientPrincipal(request);
  return { principal, distinctId: subscriberFor(principal, claimed) };
}

/** As requireSubscriber, for callers that hold a principal (the realtime socket handshake). */
export function subscriberFor(principal: Principal, claimed: unknown): string {
  const distinctId = typeof claimed === 'string' ? claimed.trim() : '';
  if (distinctId === '') {
    if (principal.subscriberId !== null) return principal.subscriberId;
    throw new AppError('VALIDATION_FAILED', 'distinct_id is required');
  }
  checkIdText(distinctId, 'distinct_id', MAX_DISTINCT_ID_CHARS);
  if (principal.subscriberId !== null && principal.subscriberId !== distinctId) {
    throw new AppError('SUBSCRIBER_MISMATCH', 'the user token was issued for another user', {
      detail: `token entity_id ${JSON.stringify(principal.subscriberId)} but the request acts on ${JSON.stringify(distinctId)}`,
    });
  }
  return distinctId;
}

/** The tenant the request acts in (default `default`): must be inside the token's scope (else 403). */
export function requireTenant(principal: Principal, requested: unknown): string {
  const tenantId = typeof requested === 'string' && requested.trim() !== '' ? requested.trim() : DEFAULT_TENANT;
  checkIdText(tenantId, 'tenant_id', MAX_TENANT_ID_CHARS);
  if (principal.tenantScope !== null && !principal.tenantScope.includes(tenantId)) {
    throw new AppError('TENANT_NOT_IN_SCOPE', 'the user token is not scoped to this tenant', {
      detail: `tenant ${JSON.stringify(tenantId)} not in token scope ${JSON.stringify(principal.tenantScope)}`,
    });
  }
  return tenantId;
}

/** Both checks for a request that names a user and a tenant (query `distinct_id` / `tenant_id`). */
export function requireClientSubject(request: FastifyRequest, claimedDistinctId: unknown, requestedTenant: unknown): ClientSubject {
  const { principal, distinctId } = requireSubscriber(request, claimedDistinctId);
  return { principal, distinctId, tenantId: requireTenant(principal, requestedTenant) };
}
