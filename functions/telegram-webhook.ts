import type { Update } from '@grammyjs/types';
import { telegramUpdateBody } from '#lib/api/schemas.js';
import { getConfig } from '#lib/config.js';
import { resolveTelegramWebhookSecret } from '#lib/secrets.js';
import { ingestUpdate } from '#lib/telegram/ingest.js';
import { checkWebhookSecret } from '#lib/telegram/service.js';
import { httpHandler, json, parseBody } from './http/handler.js';

const webhookSecret = await resolveTelegramWebhookSecret(getConfig().telegram);

/** Telegram's webhook: no JWT; the secret token header authenticates it. Any 2xx tells Telegram it is done. */
export const handler = httpHandler(
  { stores: ['scylla', 'postgres'], auth: false },
  async ({ event }) => {
    // The secret first: an unauthenticated caller learns nothing, not even whether its body was valid.
    checkWebhookSecret(event.headers?.['x-telegram-bot-api-secret-token'], webhookSecret);
    const update = parseBody(event, telegramUpdateBody) as unknown as Update;
    return json(200, { ok: true, ...(await ingestUpdate(update)) });
  },
);
