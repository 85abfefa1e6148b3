/**
 * The changes feed: recording a change with the state change it describes, and reading a channel's changes
 * after a cursor, exactly once and never skipping one (the argument is in the README, "The changes feed").
 *
 * Writers stamp a change with a Snowflake from their own clock just before writing it, and give up on the write
 * after the write deadline. A reader returns only changes up to its head, `settle` behind its own clock, where
 * settle = the largest clock difference between containers + the write deadline: a change not yet visible to a
 * read was stamped after that read's head, so the cursor never passes it.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { changeDay, decodeCursor, encodeCursor, EVERYONE, toChangeView, type ChangeDraft, type ChangeRecord, type ChangeView } from '../changes/model.js';
import { deleteOutbox, enqueueOutbox, repointOutbox, staleOutbox } from '../changes/outbox-store.js';
import { changesInPartition, changeStatement } from '../changes/store.js';
import { getConfig } from '../config.js';
import { GoneError, InvalidRequestError } from '../errors.js';
import { encodeSnowflake, MAX_SEQUENCE, MAX_WORKER_ID, snowflakeTime } from '../ids/snowflake.js';
import { nextMessageId } from '../ids/worker-lease.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { pgQuery, withPostgresTransaction, type PgQuery } from '../postgres/pool.js';
import { publishChange } from './publish.js';
import { reactionCount } from '../reactions/store.js';
import { mapConcurrently, writeAtomically, type Statement } from '../scylla/execute.js';

/** Rows live 30 days (the table's TTL); a cursor this old may already have lost changes after it. */
export const RETENTION_MS = 30 * 86_400_000;
/**
 * A cursor is served while the changes after it are all still kept: a change's TTL runs from its write, at
 * least its id's time less the clock skew, so cursors within a minute of the retention are refused as well.
 */
const RETENTION_MARGIN_MS = 60_000;
/** A cursor from a clock ahead by more than this did not come from this feed. */
const FUTURE_TOLERANCE_MS = 60_000;
/** Day partitions read side by side while catching up over quiet days (two statements each). */
const DAYS_AT_ONCE = 4;

export function settleMs(): number {
  const { clockSkewMs, writeDeadlineMs } = getConfig().changes;
  return clockSkewMs + writeDeadlineMs;
}

/** The highest position stamped at or before `unixMs`: every id of that millisecond is at or below it. */
function lastPositionAt(unixMs: number): bigint {
  return encodeSnowflake(unixMs, MAX_WORKER_ID, MAX_SEQUENCE);
}

/**
 * Writes `draft` with `write`, which must write the given statement in the same logical write as the state
 * change (a logged batch) or, for a state change that cannot share one, right after it. The id is minted here,
 * just before the write, unless the caller passes one it minted moments ago (a message's own id). A write
 * acknowledged later than the deadline after its id's time may have been passed over by a follower: it is
 * counted (ChangeLateWrite, alarmed), logged, and written again under a fresh id (returned). Once
 * acknowledged, it is published for push.
 */
export async function commitWithChange(
  draft: ChangeDraft,
  write: (statement: Statement, deadlineMs: number) => Promise<unknown>,
  id?: bigint,
): Promise<ChangeRecord> {
  const change: ChangeRecord = { ...draft, id: id ?? (await nextMessageId()) };
  const { writeDeadlineMs } = getConfig().changes;
  const spent = Date.now() - snowflakeTime(change.id);
  await write(changeStatement(change), Math.max(1, writeDeadlineMs - spent));
  const elapsed = Date.now() - snowflakeTime(change.id);
  countMetric(METRIC.changeRecorded);
  publishChange(change);
  if (elapsed > writeDeadlineMs) {
    countMetric(METRIC.changeLateWrite);
    log().warn('change acknowledged after the write deadline: a follower may have passed it; recorded again', {
      channelId: change.channelId,
      type: change.type,
      changeId: change.id.toString(),
      elapsedMs: elapsed,
      writeDeadlineMs,
    });
    // A follower may be past its id: the change is written again under a fresh one. Followers that saw the
    // first see it twice (changes are states; a repeat is harmless), none misses it. Once, even if late again.
    const again: ChangeRecord = { ...change, id: await nextMessageId() };
    await writeAtomically([changeStatement(again)]);
    publishChange(again);
    return again;
  }
  return change;
}

