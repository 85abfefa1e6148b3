/**
 * Telegram: the webhook's secret check, ingestion, and reading a message by its Telegram ids. Ingestion
 * stores each Telegram message exactly once, however many times and however concurrently the same update is
 * delivered: the conditional insert into telegram_message_mapping decides the one writer; everyone else
 * finds the mapping and, if the first writer died before writing the message, completes the same write
 * (same derived id, same content).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Message, Update } from '@grammyjs/types';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { isMarkedDeleted } from '../channels/purge-store.js';
import { EVERYONE } from '../changes/model.js';
import { linkedChannel } from '../channels/telegram-links.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import { bucketOf } from '../ids/snowflake.js';
import { toMessageView, type MessageRecord, type MessageView } from '../messages/model.js';
import { replyCountOf } from '../messages/replies.js';
import { getMessageRecord, updateContent } from '../messages/store.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { telegramAttachments, telegramContent } from '../telegram/content.js';
import { searchOutboxStatement } from '../search/outbox.js';
import { isRepresentableDate, isRepresentableMessageId } from '../telegram/ids.js';
import { editTimestampMicros, messageOf, sentTimestampMicros, toMessageRecord } from '../telegram/message.js';
import { claimTelegramMessage, findTelegramMessage, isIndexed, recordIngestion } from '../telegram/store.js';
import { commitWithChange } from './changes.js';
import { ensureReplyLinked, persistMessage } from './messages.js';

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

const NOT_VISIBLE = 'No message you can read was ingested with that Telegram chat and message id';

/**
 * A bridged message by its Telegram ids. Whether a mapping exists is itself information: a caller who is not
 * a member of the message's channel gets exactly the answer of an id never ingested (404, same body), so
 * probing ids tells a non-member nothing about which messages a chat has. Members and services read it.
 */
export async function getByTelegramId(principal: Principal, telegramChatId: number, telegramMessageId: number): Promise<MessageView> {
  const mapping = await findTelegramMessage(telegramChatId, telegramMessageId);
  if (!mapping) throw new NotFoundError(NOT_VISIBLE);
  try {
    await authorizeChannel(principal, mapping.channelId);
  } catch (error) {
    if (error instanceof ForbiddenError || error instanceof NotFoundError) throw new NotFoundError(NOT_VISIBLE);
    throw error;
  }
  const [message, replyCount] = await Promise.all([
    getMessageRecord(mapping.channelId, mapping.messageId),
    replyCountOf(mapping.channelId, mapping.messageId),
  ]);
  if (!message || message.deleted) throw new NotFoundError(NOT_VISIBLE);
  return toMessageView(message, replyCount);
}

export type IngestOutcome =
  | { status: 'stored' | 'duplicate' | 'edited'; messageId: string }
  | { status: 'skipped'; reason: string };

async function replyTarget(message: Message, channelId: string): Promise<bigint | null> {
  const parent = message.reply_to_message;
  // In a forum, every message "replies" to the topic's creation message: that is the topic, not a reply.
  if (!parent || parent.forum_topic_created) return null;
  const mapping = await findTelegramMessage(message.chat.id, parent.message_id);
  return mapping && mapping.channelId === channelId ? mapping.messageId : null;
}

/**
 * An edit replaces the content and the attachments (a caption edit, or media replaced by editMessageMedia),
 * with its `message.updated` change in the same batch. An edit no newer than the stored one (a redelivery, or
 * edits arriving out of order) changes nothing and records nothing; neither does an edit of a deleted message.
 */
