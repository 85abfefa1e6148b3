/** Who is calling, as the verified JWT says (API Gateway's authorizer, or the local server's equal). */
import { UnauthorizedError } from '../errors.js';

export const SERVICE_SCOPE = 'messages:service';

export interface Principal {
  userId: string;
  /** A service principal may act in any channel and write as any author. */
  isService: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Builds the principal from verified claims. API Gateway passes claims as strings (arrays flattened to
 * "[a b]"), and scopes either in the `scope` claim or in the authorizer's `scopes` list.
 */
export function principalFromClaims(
  claims: Record<string, string | number | boolean | string[]> | undefined,
  scopes: string[] | null | undefined,
): Principal {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || !isUuid(sub.toLowerCase())) {
    throw new UnauthorizedError('The token must carry a UUID `sub` claim');
  }
  const scopeClaim = claims?.scope ?? claims?.scp;
  const scopeText = Array.isArray(scopeClaim) ? scopeClaim.join(' ') : String(scopeClaim ?? '');
  const allScopes = new Set([...scopeText.replace(/[[\]]/g, '').split(/[\s,]+/), ...(scopes ?? [])]);
  return { userId: sub.toLowerCase(), isService: allScopes.has(SERVICE_SCOPE) };
}
