/** Who is calling, as the verified JWT says (API Gateway's authorizer, or the local server's equal). */
import { getConfig } from '../config.js';
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

type Claims = Record<string, string | number | boolean | string[]>;

/** A claim's values: a JSON list, API Gateway's flattened "[a b]", or one plain value. */
function claimValues(claim: Claims[string] | undefined): string[] {
  if (claim === undefined) return [];
  if (Array.isArray(claim)) return claim.map(String);
  const text = String(claim);
  return /^\[.*\]$/s.test(text) ? text.slice(1, -1).split(/[\s,]+/).filter(Boolean) : [text];
}

/**
 * Whether the token was issued for the service audience: `aud` (a string or a list) contains it, or the
 * OAuth client it was issued to (`client_id`, as Cognito access tokens say it, or `azp`) is it. The scope
 * alone is not enough: under a shared audience, a user token's scope claim is all that would separate it
 * from a service token, and any issuer misconfiguration that lets a user ask for that scope would make them
 * a service. No service audience configured: no token is a service principal.
 */
function issuedForService(claims: Claims, serviceAudience: string | undefined): boolean {
  if (!serviceAudience) return false;
  if (claimValues(claims.aud).includes(serviceAudience)) return true;
  return [claims.client_id, claims.azp].some((claim) => typeof claim === 'string' && claim === serviceAudience);
}

/**
 * Builds the principal from verified claims. API Gateway passes claims as strings (arrays flattened to
 * "[a b]"), and scopes either in the `scope` claim or in the authorizer's `scopes` list.
 *
 * `sub` must be a canonical (lower-case) UUID, exactly as user ids are stored and compared: an upper-case
 * form is refused, not lower-cased, or a token for `ABC…` would act as the user `abc…`, whoever the issuer
 * issued it to. A service principal needs the service scope and a token issued for the service audience.
 */
export function principalFromClaims(
  claims: Claims | undefined,
  scopes: string[] | null | undefined,
  serviceAudience: string | undefined = getConfig().jwt.serviceAudience,
): Principal {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || !isUuid(sub)) {
    throw new UnauthorizedError('The token must carry a lower-case canonical UUID `sub` claim');
  }
  const scopeClaim = claims?.scope ?? claims?.scp;
  const scopeText = Array.isArray(scopeClaim) ? scopeClaim.join(' ') : String(scopeClaim ?? '');
  const allScopes = new Set([...scopeText.replace(/[[\]]/g, '').split(/[\s,]+/), ...(scopes ?? [])]);
  return { userId: sub, isService: allScopes.has(SERVICE_SCOPE) && issuedForService(claims ?? {}, serviceAudience) };
}
