/**
 * Pointing the bot at this deployment's webhook, and unpointing it: the decisions of the webhook-registration
 * custom resource. A bot has exactly one webhook, so the rules are about whose it is. Create/Update always
 * set it (the registered secret cannot be read back to compare, and a stale one would make Telegram's every
 * delivery a 401); Delete removes it only when it still points at this deployment's URL, so deleting one
 * stack never unhooks a bot that another stack has taken over since.
 */
import type { WebhookInfo } from '@grammyjs/types';
import type { Config } from '../config.js';
import { BotApiError, callBotApi, getWebhookInfo } from './bot-api.js';

/**
 * The update kinds the webhook stores (messageOf in ./message.ts): anything else it acknowledges and skips,
 * so asking Telegram for it would only cost deliveries. Reactions and chat-member updates are not handled.
 */
export const HANDLED_UPDATE_KINDS: readonly string[] = ['message', 'edited_message', 'channel_post', 'edited_channel_post'];

/** The custom resource's properties, validated. */
export interface WebhookProperties {
  /** `WebhookUrl`: the HTTPS URL Telegram posts updates to (the API's /telegram/webhook). */
  url: string;
  /** `AllowedUpdates`: the update kinds Telegram sends; HANDLED_UPDATE_KINDS when absent or empty. */
  allowedUpdates: string[];
}

export interface WebhookResourceResult {
  physicalResourceId: string;
  /** What was done, for the log: `registered`, `deleted`, or `left alone` with the reason. */
  outcome: string;
  data: { WebhookUrl: string; AllowedUpdates: string };
}

/** Thrown for a setting or property that can never work; the message names it (never its value). */
export class WebhookRegistrationError extends Error {
  override name = 'WebhookRegistrationError';
}

const PHYSICAL_ID_PREFIX = 'telegram-webhook:';

/** A bot token is `<bot id>:<secret part>`; the id alone is public (it is the bot's user id). */
export function botIdOf(token: string | undefined): string | undefined {
  return token ? /^(\d{1,20}):[A-Za-z0-9_-]{20,}$/.exec(token.trim())?.[1] : undefined;
}

/**
 * Stable for a bot across updates (so a URL change is an in-place update, never a replacement), different
 * for another bot (so CloudFormation replaces the resource when the token names a new bot), and free of
 * the token's secret part.
 */
export function webhookPhysicalId(botId: string): string {
  return `${PHYSICAL_ID_PREFIX}${botId}`;
}

/** Validates the resource properties (CloudFormation passes them as strings and lists of strings). */
export function webhookProperties(properties: Record<string, unknown>): WebhookProperties {
  const { WebhookUrl: rawUrl, AllowedUpdates: rawUpdates } = properties;
  if (typeof rawUrl !== 'string' || rawUrl.trim() === '') throw new WebhookRegistrationError('WebhookUrl: is required');
  let url: URL;
  try {
    url = new URL(rawUrl.trim());
  } catch {
    throw new WebhookRegistrationError('WebhookUrl: expected an https URL');
  }
  // Telegram refuses anything but HTTPS; saying so here beats its 400 after the fact.
  if (url.protocol !== 'https:') throw new WebhookRegistrationError('WebhookUrl: expected an https URL');

  let kinds: unknown[];
  if (rawUpdates === undefined || rawUpdates === null || rawUpdates === '') kinds = [];
  else if (typeof rawUpdates === 'string') kinds = rawUpdates.split(',');
  else if (Array.isArray(rawUpdates)) kinds = rawUpdates;
  else throw new WebhookRegistrationError('AllowedUpdates: expected a list of update kinds');
  const allowedUpdates: string[] = [];
  for (const kind of kinds) {
    const name = typeof kind === 'string' ? kind.trim() : '';
    if (!/^[a-z_]{1,64}$/.test(name)) throw new WebhookRegistrationError(`AllowedUpdates: '${String(kind)}' is not an update kind`);
    if (!allowedUpdates.includes(name)) allowedUpdates.push(name);
  }
  // An empty list would mean "Telegram's default set" to Telegram, not "none": the handled kinds are meant.
  return { url: rawUrl.trim(), allowedUpdates: allowedUpdates.length > 0 ? allowedUpdates : [...HANDLED_UPDATE_KINDS] };
}

function dataOf(properties: WebhookProperties | undefined): WebhookResourceResult['data'] {
  return { WebhookUrl: properties?.url ?? '', AllowedUpdates: properties?.allowedUpdates.join(',') ?? '' };
}

/**
 * Create and Update: points the bot at `WebhookUrl` with the secret token and the update kinds. Calling it
 * again with the same inputs is harmless (Telegram answers "Webhook is already set"); pending updates are
 * kept, so a redeploy loses no message. Throws when anything is missing or Telegram refuses.
 */
export async function registerWebhook(
  config: Config['telegram'],
  botToken: string | undefined,
  webhookSecret: string | undefined,
  rawProperties: Record<string, unknown>,
): Promise<WebhookResourceResult> {
  const properties = webhookProperties(rawProperties);
  if (!botToken) throw new WebhookRegistrationError('No bot token: set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_SECRET_ARN');
  const botId = botIdOf(botToken);
  if (!botId) throw new WebhookRegistrationError('The bot token is not of the form <bot id>:<secret> (as BotFather issues it)');
  // The webhook refuses every delivery that lacks the configured secret: registering without one would
  // point the bot at an endpoint that answers 401 to all of it.
  if (!webhookSecret) throw new WebhookRegistrationError('No webhook secret: set TELEGRAM_WEBHOOK_SECRET or TELEGRAM_WEBHOOK_SECRET_ARN');
  await callBotApi<boolean>(config, botToken.trim(), 'setWebhook', {
    url: properties.url,
    secret_token: webhookSecret,
    allowed_updates: properties.allowedUpdates,
    drop_pending_updates: false,
  });
  return { physicalResourceId: webhookPhysicalId(botId), outcome: 'registered', data: dataOf(properties) };
}

function isTokenRejected(error: unknown): boolean {
  return error instanceof BotApiError && error.errorCode === 401;
}

/**
 * Delete: removes the webhook if it is still this resource's. Leaves it alone, and succeeds, when it can
 * never act (no usable token, Telegram rejects the token, the resource was registered for another bot) or
 * must not (the webhook now points elsewhere): a Delete that can never succeed would hold the stack's
 * deletion hostage. Any other Telegram failure throws, as it may pass on a retry.
 */
export async function unregisterWebhook(
  config: Config['telegram'],
  botToken: string | undefined,
  physicalResourceId: string,
  rawProperties: Record<string, unknown>,
): Promise<WebhookResourceResult> {
  let properties: WebhookProperties | undefined;
  try {
    properties = webhookProperties(rawProperties);
  } catch {
    properties = undefined;
  }
  const leave = (reason: string): WebhookResourceResult => ({ physicalResourceId, outcome: `left alone: ${reason}`, data: dataOf(properties) });
  if (!properties) return leave('the resource has no valid WebhookUrl');
  const botId = botIdOf(botToken);
  if (!botToken || !botId) return leave('no usable bot token');
  // The token now names another bot (the resource was replaced): this bot's token is gone with the old id.
  if (physicalResourceId !== webhookPhysicalId(botId)) return leave(`registered for another bot than ${botId}`);

  let info: WebhookInfo;
  try {
    info = await getWebhookInfo(config, botToken.trim());
  } catch (error) {
    if (isTokenRejected(error)) return leave('Telegram rejects the bot token');
    throw error;
  }
  if (info.url === '') return leave('no webhook is registered');
  if (info.url !== properties.url) return leave('the webhook points at another URL');
  try {
    await callBotApi<boolean>(config, botToken.trim(), 'deleteWebhook', { drop_pending_updates: false });
  } catch (error) {
    if (isTokenRejected(error)) return leave('Telegram rejects the bot token');
    throw error;
  }
  return { physicalResourceId, outcome: 'deleted', data: dataOf(properties) };
}
