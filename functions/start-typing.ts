import { channelPath } from '#lib/api/schemas.js';
import { startTyping } from '#lib/ephemeral/typing.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: channelPath }, async ({ principal, path }) => {
  await startTyping(principal, path.channel_id);
  return noContent();
});
