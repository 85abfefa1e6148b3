/** `npm run --silent token -- --sub <uuid> [--scope messages:service] [--expires 3600]`: prints a JWT. */
import { mintToken } from './jwt.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const sub = option('sub');
if (!sub || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(sub)) {
  console.error('usage: npm run --silent token -- --sub <lower-case uuid> [--scope messages:service] [--expires seconds]');
  process.exit(2);
}
const expires = Number(option('expires') ?? 3600);
process.stdout.write(`${await mintToken({ sub, scope: option('scope'), expiresInSeconds: expires })}\n`);
