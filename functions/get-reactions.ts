import { messagePath } from '#lib/api/schemas.js';
import { getReactions } from '#lib/reactions/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: messagePath }, async ({ principal, path }) =>
  json(200, await getReactions(principal, path.channel_id, path.message_id)),
);