/** The write of a change that shares no batch: the change row alone, within what is left of the deadline. */
const writeAlone = (statement: Statement, deadlineMs: number) => writeAtomically([statement], { readTimeout: deadlineMs });

/**
 * Records a change on its own, right after a state change that could not share its write (a conditional
 * write). If the feed write fails (Scylla failing between the two statements), the change is parked in
 * PostgreSQL's change_outbox for the reconciler to relay (see relayOutbox) rather than lost: the state change
 * has happened and a retry would find it done and record nothing. Only when both stores fail is it lost
 * (logged, counted as ChangeLost) and the error thrown.
 */
export async function recordChange(draft: ChangeDraft, complete?: () => Promise<Record<string, unknown>>): Promise<ChangeRecord> {
  let change: ChangeRecord = { ...draft, id: 0n };
  try {
    if (complete) change = { ...change, body: { ...change.body, ...(await complete()) } };
    // Minted after the count read, just before the write: the deadline is the write's alone.
    change = { ...change, id: await nextMessageId() };
    return await commitWithChange(change, writeAlone, change.id);
  } catch (error) {
    try {
      // The failed write's outcome is unknown (it may still land, late, behind followers): parked under an id
      // never written, so the relay writes it again rather than trusting a late row. A repeat is harmless.
      change = { ...change, id: await nextMessageId() };
      await enqueueOutbox(pgQuery, change);
      countMetric(METRIC.changeParked);
      log().warn('change parked in the outbox for the reconciler', { channelId: change.channelId, type: change.type, error: error as Error });
      return change;
    } catch {
      countMetric(METRIC.changeLost);
      log().error('change lost: neither the feed nor the outbox took it', { channelId: change.channelId, type: change.type, body: change.body });
      throw error;
    }
  }
}

/** How long an outbox entry waits for its own request before the reconciler relays it. */
export const OUTBOX_GRACE_MS = 60_000;

/**
 * A change of state PostgreSQL holds (members, a channel's name, link or deletion). Its id is minted first;
 * `stateChange` runs in a transaction, and when `changed` says it changed something the change goes into
 * change_outbox in the same transaction: the state and its change commit together. Then the change is written
 * to channel_changes under that id and the outbox row deleted. If that fails (Scylla down, a crash), or the
 * transaction took so long that the id would land behind followers, the row stays and the reconciler relays it
 * (relayOutbox). Returns what `stateChange` returned.
 */
export async function commitWithPostgresChange<T>(
  draft: ChangeDraft,
  stateChange: (query: PgQuery) => Promise<T>,
  changed: (result: T) => boolean,
): Promise<T> {
  const change: ChangeRecord = { ...draft, id: await nextMessageId() };
  const { result, outboxId } = await withPostgresTransaction(async (query) => {
    const result = await stateChange(query);
    return { result, outboxId: changed(result) ? await enqueueOutbox(query, change) : undefined };
  });
  if (outboxId !== undefined && isFreshId(change.id)) {
    try {
      await commitWithChange(change, writeAlone, change.id);
      await deleteOutbox(outboxId);
    } catch (error) {
      // The state change is committed; its change is not lost, only later (the reconciler's next run). The
      // write's outcome is unknown, so the row is pointed at an id never written: the relay then writes the
      // change again instead of trusting a row that may have landed late, behind followers.
      log().warn('change left in the outbox for the reconciler', { channelId: change.channelId, type: change.type, error: error as Error });
      await repointOutbox(outboxId, await nextMessageId()).catch(() => undefined);
    }
  }
  return result;
}

/**
 * The reconciler's relay: outbox entries whose request did not finish them. One already in channel_changes
 * (its request died between the write and the delete) is only deleted; any other is written under a fresh id
 * (its own is too old: followers may be past it), then deleted. Stops at `limit` or when `stop` says so.
 */
