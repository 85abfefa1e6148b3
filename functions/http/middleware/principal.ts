/**
 * Who is calling, by the route's auth kind: the verified JWT claims API Gateway passes on (`jwt`), nobody
 * (`none`: probes and docs), or an authenticator the route's handler supplies (`telegram-secret`), which
 * runs before the body is even read so an unauthenticated caller learns nothing about its input.
 */
import type { Principal } from '#lib/auth/principal.js';
import { principalFromClaims } from '#lib/auth/principal.js';
import type { AuthKind } from '../../routes.js';
import { stateOf, type HttpEvent, type PipelineMiddleware } from './types.js';

export const ANONYMOUS: Principal = { userId: '', isService: false };

export type Authenticator = (event: HttpEvent) => Promise<Principal>;

export function principal(auth: AuthKind, authenticate: Authenticator | undefined): PipelineMiddleware {
  return {
    before: async (request) => {
      const state = stateOf(request);
      if (auth === 'jwt') {
        const jwt = request.event.requestContext?.authorizer?.jwt;
        state.principal = principalFromClaims(jwt?.claims, jwt?.scopes);
      } else if (auth === 'none') {
        state.principal = ANONYMOUS;
      } else {
        state.principal = await authenticate!(request.event);
      }
    },
  };
}
