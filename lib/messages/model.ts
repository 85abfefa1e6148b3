/** A stored message and its API shape. */
import { snowflakeTime } from '../ids/snowflake.js';

export type MessageSource = 'app' | 'telegram';

export interface MessageRecord {
  channelId: string;
  id: bigint;
  authorId: string;
  content: string;
  editedAt: Date | null;
  replyToId: bigint | null;
  source: MessageSource;
  telegram: { chatId: number; messageId: number; threadId: number | null } | null;
  deleted: boolean;
}

export interface MessageView {
  id: string;
  channel_id: string;
  author_id: string;
  content: string;
  created_at: string;
  edited_at: string | null;
  reply_to_id: string | null;
  source: MessageSource;
  telegram: { chat_id: number; message_id: number; thread_id: number | null } | null;
}

export function toMessageView(message: MessageRecord): MessageView {
  return {
    id: message.id.toString(),
    channel_id: message.channelId,
    author_id: message.authorId,
    content: message.content,
    created_at: new Date(snowflakeTime(message.id)).toISOString(),
    edited_at: message.editedAt ? message.editedAt.toISOString() : null,
    reply_to_id: message.replyToId === null ? null : message.replyToId.toString(),
    source: message.source,
    telegram: message.telegram
      ? { chat_id: message.telegram.chatId, message_id: message.telegram.messageId, thread_id: message.telegram.threadId }
      : null,
  };
}

export const MAX_CONTENT_CODE_POINTS = 4096;

/** Content length in Unicode code points, as the API counts it (not UTF-16 units). */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