export async function relayOutbox(limit: number, stop: () => boolean): Promise<{ relayed: number; alreadyRecorded: number }> {
  const report = { relayed: 0, alreadyRecorded: 0 };
  for (const { outboxId, change } of await staleOutbox(OUTBOX_GRACE_MS, limit)) {
    if (stop()) break;
    const present = await changesInPartition(change.channelId, changeDay(change.id), change.audience, change.id - 1n, change.id, 1);
    if (present.length > 0) report.alreadyRecorded += 1;
    else {
      // A reaction change parked before its count was read gets the count as it is now.
      const needsCount = change.type.startsWith('reaction.') && change.body.count === undefined;
      const { message_id: messageId, emoji } = change.body as { message_id: string; emoji: string };
      await recordChange(
        { channelId: change.channelId, type: change.type, audience: change.audience, body: change.body },
        needsCount ? async () => ({ count: await reactionCount(change.channelId, BigInt(messageId), emoji) }) : undefined,
      );
      report.relayed += 1;
    }
    await deleteOutbox(outboxId);
  }
  return report;
}

/** A whole message's id may serve as its creation's change id while it is fresh (see createMessage). */
export function isFreshId(id: bigint): boolean {
  return Date.now() - snowflakeTime(id) < getConfig().changes.writeDeadlineMs / 2;
}

/** The everyone-partition and the reader's own partition of one day, merged in id order. */
async function changesOfDay(channelId: string, userId: string, day: number, after: bigint, upTo: bigint, limit: number): Promise<ChangeRecord[]> {
  const [shared, own] = await Promise.all([
    changesInPartition(channelId, day, EVERYONE, after, upTo, limit),
    userId === EVERYONE ? [] : changesInPartition(channelId, day, userId, after, upTo, limit),
  ]);
  return [...shared, ...own].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Up to `want` changes with after < id <= upTo, oldest first, walking the day partitions in order. */
async function changesBetween(channelId: string, userId: string, after: bigint, upTo: bigint, want: number): Promise<ChangeRecord[]> {
  const found: ChangeRecord[] = [];
  const lastDay = changeDay(upTo);
  for (let day = changeDay(after); day <= lastDay && found.length < want; day += DAYS_AT_ONCE) {
    const days = Array.from({ length: Math.min(DAYS_AT_ONCE, lastDay - day + 1) }, (_, i) => day + i);
    const pages = await mapConcurrently(days, DAYS_AT_ONCE, (d) => changesOfDay(channelId, userId, d, after, upTo, want - found.length));
    for (const page of pages) found.push(...page);
  }
  return found.slice(0, want);
}

export interface ChangesPage {
  changes: ChangeView[];
  next_cursor: string;
  has_more: boolean;
}

/**
 * A page of the channel's changes after `after`, oldest first, as the caller sees them (everyone's, and their
 * own read position's). Without `after`: none, and the head as `next_cursor`. `now` is the reader's clock.
 */
export async function listChanges(
  principal: Principal,
  channelId: string,
  input: { after?: string | undefined; limit: number },
  now: () => number = Date.now,
): Promise<ChangesPage> {
  let after: bigint | undefined;
  if (input.after !== undefined) {
    after = decodeCursor(input.after);
    if (after === undefined) throw new InvalidRequestError('after: not a cursor of this feed', 'invalid_cursor');
  }
  await authorizeChannel(principal, channelId);
  const at = now();
  const head = lastPositionAt(at - settleMs());
  if (after === undefined) return { changes: [], next_cursor: encodeCursor(head), has_more: false };
  if (snowflakeTime(after) > at + FUTURE_TOLERANCE_MS) throw new InvalidRequestError('after: not a cursor of this feed', 'invalid_cursor');
  if (snowflakeTime(after) < at - RETENTION_MS + RETENTION_MARGIN_MS) {
    throw new GoneError('after: changes are kept 30 days and this cursor is older; reload the channel and follow the feed from its head', 'cursor_expired');
  }
  if (after >= head) return { changes: [], next_cursor: encodeCursor(after), has_more: false };
  const userId = principal.isService ? EVERYONE : principal.userId;
  const found = await changesBetween(channelId, userId, after, head, input.limit + 1);
  const page = found.slice(0, input.limit);
  const hasMore = found.length > input.limit;
  return {
    changes: page.map(toChangeView),
    // A full page ends at its last change; a short one has seen everything up to the head.
    next_cursor: encodeCursor(hasMore ? page.at(-1)!.id : head),
    has_more: hasMore,
  };
}
