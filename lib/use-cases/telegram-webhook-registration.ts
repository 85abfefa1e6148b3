/**
 * The webhook-registration custom resource's use case: reads the bot token (and, to register, the webhook
 * secret) the way every function does, then lets lib/telegram decide and act. Logs what it did, never a
 * token or secret.
 */
import type { Config } from '../config.js';
import { log } from '../log.js';
import { resolveTelegramBotToken, resolveTelegramWebhookSecret } from '../secrets.js';
import { registerWebhook, unregisterWebhook, type WebhookResourceResult } from '../telegram/webhook-registration.js';

export interface WebhookResourceRequest {
  requestType: 'Create' | 'Update' | 'Delete';
  /** The id the resource was created with (Update, Delete). */
  physicalResourceId?: string;
  /** `WebhookUrl` and `AllowedUpdates` (anything else, such as the Provider's `ServiceToken`, is ignored). */
  properties: Record<string, unknown>;
}

export async function applyWebhookResource(config: Config['telegram'], request: WebhookResourceRequest): Promise<WebhookResourceResult> {
  const botToken = await resolveTelegramBotToken(config);
  const result =
    request.requestType === 'Delete'
      ? await unregisterWebhook(config, botToken, request.physicalResourceId ?? '', request.properties)
      : await registerWebhook(config, botToken, await resolveTelegramWebhookSecret(config), request.properties);
  log().info('telegram webhook resource', {
    requestType: request.requestType,
    physicalResourceId: result.physicalResourceId,
    outcome: result.outcome,
    webhookUrl: result.data.WebhookUrl,
    allowedUpdates: result.data.AllowedUpdates,
  });
  return result;
}
