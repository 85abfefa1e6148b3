import { presenceBody } from '#lib/api/schemas.js';
import { setPresence } from '#lib/ephemeral/presence.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['redis'], rateLimited: true, body: presenceBody }, async ({ principal, body }) => {
  await setPresence(principal, body.status);
  return noContent();
});
