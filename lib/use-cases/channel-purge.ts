/**
 * The purge of a deleted channel: everything it left in the stores, step by step, resumable. The delete
 * route marks the channel deleted (404 everywhere from then on) and requests the purge; the request goes to
 * the SQS purge queue when PURGE_QUEUE_URL is set (the purge Lambda runs it), else it runs here in the
 * background (the local server). Both run `purgeChannel`.
 *
 * Steps, in order (each idempotent; the checkpoint names the step reached and, for messages, the last
 * bucket cleared): messages (per bucket: reactions of its messages, reply threads and counters, then the
 * bucket partition), the bucket index, pins, per-member rows (read positions, mentions), search rows,
 * Telegram (mappings still naming this channel, then its per-channel tables), channel_metadata and the
 * member replica, and last the PostgreSQL chat row (participants and templates cascade).
 */
import { chatDeletionState, clearPurgeCheckpoint, readPurgeCheckpoint, savePurgeCheckpoint } from '../channels/purge-store.js';
import { channelMemberIds, deleteChatRow } from '../channels/chat-store.js';
import { forgetReplicatedMembers, replicatedMemberIds } from '../channels/member-replica.js';
import { deleteChannelMetadata, getPurgeTarget } from '../channels/metadata-store.js';
import { sendPurgeRequest } from '../channels/purge-queue.js';
export { parsePurgeRequest } from '../channels/purge-queue.js';
import { getConfig } from '../config.js';
import { log } from '../log.js';
import { purgeMentions } from '../mentions/purge.js';
import { bucketsBelow, messageIdPages, purgeBucket, purgeBucketIndex } from '../messages/purge.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { purgePins } from '../pins/purge.js';
import { purgeReactions } from '../reactions/purge.js';
import { deletePositions } from '../read-positions/store.js';
import { purgeSearchRows } from '../search/purge.js';
import { purgeTelegramChannelState, purgeTelegramMappings } from '../telegram/purge.js';

const STEPS = ['messages', 'bucket-index', 'pins', 'member-rows', 'search', 'telegram', 'metadata', 'chat'] as const;
type Step = (typeof STEPS)[number];

const BUCKETS_PER_READ = 50;
const IDS_PER_PAGE = 500;
const SEARCH_ROWS_PER_DELETE = 5000;

export interface PurgeOptions {
  /** Asked between buckets and steps: true stops the purge at the last checkpoint (a Lambda near its timeout). */
  shouldStop?: () => boolean;
}

export type PurgeOutcome = 'purged' | 'paused' | 'not-deleted';

/** Raised when the purge of a channel not (yet) marked deleted is asked for: the queue retries it later. */
export class ChannelNotDeletedError extends Error {
  override name = 'ChannelNotDeletedError';
}

async function members(channelId: string): Promise<string[]> {
  const [participants, replica] = await Promise.all([channelMemberIds(channelId), replicatedMemberIds(channelId)]);
  return [...new Set([...participants, ...replica])];
}

/** Clears buckets from the checkpoint's cursor down; returns false when stopped before the last. */
async function purgeMessages(channelId: string, cursor: string | null, shouldStop: () => boolean): Promise<boolean> {
  let below = cursor ? Number(cursor) : null;
  for (;;) {
    const buckets = await bucketsBelow(channelId, below, BUCKETS_PER_READ);
    for (const bucket of buckets) {
      if (shouldStop()) return false;
      let reacted = 0;
      for await (const ids of messageIdPages(channelId, bucket, IDS_PER_PAGE)) reacted += await purgeReactions(channelId, ids);
      await purgeBucket(channelId, bucket);
      await savePurgeCheckpoint(channelId, { step: 'messages', cursor: String(bucket) });
      log().info('channel purge: bucket cleared', { channelId, bucket, reactedMessages: reacted });
      below = bucket;
    }
    if (buckets.length < BUCKETS_PER_READ) return true;
  }
}

async function runStep(channelId: string, step: Step, telegramChatId: number | null): Promise<void> {
  switch (step) {
    case 'bucket-index':
      return purgeBucketIndex(channelId);
    case 'pins':
      return purgePins(channelId);
    case 'member-rows': {
      const users = await members(channelId);
      await Promise.all([deletePositions(channelId, users), purgeMentions(channelId, users)]);
      return;
    }
    case 'search':
      while ((await purgeSearchRows(channelId, SEARCH_ROWS_PER_DELETE)) > 0);
      return;
    case 'telegram':
      if (telegramChatId !== null) await purgeTelegramMappings(channelId, telegramChatId, IDS_PER_PAGE);
      return purgeTelegramChannelState(channelId);
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
  // The Telegram chat is read before metadata goes; a resumed purge past that step no longer needs it.
  const telegramChatId = (await getPurgeTarget(channelId))?.telegramChatId ?? null;
  let index = checkpoint ? Math.max(0, STEPS.indexOf(checkpoint.step as Step)) : 0;
  log().info('channel purge: starting', { channelId, from: STEPS[index], cursor: checkpoint?.cursor ?? null });
  if (!checkpoint) await savePurgeCheckpoint(channelId, { step: 'messages', cursor: null });

  for (; index < STEPS.length; index++) {
    const step = STEPS[index]!;
    if (shouldStop()) return 'paused';
    if (step === 'messages') {
      const cursor = checkpoint?.step === 'messages' ? checkpoint.cursor || null : null;
      if (!(await purgeMessages(channelId, cursor, shouldStop))) return 'paused';
    } else {
      await runStep(channelId, step, telegramChatId);
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

/** Purges running in this process (local mode), so a shutdown or a test can wait for them. */
const running = new Set<Promise<unknown>>();

export function purgesInProgress(): Promise<unknown> {
  return Promise.allSettled([...running]);
}

/**
 * Step one of a delete, before the channel is marked: with a queue, the request is sent now, so a failure
 * leaves the channel untouched and the client's retry sends again (a request that arrives before the mark
 * is retried by the queue). Returns what to do once the mark is written: locally, start the purge here.
 */
export async function requestPurge(channelId: string): Promise<() => void> {
  const queueUrl = getConfig().purgeQueueUrl;
  if (queueUrl) {
    await sendPurgeRequest(queueUrl, channelId);
    return () => undefined;
  }
  return () => {
    const purge = purgeChannel(channelId)
      .catch((error: unknown) => log().error('channel purge failed; it resumes when requested again', { channelId, error: (error as Error).message }))
      .finally(() => running.delete(purge));
    running.add(purge);
  };
}

/** Runs the purge of one queue message; throws when the queue should deliver it again. */
export async function purgeFromQueue(channelId: string, options: PurgeOptions): Promise<PurgeOutcome> {
  const outcome = await purgeChannel(channelId, options);
  if (outcome === 'not-deleted') {
    countMetric(METRIC.channelPurgeRetried);
    throw new ChannelNotDeletedError(`channel ${channelId} is not marked deleted (yet): retried by the queue`);
  }
  if (outcome === 'paused') countMetric(METRIC.channelPurgeRetried);
  return outcome;
}
