import { channelPath } from '#lib/api/schemas.js';
import { getChannel } from '#lib/channels/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: channelPath }, async ({ principal, path }) =>
  json(200, await getChannel(principal, path.channel_id)),
);
