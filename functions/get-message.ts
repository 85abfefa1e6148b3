import { getMessage } from '#lib/use-cases/messages.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-message', async ({ principal, params }) =>
  json(200, await getMessage(principal, params.channel_id, params.message_id)),
);
