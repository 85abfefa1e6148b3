import { presenceBody } from '#lib/api/schemas.js';
import { setPresence } from '#lib/ephemeral/presence.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['redis'], rateLimit: enforceWriteRate, body: presenceBody }, async ({ principal, body }) => {
  await setPresence(principal, body.status);
  return noContent();
});
