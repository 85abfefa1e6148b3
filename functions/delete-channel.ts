import { deleteChannel } from '#lib/use-cases/channels.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('delete-channel', async ({ principal, params }) => {
  await deleteChannel(principal, params.channel_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });
