import { listMessages, type ListAnchor } from '#lib/use-cases/messages.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-messages', async ({ principal, params, query }) => {
  const anchor: ListAnchor = query.before
    ? { before: query.before }
    : query.after
      ? { after: query.after }
      : query.around
        ? { around: query.around }
        : {};
  return json(200, { messages: await listMessages(principal, params.channel_id, anchor, query.limit) });
}, { readLimiter: readRateLimit });
