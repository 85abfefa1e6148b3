import { removeMember } from '#lib/use-cases/channels.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('remove-member', async ({ principal, params }) => {
  await removeMember(principal, params.channel_id, params.user_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });
