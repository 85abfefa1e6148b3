import { channelPath } from '#lib/api/schemas.js';
import { listPins } from '#lib/pins/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: channelPath }, async ({ principal, path }) =>
  json(200, { messages: await listPins(principal, path.channel_id) }),
);
