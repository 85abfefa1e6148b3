import { createMessage } from '#lib/use-cases/messages.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('create-message', async ({ principal, params, body, admission }) => {
  const result = await createMessage(principal, params.channel_id, {
    content: body.content,
    template: body.template_id === undefined ? undefined : { id: body.template_id, variables: body.variables ?? {} },
    replyToId: body.reply_to_id,
    nonce: body.nonce,
    authorId: body.author_id,
    mentions: body.mentions,
    attachments: body.attachments,
  }, () => admission.check());
  return json(result.created ? 201 : 200, result.message);
}, { rateLimiter: enforceWriteRate });
