/**
 * Local token issuing and verification, equal to what API Gateway's JWT authorizer checks in AWS:
 * RS256 signature against a JWKS, issuer, audience, expiry and not-before. The signing key lives in
 * `.local/jwt/` so `npm run token` and a running local server agree.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';

const keyFile = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '.local', 'jwt', 'signing-key.json');

export const LOCAL_ISSUER = process.env.JWT_ISSUER ?? 'https://auth.local.invalid/';
export const LOCAL_AUDIENCE = process.env.JWT_AUDIENCE ?? 'messages-api';
/**
 * The audience service tokens are issued for (JWT_SERVICE_AUDIENCE, which the service reads too): a service
 * principal needs it as well as the `messages:service` scope. The local server accepts both audiences, as the
 * deployed JWT authorizer lists both.
 */
export const LOCAL_SERVICE_AUDIENCE = process.env.JWT_SERVICE_AUDIENCE ?? 'messages-service';

/**
 * The key file is created once and never replaced: several processes (test workers, the server, the token
 * command) may ask at the same moment, so a new key is written beside it and linked into place, which fails
 * if another process got there first; then everyone reads the one that won.
 */
async function signingJwk(): Promise<JWK> {
  if (!existsSync(keyFile)) {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `local-${Date.now()}`, alg: 'RS256', use: 'sig' };
    mkdirSync(dirname(keyFile), { recursive: true });
    const candidate = `${keyFile}.${process.pid}.${Date.now()}`;
    writeFileSync(candidate, JSON.stringify(jwk), { mode: 0o600 });
    try {
      linkSync(candidate, keyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(candidate, { force: true });
    }
  }
  return JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
}

export async function publicJwks(): Promise<{ keys: JWK[] }> {
  const { kid, kty, n, e, alg, use } = await signingJwk();
  return { keys: [{ kid, kty, n, e, alg, use }] };
}

export async function mintToken(options: {
  sub: string;
  scope?: string;
  expiresInSeconds?: number;
  issuer?: string;
  /** Default: the service audience for a token with the service scope, the user audience otherwise. */
  audience?: string | string[];
}): Promise<string> {
  const jwk = await signingJwk();
  const key = await importJWK(jwk, 'RS256');
  const payload: JWTPayload = options.scope ? { scope: options.scope } : {};
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid!, typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? (options.scope?.split(' ').includes('messages:service') ? LOCAL_SERVICE_AUDIENCE : LOCAL_AUDIENCE))
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 3600))
    .sign(key);
}

export type ApiGatewayClaims = Record<string, string>;

/**
 * Verifies a bearer token and returns its claims the way API Gateway hands them to a Lambda: every value a
 * string, arrays as "[a b]". Throws on any failure.
 */
export async function verifyBearer(authorization: string | undefined): Promise<{ claims: ApiGatewayClaims; scopes: string[] | null }> {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
  if (!match) throw new Error('missing bearer token');
  const jwks = createLocalJWKSet(await publicJwks());
  const { payload } = await jwtVerify(match[1]!, jwks, {
    issuer: LOCAL_ISSUER,
    audience: [LOCAL_AUDIENCE, LOCAL_SERVICE_AUDIENCE],
    algorithms: ['RS256'],
    requiredClaims: ['exp', 'sub'],
  });
  const claims: ApiGatewayClaims = {};
  for (const [name, value] of Object.entries(payload)) {
    claims[name] = Array.isArray(value) ? `[${value.join(' ')}]` : String(value);
  }
  return { claims, scopes: null };
}
