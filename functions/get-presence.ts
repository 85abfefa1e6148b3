import { presenceQuery } from '#lib/api/schemas.js';
import { getPresence } from '#lib/ephemeral/presence.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['redis'], query: presenceQuery }, async ({ query }) =>
  json(200, { presence: await getPresence(query.user_ids) }),
);
