import { channelPath, searchQuery } from '#lib/api/schemas.js';
import { searchMessages } from '#lib/search/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler(
  { stores: ['scylla', 'postgres'], path: channelPath, query: searchQuery },
  async ({ principal, path, query }) => json(200, await searchMessages(principal, path.channel_id, query)),
);
