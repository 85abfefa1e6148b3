import { channelPath, createMessageBody } from '#lib/api/schemas.js';
import { createMessage } from '#lib/messages/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: channelPath, body: createMessageBody },
  async ({ principal, path, body }) => {
    const result = await createMessage(principal, path.channel_id, {
      content: body.content,
      replyToId: body.reply_to_id,
      nonce: body.nonce,
      authorId: body.author_id,
    });
    return json(result.created ? 201 : 200, result.message);
  },
);
