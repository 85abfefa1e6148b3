/** What a Telegram update carries, as the message store keeps it: a pure mapping, no store access. */
import type { Message, Update } from '@grammyjs/types';
import type { Attachment, MessageRecord } from '../messages/model.js';
import { telegramAuthorId, telegramSnowflake } from './ids.js';

/** The message an update carries, and whether it is an edit. */
export function messageOf(update: Update): { message: Message; edit: boolean } | undefined {
  if (update.message) return { message: update.message, edit: false };
  if (update.channel_post) return { message: update.channel_post, edit: false };
  if (update.edited_message) return { message: update.edited_message, edit: true };
  if (update.edited_channel_post) return { message: update.edited_channel_post, edit: true };
  return undefined;
}

function authorOf(message: Message): string {
  if (message.sender_chat) return telegramAuthorId('chat', message.sender_chat.id);
  if (message.from) return telegramAuthorId('user', message.from.id);
  return telegramAuthorId('chat', message.chat.id);
}

export function toMessageRecord(
  message: Message,
  channelId: string,
  content: string,
  attachments: Attachment[],
  replyToId: bigint | null,
  edit: boolean,
): MessageRecord {
  return {
    channelId,
    id: telegramSnowflake(message.date, message.message_id),
    authorId: authorOf(message),
    content,
    editedAt: edit && message.edit_date ? new Date(message.edit_date * 1000) : null,
    replyToId,
    source: 'telegram',
    telegram: {
      chatId: message.chat.id,
      messageId: message.message_id,
      threadId: message.is_topic_message && message.message_thread_id ? message.message_thread_id : null,
    },
    deleted: false,
    mentions: [],
    attachments,
  };
}

/**
 * Telegram messages are written on Telegram's clock: the row at the start of its send second, each edit at
 * the end of its edit second. Of several edits delivered in any order the newest wins, a redelivered edit
 * changes nothing, and a message ingested late never overwrites an edit made since. (A delete through the
 * API is written at the current time, so it outlives any Telegram edit.)
 */
export function sentTimestampMicros(message: Message): number {
  return message.date * 1_000_000;
}

/** The write timestamp of an edit made at `editDateSeconds` (see sentTimestampMicros). */
export function editTimestampMicros(editDateSeconds: number): number {
  return editDateSeconds * 1_000_000 + 999_999;
}
