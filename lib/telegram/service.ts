/** Telegram use cases behind the HTTP routes. */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { NotFoundError, UnauthorizedError } from '../errors.js';
import { toMessageView, type MessageView } from '../messages/model.js';
import { getMessageRecord } from '../messages/store.js';
import { findTelegramMessage } from './store.js';

/** Compares digests, so neither the secret's content nor its length leaks through timing. */
export function secretMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (!expected || presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Throws 401 unless the header carries the configured secret (none configured: every call is refused). */
export function checkWebhookSecret(secretHeader: string | undefined, expectedSecret: string | undefined): void {
  if (!secretMatches(secretHeader, expectedSecret)) throw new UnauthorizedError('Wrong or missing X-Telegram-Bot-Api-Secret-Token');
}

export async function getByTelegramId(principal: Principal, telegramChatId: number, telegramMessageId: number): Promise<MessageView> {
  const mapping = await findTelegramMessage(telegramChatId, telegramMessageId);
  if (!mapping) throw new NotFoundError('No message was ingested with that Telegram chat and message id');
  await authorizeChannel(principal, mapping.channelId);
  const message = await getMessageRecord(mapping.channelId, mapping.messageId);
  if (!message || message.deleted) throw new NotFoundError('Message not found');
  return toMessageView(message);
}
