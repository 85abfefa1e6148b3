/**
 * Stores Telegram messages exactly once, however many times and however concurrently the same update is
 * delivered: the conditional insert into telegram_message_mapping decides the one writer; everyone else
 * finds the mapping and, if the first writer died before writing the message, completes the same write
 * (same derived id, same content).
 */
import type { Message, Update } from '@grammyjs/types';
import cassandra from 'cassandra-driver';
import { bucketOf, snowflakeTime } from '../ids/snowflake.js';
import type { MessageRecord } from '../messages/model.js';
import { getMessageRecord, toLong } from '../messages/store.js';
import { persist } from '../messages/service.js';
import { reindex } from '../search/indexer.js';
import { write } from '../scylla/execute.js';
import { telegramContent } from './content.js';
import { isRepresentableDate, telegramAuthorId, telegramSnowflake } from './ids.js';
import { linkedChannel } from './links.js';
import { claimTelegramMessage, findTelegramMessage, recordIngestion } from './store.js';

export type IngestOutcome =
  | { status: 'stored' | 'duplicate' | 'edited'; messageId: string }
  | { status: 'skipped'; reason: string };

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

async function replyTarget(message: Message, channelId: string): Promise<bigint | null> {
  const parent = message.reply_to_message;
  // In a forum, every message "replies" to the topic's creation message: that is the topic, not a reply.
  if (!parent || parent.forum_topic_created) return null;
  const mapping = await findTelegramMessage(message.chat.id, parent.message_id);
  return mapping && mapping.channelId === channelId ? mapping.messageId : null;
}

function toRecord(message: Message, channelId: string, content: string, replyToId: bigint | null, edit: boolean): MessageRecord {
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
  };
}

/**
 * Telegram messages are written on Telegram's clock: the row at the start of its send second, each edit at
 * the end of its edit second. Of several edits delivered in any order the newest wins, a redelivered edit
 * changes nothing, and a message ingested late never overwrites an edit made since. (A delete through the
 * API is written at the current time, so it outlives any Telegram edit.)
 */
function sentTimestampMicros(message: Message): number {
  return message.date * 1_000_000;
}

async function applyEdit(record: MessageRecord, editDateSeconds: number): Promise<void> {
  const timestamp = cassandra.types.Long.fromNumber(editDateSeconds * 1_000_000 + 999_999);
  await write(
    'UPDATE messages USING TIMESTAMP ? SET content = ?, edited_at = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
    [timestamp, record.content, new Date(editDateSeconds * 1000), record.channelId, bucketOf(record.id), toLong(record.id)],
  );
  const stored = await getMessageRecord(record.channelId, record.id);
  if (stored && !stored.deleted) await reindex(stored);
}

export async function ingestUpdate(update: Update): Promise<IngestOutcome> {
  const carried = messageOf(update);
  if (!carried) return { status: 'skipped', reason: 'no message in this update' };
  const { message, edit } = carried;
  if (message.message_id <= 0) return { status: 'skipped', reason: 'ephemeral or scheduled message' };
  const channelId = await linkedChannel(message.chat.id);
  if (!channelId) return { status: 'skipped', reason: 'chat not linked to a channel' };
  if (!isRepresentableDate(message.date)) return { status: 'skipped', reason: 'sent before the Snowflake epoch (2024-01-01)' };
  const content = telegramContent(message);
  if (content === undefined) return { status: 'skipped', reason: 'service message' };

  const record = toRecord(message, channelId, content, await replyTarget(message, channelId), edit);
  const { claimed, mapping } = await claimTelegramMessage(message.chat.id, message.message_id, {
    channelId,
    bucket: bucketOf(record.id),
    messageId: record.id,
  });
  const stored = { ...record, id: mapping.messageId };
  if (claimed) {
    await persist(stored, sentTimestampMicros(message));
    await recordIngestion(channelId, message.chat.id, message.message_id, stored.id, snowflakeTime(record.id), true);
  } else if (!(await getMessageRecord(channelId, stored.id))) {
    // The first writer claimed the mapping and has not written the message (it died, or is still at it):
    // write the same row ourselves. The count is left to the claimer (or, if it died, to the reconciler),
    // since a counter must move once.
    await persist(stored, sentTimestampMicros(message));
    await recordIngestion(channelId, message.chat.id, message.message_id, stored.id, snowflakeTime(record.id), false);
  }
  if (edit && message.edit_date) {
    await applyEdit(stored, message.edit_date);
    return { status: 'edited', messageId: stored.id.toString() };
  }
  return { status: claimed ? 'stored' : 'duplicate', messageId: stored.id.toString() };
}
