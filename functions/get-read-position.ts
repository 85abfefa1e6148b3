import { channelPath } from '#lib/api/schemas.js';
import { getReadPosition } from '#lib/read-positions/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: channelPath }, async ({ principal, path }) =>
  json(200, await getReadPosition(principal, path.channel_id)),
);
