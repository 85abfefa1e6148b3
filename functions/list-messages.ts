import { channelPath, listMessagesQuery } from '#lib/api/schemas.js';
import { listMessages, type ListAnchor } from '#lib/messages/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler(
  { stores: ['scylla', 'postgres'], path: channelPath, query: listMessagesQuery },
  async ({ principal, path, query }) => {
    const anchor: ListAnchor = query.before
      ? { before: query.before }
      : query.after
        ? { after: query.after }
        : query.around
          ? { around: query.around }
          : {};
    return json(200, { messages: await listMessages(principal, path.channel_id, anchor, query.limit) });
  },
);
