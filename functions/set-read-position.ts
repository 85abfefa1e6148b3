import { channelPath, readPositionBody } from '#lib/api/schemas.js';
import { setReadPosition } from '#lib/read-positions/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: channelPath, body: readPositionBody },
  async ({ principal, path, body }) => json(200, await setReadPosition(principal, path.channel_id, body.message_id)),
);
