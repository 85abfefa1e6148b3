/**
 * The purge of a deleted channel: everything it left in the stores, step by step, resumable. The delete
 * route marks the channel deleted (404 everywhere from then on) and requests the purge; the request goes to
 * the SQS purge queue when PURGE_QUEUE_URL is set (the purge Lambda runs it once the queue's delivery delay
 * has passed), else it runs here in the background after PURGE_DELAY_SECONDS (the local server). Both run
 * `purgeChannel`. The delay lets writes that passed their access check before the delete (and Telegram
 * updates routed by another container's cached link) land before the purge passes their partitions.
 *
 * Steps, in order (each idempotent; the checkpoint names the step reached and, for messages, the bucket and
 * the last message id cleared): messages (per page of a bucket's ids: reactions of those messages and the
 * threads they reply to; then the bucket's counter-found threads, its counters and the bucket partition),
 * the bucket index, pins, per-user rows (read positions and mentions of members, former members and every
 * user channel_readers names), search rows, Telegram (mappings still naming this channel, of every chat ever
 * linked to it, then its per-channel tables), channel_metadata and the member replica, and last the
 * PostgreSQL chat row (participants and templates cascade). Fan-outs keep PURGE_CONCURRENCY statements in flight.
 */
import { chatDeletionState, clearPurgeCheckpoint, readPurgeCheckpoint, savePurgeCheckpoint } from '../channels/purge-store.js';
import { channelMemberIds, deleteChatRow } from '../channels/chat-store.js';
import { forgetReplicatedMembers, replicatedMemberIds } from '../channels/member-replica.js';
import { deleteChannelMetadata, getPurgeTarget } from '../channels/metadata-store.js';
import { sendPurgeRequest } from '../channels/purge-queue.js';
export { parsePurgeRequest } from '../channels/purge-queue.js';
import { chatsEverLinked, forgetChatsEverLinked } from '../channels/telegram-links.js';
import { getConfig } from '../config.js';
import { log } from '../log.js';
import { purgeMentions } from '../mentions/purge.js';
import { bucketsBelow, messagePages, purgeBucket, purgeBucketIndex, purgeThreads } from '../messages/purge.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { purgePins } from '../pins/purge.js';
import { purgeReactions } from '../reactions/purge.js';
import { forgetReaders, readerIds } from '../read-positions/readers.js';
import { deletePosition } from '../read-positions/store.js';
import { mapConcurrently } from '../scylla/execute.js';
import { purgeSearchRows } from '../search/purge.js';
import { purgeTelegramChannelState, purgeTelegramMappings } from '../telegram/purge.js';

const STEPS = ['messages', 'bucket-index', 'pins', 'member-rows', 'search', 'telegram', 'metadata', 'chat'] as const;
type Step = (typeof STEPS)[number];

const BUCKETS_PER_READ = 50;
const IDS_PER_PAGE = 500;
const SEARCH_ROWS_PER_DELETE = 5000;
/** Statements in flight at once in every fan-out of the purge (per user, per message, per thread, per mapping). */
export const PURGE_CONCURRENCY = 64;

export interface PurgeOptions {
  /** Asked between steps, buckets and pages: true stops the purge at the last checkpoint (a Lambda near its timeout). */
  shouldStop?: () => boolean;
  /** Message ids read per page of a bucket (500). */
  pageSize?: number;
}

export type PurgeOutcome = 'purged' | 'paused' | 'not-deleted';

/** Raised when the purge of a channel not (yet) marked deleted is asked for: the queue retries it later. */
export class ChannelNotDeletedError extends Error {
  override name = 'ChannelNotDeletedError';
}

/** Every user that may have a read position or mention partition: members, the replica, and the index. */
async function readers(channelId: string): Promise<string[]> {
  const [participants, replica, indexed] = await Promise.all([channelMemberIds(channelId), replicatedMemberIds(channelId), readerIds(channelId)]);
  return [...new Set([...participants, ...replica, ...indexed])];
}

/** A message-step cursor: `<bucket>` (that bucket cleared) or `<bucket>:<message id>` (cleared down to that id). */
function parseCursor(cursor: string | null): { below: number | null; inBucket?: { bucket: number; beforeId: bigint } } {
  if (!cursor) return { below: null };
  const [bucket, messageId] = cursor.split(':');
  if (messageId === undefined) return { below: Number(bucket) };
  return { below: Number(bucket), inBucket: { bucket: Number(bucket), beforeId: BigInt(messageId) } };
}

