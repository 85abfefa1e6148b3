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
  /** Users the message mentions (absent: none). */
  mentions?: string[];
  /** Attachment metadata (absent: none); the bytes live elsewhere. */
  attachments?: Attachment[];
}

/** Attachment metadata as the API carries it (and the messages row stores it, as JSON text). */
export interface Attachment {
  id: string;
  url: string;
  filename: string;
  content_type: string;
  size: number;
  width?: number;
  height?: number;
}

export const MAX_MENTIONS = 50;
export const MAX_ATTACHMENTS = 10;

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
  mentions: string[];
  attachments: Attachment[];
  reply_count: number;
}

/** The API shape; `replyCount` comes from the reply counters (see messages/replies.ts). */
export function toMessageView(message: MessageRecord, replyCount = 0): MessageView {
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
    mentions: message.mentions ?? [],
    attachments: message.attachments ?? [],
    reply_count: Math.max(0, replyCount),
  };
}

export const MAX_CONTENT_CODE_POINTS = 4096;

/** Content length in Unicode code points, as the API counts it (not UTF-16 units). */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
