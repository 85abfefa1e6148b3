/**
 * `npm run --silent token -- --sub <uuid> [--scope messages:service] [--expires 3600] [--audience aud]`: prints a
 * JWT. A token with the service scope is issued for the service audience (JWT_SERVICE_AUDIENCE, default
 * `messages-service`), as a service principal needs; others for the user audience (JWT_AUDIENCE).
 */
import { mintToken } from './jwt.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const sub = option('sub');
if (!sub || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(sub)) {
  console.error('usage: npm run --silent token -- --sub <lower-case uuid> [--scope messages:service] [--expires seconds] [--audience aud]');
  process.exit(2);
}
const expires = Number(option('expires') ?? 3600);
process.stdout.write(`${await mintToken({ sub, scope: option('scope'), expiresInSeconds: expires, audience: option('audience') })}\n`);