/** Clears one bucket from `beforeId` down, a page at a time with a checkpoint each; false when stopped. */
async function purgeOneBucket(channelId: string, bucket: number, beforeId: bigint | null, pageSize: number, shouldStop: () => boolean): Promise<boolean> {
  let reacted = 0;
  for await (const page of messagePages(channelId, bucket, beforeId, pageSize)) {
    if (page.ids.length === 0) continue;
    const [count] = await Promise.all([purgeReactions(channelId, page.ids, PURGE_CONCURRENCY), purgeThreads(channelId, page.replyParents, PURGE_CONCURRENCY)]);
    reacted += count;
    await savePurgeCheckpoint(channelId, { step: 'messages', cursor: `${bucket}:${page.ids.at(-1)!.toString()}` });
    if (shouldStop()) return false;
  }
  await purgeBucket(channelId, bucket, PURGE_CONCURRENCY);
  await savePurgeCheckpoint(channelId, { step: 'messages', cursor: String(bucket) });
  log().info('channel purge: bucket cleared', { channelId, bucket, reactedMessages: reacted });
  return true;
}

/** Clears buckets from the checkpoint's cursor down; returns false when stopped before the last. */
async function purgeMessages(channelId: string, cursor: string | null, pageSize: number, shouldStop: () => boolean): Promise<boolean> {
  const { below: start, inBucket } = parseCursor(cursor);
  if (inBucket && !(await purgeOneBucket(channelId, inBucket.bucket, inBucket.beforeId, pageSize, shouldStop))) return false;
  let below = start;
  for (;;) {
    const buckets = await bucketsBelow(channelId, below, BUCKETS_PER_READ);
    for (const bucket of buckets) {
      if (shouldStop()) return false;
      if (!(await purgeOneBucket(channelId, bucket, null, pageSize, shouldStop))) return false;
      below = bucket;
    }
    if (buckets.length < BUCKETS_PER_READ) return true;
  }
}

async function runStep(channelId: string, step: Step): Promise<void> {
  switch (step) {
    case 'bucket-index':
      return purgeBucketIndex(channelId);
    case 'pins':
      return purgePins(channelId);
    case 'member-rows': {
      const users = await readers(channelId);
      await mapConcurrently(users, PURGE_CONCURRENCY, (userId) => deletePosition(channelId, userId));
      await purgeMentions(channelId, users, PURGE_CONCURRENCY);
      return forgetReaders(channelId);
    }
    case 'search':
      while ((await purgeSearchRows(channelId, SEARCH_ROWS_PER_DELETE)) > 0);
      return;
    case 'telegram': {
      // Every chat ever linked (a re-link leaves the old chat's mappings naming this channel), and the one in
      // channel_metadata (channels linked before the index existed).
      const [everLinked, target] = await Promise.all([chatsEverLinked(channelId), getPurgeTarget(channelId)]);
      const chats = [...new Set([...everLinked, ...(target?.telegramChatId == null ? [] : [target.telegramChatId])])];
      await purgeTelegramMappings(channelId, chats, IDS_PER_PAGE, PURGE_CONCURRENCY);
      await purgeTelegramChannelState(channelId);
      return forgetChatsEverLinked(channelId);
    }
    case 'metadata':
      await forgetReplicatedMembers(channelId);
      return deleteChannelMetadata(channelId);
    case 'chat':
      return deleteChatRow(channelId);
    case 'messages':
      throw new Error('the message step is run by purgeMessages');
  }
}

/**
 * Purges a deleted channel, resuming from its checkpoint. `paused` when `shouldStop` stopped it (run it
 * again to continue); `not-deleted` for a channel PostgreSQL does not have marked deleted (never purged).
 */