async function applyEdit(record: MessageRecord, editDateSeconds: number): Promise<void> {
  const editedAt = new Date(editDateSeconds * 1000);
  const [current, replyCount] = await Promise.all([getMessageRecord(record.channelId, record.id), replyCountOf(record.channelId, record.id)]);
  if (!current || current.deleted) return;
  if (current.editedAt !== null && current.editedAt.getTime() >= editedAt.getTime()) return;
  const edited: MessageRecord = { ...current, content: record.content, editedAt, attachments: record.attachments ?? [] };
  await commitWithChange(
    { channelId: record.channelId, type: 'message.updated', audience: EVERYONE, body: { message: toMessageView(edited, replyCount) } },
    (change, deadlineMs) =>
      updateContent(
        record.channelId,
        record.id,
        { content: edited.content, editedAt, attachments: edited.attachments ?? [] },
        editTimestampMicros(editDateSeconds),
        // The search outbox row rides in the same batch, on the edit's own time (its state version).
        { statements: [change, searchOutboxStatement(record.channelId, record.id, 'index', editTimestampMicros(editDateSeconds))], options: { readTimeout: deadlineMs } },
      ),
  );
}

export async function ingestUpdate(update: Update): Promise<IngestOutcome> {
  const carried = messageOf(update);
  if (!carried) return { status: 'skipped', reason: 'no message in this update' };
  const { message, edit } = carried;
  if (message.message_id <= 0) return { status: 'skipped', reason: 'ephemeral or scheduled message' };
  const channelId = await linkedChannel(message.chat.id);
  if (!channelId) return { status: 'skipped', reason: 'chat not linked to a channel' };
  // The link may come from this container's cache (up to 30 s old): a channel deleted since is not written to.
  if (await isMarkedDeleted(channelId)) return { status: 'skipped', reason: 'channel deleted' };
  if (!isRepresentableDate(message.date) || (message.edit_date !== undefined && !isRepresentableDate(message.edit_date))) {
    // Acknowledged (Telegram redelivers anything but a 2xx forever), stored nowhere, and counted: a date
    // before 2024 is old history; one past 2093 is a forged or corrupt update.
    countMetric(METRIC.telegramUpdateUnstorable);
    return { status: 'skipped', reason: 'date outside the storable range (2024-01-01 to 2093)' };
  }
  if (!isRepresentableMessageId(message.message_id)) {
    // Telegram's ids are 32-bit; a larger one is forged or corrupt and cannot become an id in Telegram's order.
    countMetric(METRIC.telegramUpdateUnstorable);
    return { status: 'skipped', reason: 'message id outside the storable range' };
  }
  const attachments = telegramAttachments(message);
  const content = telegramContent(message, attachments);
  if (content === undefined) return { status: 'skipped', reason: 'service message' };

  const record = toMessageRecord(message, channelId, content, attachments, await replyTarget(message, channelId), edit);
  const { claimed, mapping } = await claimTelegramMessage(message.chat.id, message.message_id, {
    channelId,
    bucket: bucketOf(record.id),
    messageId: record.id,
  });
  const stored = { ...record, id: mapping.messageId };
  if (claimed) {
    await persistMessage(stored, sentTimestampMicros(message));
    await recordIngestion(channelId, message.chat.id, message.message_id, stored.id, message.date * 1000, true);
  } else {
    const existing = await getMessageRecord(channelId, stored.id);
    if (!existing) {
      // The first writer claimed the mapping and has not written the message (it died, or is still at it):
      // write the same row ourselves. The ingestion count is left to the claimer (or, if it died, to the
      // reconciler), since a counter must move once; the reply count is gated by its own conditional write.
      await persistMessage(stored, sentTimestampMicros(message));
      await recordIngestion(channelId, message.chat.id, message.message_id, stored.id, message.date * 1000, false);
    } else {
      // A redelivery: the thread link and the ingestion record are made sure of (no-ops unless the first writer
      // died between the message and them; without the record the message would never be counted or indexed).
      await Promise.all([
        existing.deleted ? undefined : ensureReplyLinked(existing),
        isIndexed(channelId, message.message_id).then((indexed) =>
          indexed ? undefined : recordIngestion(channelId, message.chat.id, message.message_id, stored.id, message.date * 1000, false),
        ),
      ]);
    }
  }
  if (edit && message.edit_date) {
    await applyEdit(stored, message.edit_date);
    return { status: 'edited', messageId: stored.id.toString() };
  }
  return { status: claimed ? 'stored' : 'duplicate', messageId: stored.id.toString() };
}
