import { channelPath } from '#lib/api/schemas.js';
import { whoIsTyping } from '#lib/ephemeral/typing.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], path: channelPath }, async ({ principal, path }) =>
  json(200, { user_ids: await whoIsTyping(principal, path.channel_id) }),
);
