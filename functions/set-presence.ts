import { setPresence } from '#lib/use-cases/presence.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('set-presence', async ({ principal, body }) => {
  await setPresence(principal, body.status);
  return noContent();
}, { rateLimiter: enforceWriteRate });
