import { messagePath } from '#lib/api/schemas.js';
import { getMessage } from '#lib/messages/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: messagePath }, async ({ principal, path }) =>
  json(200, await getMessage(principal, path.channel_id, path.message_id)),
);
