import type { Update } from '@grammyjs/types';
import { getConfig } from '#lib/config.js';
import { resolveTelegramWebhookSecret } from '#lib/secrets.js';
import { checkWebhookSecret, ingestUpdate } from '#lib/use-cases/telegram.js';
import { ANONYMOUS } from './http/middleware/principal.js';
import { httpRoute, json } from './http/pipeline.js';

const webhookSecret = await resolveTelegramWebhookSecret(getConfig().telegram);

/** Telegram's webhook: no JWT; the secret token header authenticates it. Any 2xx tells Telegram it is done. */
export const handler = httpRoute('telegram-webhook', async ({ body }) => {
  const outcome = await ingestUpdate(body as unknown as Update);
  return json(200, outcome.status === 'skipped' ? { ok: true, ...outcome } : { ok: true, status: outcome.status, message_id: outcome.messageId });
}, {
  authenticate: async (event) => {
    checkWebhookSecret(event.headers?.['x-telegram-bot-api-secret-token'], webhookSecret);
    return ANONYMOUS;
  },
});
