/**
 * The WebSocket `$connect` check: the JWT the HTTP API accepts (RS256 against the issuer's keys, issuer,
 * audience, expiry), verified with jose. The keys come from the issuer's OIDC discovery in AWS, from the local
 * issuer's key set locally; everything else is the same code.
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { principalFromClaims, type Principal } from '../auth/principal.js';
import { UnauthorizedError } from '../errors.js';

export interface TokenPolicy {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
}

export async function verifyToken(token: string | undefined, policy: TokenPolicy): Promise<Principal> {
  if (!token) throw new UnauthorizedError('A token is required (query `token` or Sec-WebSocket-Protocol)');
  try {
    const { payload } = await jwtVerify(token, policy.keys, {
      issuer: policy.issuer,
      audience: policy.audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'sub'],
    });
    const claims = Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, Array.isArray(value) ? value.map(String) : String(value)]));
    return principalFromClaims(claims, null);
  } catch (error) {
    if (error instanceof UnauthorizedError) throw error;
    throw new UnauthorizedError('The token is not valid for this API');
  }
}

const remoteKeys = new Map<string, JWTVerifyGetKey>();

/**
 * The issuer's signing keys, found through its OIDC discovery document (as API Gateway's JWT authorizer
 * does), fetched once per container and cached by jose (refetched for an unknown key id).
 */
export async function issuerKeys(issuer: string): Promise<JWTVerifyGetKey> {
  let keys = remoteKeys.get(issuer);
  if (!keys) {
    const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(discovery, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`OIDC discovery ${discovery} answered ${response.status}`);
    const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: string };
    if (!jwksUri) throw new Error(`OIDC discovery ${discovery} names no jwks_uri`);
    keys = createRemoteJWKSet(new URL(jwksUri));
    remoteKeys.set(issuer, keys);
  }
  return keys;
}