export async function purgeChannel(channelId: string, options: PurgeOptions = {}): Promise<PurgeOutcome> {
  const shouldStop = options.shouldStop ?? (() => false);
  const state = await chatDeletionState(channelId);
  if (state === 'live') return 'not-deleted';
  const checkpoint = await readPurgeCheckpoint(channelId);
  if (state === 'absent' && !checkpoint) return 'purged'; // finished earlier (or never existed): nothing to do
  let index = checkpoint ? Math.max(0, STEPS.indexOf(checkpoint.step as Step)) : 0;
  log().info('channel purge: starting', { channelId, from: STEPS[index], cursor: checkpoint?.cursor ?? null });
  if (!checkpoint) await savePurgeCheckpoint(channelId, { step: 'messages', cursor: null });

  for (; index < STEPS.length; index++) {
    const step = STEPS[index]!;
    if (shouldStop()) return 'paused';
    if (step === 'messages') {
      const cursor = checkpoint?.step === 'messages' ? checkpoint.cursor : null;
      if (!(await purgeMessages(channelId, cursor, options.pageSize ?? IDS_PER_PAGE, shouldStop))) return 'paused';
    } else {
      await runStep(channelId, step);
    }
    const next = STEPS[index + 1];
    if (next) await savePurgeCheckpoint(channelId, { step: next, cursor: null });
    countMetric(METRIC.channelPurgeStep);
    log().info('channel purge: step done', { channelId, step });
  }
  await clearPurgeCheckpoint(channelId);
  countMetric(METRIC.channelPurged);
  log().info('channel purge: done', { channelId });
  return 'purged';
}

/** Purges running in this process (local mode), by channel, so a shutdown or a test can wait for them. */
const running = new Map<string, Promise<unknown>>();

export function purgesInProgress(): Promise<unknown> {
  return Promise.allSettled([...running.values()]);
}

/** Runs the purge here in the background after `delayMs`, unless this process is already purging the channel. */
function purgeInBackground(channelId: string, delayMs: number): void {
  if (running.has(channelId)) return;
  const purge = new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref())
    .then(() => purgeChannel(channelId))
    .catch((error: unknown) => log().error('channel purge failed; the reconciler sweep resumes it', { channelId, error: (error as Error).message }))
    .finally(() => running.delete(channelId));
  running.set(channelId, purge);
}

/**
 * Step one of a delete, before the channel is marked: with a queue, the request is sent now (delivered after
 * the queue's delay), so a failure leaves the channel untouched and the client's retry sends again (a request
 * that arrives before the mark is retried by the queue). Returns what to do once the mark is written:
 * locally, schedule the purge here after PURGE_DELAY_SECONDS.
 */
export async function requestPurge(channelId: string): Promise<() => void> {
  const config = getConfig();
  if (config.purgeQueueUrl) {
    await sendPurgeRequest(config.purgeQueueUrl, channelId);
    return () => undefined;
  }
  return () => purgeInBackground(channelId, config.purgeDelaySeconds * 1000);
}

/**
 * Runs the purge of one queue message; throws when the queue should deliver it again (not marked deleted
 * yet, or a failure). A purge stopped near the timeout sends its continuation, a fresh message delivered at
 * once, and counts as done: pausing must not use up the message's deliveries (maxReceiveCount) while the
 * purge is making progress.
 */
export async function purgeFromQueue(channelId: string, options: PurgeOptions): Promise<PurgeOutcome> {
  const outcome = await purgeChannel(channelId, options);
  if (outcome === 'not-deleted') {
    countMetric(METRIC.channelPurgeRetried);
    throw new ChannelNotDeletedError(`channel ${channelId} is not marked deleted (yet): retried by the queue`);
  }
  if (outcome === 'paused') {
    countMetric(METRIC.channelPurgeRetried);
    const queueUrl = getConfig().purgeQueueUrl;
    if (!queueUrl) throw new Error('a paused purge has no queue to continue on (PURGE_QUEUE_URL unset): retried by the queue');
    await sendPurgeRequest(queueUrl, channelId, 0);
    log().info('channel purge: paused, continuation sent', { channelId });
  }
  return outcome;
}

/**
 * The reconciler's sweep of one deleted channel whose purge stalled: with a queue, a fresh request (no
 * delay: the delete's is long past); locally, the purge itself, here, within the caller's budget.
 */
export async function resumePurge(channelId: string, shouldStop: () => boolean): Promise<PurgeOutcome | 'requested' | 'running'> {
  const queueUrl = getConfig().purgeQueueUrl;
  if (queueUrl) {
    await sendPurgeRequest(queueUrl, channelId, 0);
    return 'requested';
  }
  if (running.has(channelId)) return 'running';
  const purge = purgeChannel(channelId, { shouldStop });
  running.set(channelId, purge);
  try {
    return await purge;
  } finally {
    running.delete(channelId);
  }
}
