/**
 * The changes feed's promise, as a property over a real Cassandra node: with writer clocks up to 1 s apart from
 * each other and from the reader, and every write acknowledged within the write deadline after its id's time,
 * a follower that keeps following `next_cursor` sees every acknowledged change exactly once, in id order (README,
 * "The changes feed").
 *
 * The harness: concurrent writers, each with its own SnowflakeGenerator (a fixed worker id, 900 and up) on a
 * clock offset from the real one, mint an id, wait a random "slow write" delay below the deadline (a GC pause,
 * queueing), then write the change row with the feed's own statement (`changeStatement` through
 * `writeAtomically`, with the deadline left as its timeout, as `recordChange` does). A follower, on its own
 * offset clock, polls `listChanges` all along with a small page limit, following `next_cursor`, until its head
 * has passed every id written. In the first test every clock is moved by the same amount so that the run
 * straddles a UTC midnight, the feed's day partitions changing under the follower. One more writer, the
 * laggard, is the worst adversary the claim allows: its clock is the furthest behind and it writes each change
 * the moment the follower's cursor has passed its id; with a sound settle window it can never do so within its
 * deadline. The teeth tests run the same harness with the reader's settle window too short and must see skips
 * (the laggard's, by construction), so the first can fail.
 *
 * Size: short by default (well under the test timeout); `CHANGES_PROPERTY_LONG=1` (npm run test:changes-long)
 * runs more writers for minutes. The schedule (clock offsets, delays, audiences, poll gaps) comes from a seed,
 * printed with every run and with any failure; `CHANGES_PROPERTY_SEED=<n>` replays it (the store's timing is
 * real, so a replay repeats the schedule, not every interleaving).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../lib/auth/principal.js';
import { changeDay, decodeCursor, EVERYONE, type ChangeRecord, type ChangeType } from '../../lib/changes/model.js';
import { changeStatement } from '../../lib/changes/store.js';
import { loadConfig } from '../../lib/config.js';
import { SnowflakeGenerator, snowflakeTime, type Clock } from '../../lib/ids/snowflake.js';
import { writeAtomically } from '../../lib/scylla/execute.js';
import { listChanges, settleMs } from '../../lib/use-cases/changes.js';
import { createChannel } from '../../lib/use-cases/channels.js';

const LONG = process.env.CHANGES_PROPERTY_LONG === '1';
const SEED = process.env.CHANGES_PROPERTY_SEED ? Number(process.env.CHANGES_PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(SEED)) throw new Error(`CHANGES_PROPERTY_SEED must be an integer, got '${process.env.CHANGES_PROPERTY_SEED}'`);

/** The largest offset of any clock from the real one: any two clocks differ by up to twice this (1 s). */
const MAX_OFFSET_MS = 500;
/** The writers' deadline in both tests: every write is acknowledged within it of its id's time (or counted late). */
const WRITE_DEADLINE_MS = 500;
/**
 * Worker ids for the test's generators. Leased ids range over 0–1022, so another process may mint with one of
 * these too; its ids then land in other channels' partitions, never in this test's fresh channel.
 */
const FIRST_WORKER_ID = 900;
const PAGE_LIMIT = 7;
const DAY_MS = 86_400_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** mulberry32: a small seeded generator, so a schedule can be replayed from its seed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (random: () => number, low: number, high: number) => low + random() * (high - low);

function offsetClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs, sleep };
}

/** Sets the reader's settle window (CHANGES_CLOCK_SKEW_MS + CHANGES_WRITE_DEADLINE_MS) for the duration of `fn`. */
async function withReaderSettle<T>(settings: { clockSkewMs: number; writeDeadlineMs: number }, fn: () => Promise<T>): Promise<T> {
  const saved = { skew: process.env.CHANGES_CLOCK_SKEW_MS, deadline: process.env.CHANGES_WRITE_DEADLINE_MS };
  process.env.CHANGES_CLOCK_SKEW_MS = String(settings.clockSkewMs);
  process.env.CHANGES_WRITE_DEADLINE_MS = String(settings.writeDeadlineMs);
  loadConfig();
  try {
    return await fn();
  } finally {
    restore('CHANGES_CLOCK_SKEW_MS', saved.skew);
    restore('CHANGES_WRITE_DEADLINE_MS', saved.deadline);
    loadConfig();
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

interface ScenarioOptions {
  seed: number;
  writers: number;
  /** How long the writers keep minting and writing. */
  writeForMs: number;
  /** The follower's clock offset; drawn from the seed when not given. */
  followerOffset?: number;
  /**
   * Moves every clock (writers' and follower's) by the same amount so that the middle of the writing window
   * falls on a UTC midnight: the feed's day partitions change under the follower's feet. The clocks' differences,
   * which are what the claim is about, stay the same.
   */
  crossMidnight?: boolean;
  /** The follower now and then pauses (300–1500 ms) and catches up through full pages; default on. */
  followerPauses?: boolean;
}

interface Written {
  change: ChangeRecord;
  writer: number;
  outcome: 'pending' | 'timely' | 'late' | 'failed';
  elapsedMs?: number;
}

interface Report {
  summary: string;
  /** Every change a write was attempted for, by id. */
  attempted: Map<bigint, Written>;
  /** Ids the follower saw, in the order it saw them. */
  seen: bigint[];
  /** Acknowledged within the deadline and for the follower's eyes: what the claim says the follower must see. */
  mustSee: Set<bigint>;
  /** Violations found while following (order, cursor monotonicity, unknown or foreign changes). */
  violations: string[];
  /** The laggard's changes (see the file's comment). */
  laggardIds: Set<bigint>;
  /** Pages that said has_more: the follower caught up through paging. */
  fullPages: number;
  /** Day partitions the seen changes came from. */
  days: number;
}

/**
 * One run: a fresh channel, `writers` writers for `writeForMs`, the follower polling from the head before the
 * first write until its head passes the last id written.
 */
async function runScenario(options: ScenarioOptions): Promise<Report> {
  const random = rng(options.seed);
  const follower: Principal = { userId: randomUUID(), isService: false };
  const stranger = randomUUID();
  const channelId = (await createChannel(follower, { name: `changes property ${options.seed}` })).id;

  const writerOffsets = Array.from({ length: options.writers }, () => Math.round(between(random, -MAX_OFFSET_MS, MAX_OFFSET_MS)));
  // The worst pair the claim allows is a writer far behind and a reader far ahead: always include the writers'
  // extremes, and the follower's half the time.
  writerOffsets[0] = -MAX_OFFSET_MS;
  if (options.writers > 1) writerOffsets[1] = MAX_OFFSET_MS;
  // The laggard: one more writer, its clock as far behind as allowed.
  const laggardIndex = writerOffsets.push(-MAX_OFFSET_MS) - 1;
  const drawnFollowerOffset = random() < 0.5 ? MAX_OFFSET_MS : Math.round(between(random, -MAX_OFFSET_MS, MAX_OFFSET_MS));
  const followerOffset = options.followerOffset ?? drawnFollowerOffset;
  const middle = Date.now() + options.writeForMs / 2;
  const shift = options.crossMidnight ? Math.ceil(middle / DAY_MS) * DAY_MS - middle : 0;
  const followerClock = offsetClock(shift + followerOffset);
  const pollGapSeed = Math.floor(random() * 2 ** 31);
  const writerSeeds = writerOffsets.map(() => Math.floor(random() * 2 ** 31));

  const attempted = new Map<bigint, Written>();
  const seen: bigint[] = [];
  const seenSet = new Set<bigint>();
  const violations: string[] = [];
  const laggardIds = new Set<bigint>();
  let polls = 0;
  let pages = 0;
  let fullPages = 0;

  // The laggard's waits: each resolves once the follower's cursor, after a poll that had nothing more, is at or
  // past the id.
  const waiters: { id: bigint; resolve: () => void }[] = [];
  const cursorMoved = (position: bigint) => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.id <= position) {
        waiters[i]!.resolve();
        waiters.splice(i, 1);
      }
    }
  };
  const cursorPassed = (id: bigint) => new Promise<void>((resolve) => waiters.push({ id, resolve }));

  /** When the last writer finished (real time), and the highest id any writer minted. */
  const progress: { writersDoneAt?: number; maxAttempted: bigint } = { maxAttempted: 0n };

  const readerNow = () => followerClock.now();
  // The follower starts at the head, before the first id is minted.
  const start = await listChanges(follower, channelId, { limit: PAGE_LIMIT }, readerNow);
  const follow = async () => {
    const pollRandom = rng(pollGapSeed);
    let cursor = start.next_cursor;
    let position = decodeCursor(cursor)!;
    let lastSeen = position;
    for (;;) {
      const startedAt = Date.now();
      const page = await listChanges(follower, channelId, { after: cursor, limit: PAGE_LIMIT }, readerNow);
      pages += 1;
      if (page.has_more) fullPages += 1;
      for (const view of page.changes) {
        const id = decodeCursor(view.cursor);
        if (id === undefined) {
          violations.push(`undecodable change cursor ${view.cursor}`);
          continue;
        }
        if (seenSet.has(id)) violations.push(`change ${id} seen twice`);
        if (id <= lastSeen) violations.push(`change ${id} seen after ${lastSeen}: not strictly increasing`);
        if (id <= position) violations.push(`change ${id} returned after cursor position ${position}`);
        const written = attempted.get(id);
        if (!written) violations.push(`change ${id} seen but never written`);
        else {
          const { change } = written;
          if (change.audience !== EVERYONE && change.audience !== follower.userId) violations.push(`change ${id} for another user's eyes was seen`);
          const expected = { type: change.type, channel_id: channelId, ...change.body };
          const actual = { type: view.type, channel_id: view.channel_id, writer: view.writer, n: view.n };
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            violations.push(`change ${id} read back as ${JSON.stringify(actual)}, written ${JSON.stringify(expected)}`);
          }
        }
        seenSet.add(id);
        seen.push(id);
        lastSeen = id;
      }
      const next = decodeCursor(page.next_cursor);
      if (next === undefined || next < position) violations.push(`next_cursor ${page.next_cursor} went back from ${position}`);
      else if (next < lastSeen) violations.push(`next_cursor ${next} is before the last change returned ${lastSeen}`);
      else position = next;
      cursor = page.next_cursor;
      if (page.has_more) continue;
      polls += 1;
      cursorMoved(position);
      const { writersDoneAt, maxAttempted } = progress;
      if (writersDoneAt !== undefined && startedAt > writersDoneAt && position >= maxAttempted) return;
      if (writersDoneAt !== undefined && Date.now() - writersDoneAt > settleMs() + 2 * MAX_OFFSET_MS + 15_000) {
        violations.push(`the follower's head never passed the last id written (${maxAttempted}, cursor at ${position})`);
        return;
      }
      // Mostly a quick poll again; now and then a pause (a slow client, a reconnect), so that changes pile up
      // and the follower catches up through full pages.
      const pause = options.followerPauses !== false && pollRandom() < 0.1;
      await sleep(!pause ? Math.floor(pollRandom() * 25) : Math.floor(between(pollRandom, 300, 1500)));
    }
  };

  const write = async (index: number) => {
    const random = rng(writerSeeds[index]!);
    const clock = offsetClock(shift + writerOffsets[index]!);
    const workerId = FIRST_WORKER_ID + index;
    const generator = new SnowflakeGenerator(() => Promise.resolve(workerId), clock);
    const laggard = index === laggardIndex;
    const endAt = Date.now() + options.writeForMs;
    for (let n = 0; Date.now() < endAt; n++) {
      const id = await generator.next();
      const roll = random();
      // Mostly everyone's changes; some for the follower alone (its read positions, a second partition it
      // merges), some for another member alone (the follower must never see them).
      const audience = roll < 0.7 ? EVERYONE : roll < 0.9 ? follower.userId : stranger;
      const type: ChangeType = audience === EVERYONE ? 'message.created' : 'read_position.updated';
      const change: ChangeRecord = { id, channelId, type, audience, body: { writer: index, n } };
      const written: Written = { change, writer: index, outcome: 'pending' };
      attempted.set(id, written);
      if (id > progress.maxAttempted) progress.maxAttempted = id;
      if (laggard) laggardIds.add(id);
      // Slow writes: a quarter at once (bursts, same-millisecond ids), a quarter close to the limit, the rest
      // anywhere below it; all under 80 % of the deadline, leaving the rest for the write itself. The laggard
      // instead waits until the follower's cursor has passed the id.
      const shape = random();
      const delay = shape < 0.25 ? 0 : shape < 0.5 ? between(random, 0.7, 0.8) * WRITE_DEADLINE_MS : between(random, 0, 0.8) * WRITE_DEADLINE_MS;
      if (laggard) await cursorPassed(id);
      else if (delay > 0) await sleep(delay);
      const spent = clock.now() - snowflakeTime(id);
      try {
        await writeAtomically([changeStatement(change)], { readTimeout: Math.max(1, WRITE_DEADLINE_MS - spent) });
        written.elapsedMs = clock.now() - snowflakeTime(id);
        written.outcome = written.elapsedMs <= WRITE_DEADLINE_MS ? 'timely' : 'late';
      } catch {
        // Not acknowledged: the claim says nothing about it (it may or may not be seen).
        written.outcome = 'failed';
      }
    }
  };

  const started = Date.now();
  const following = follow();
  await Promise.all(writerOffsets.map((_, index) => write(index)));
  progress.writersDoneAt = Date.now();
  await following;

  const mustSee = new Set<bigint>();
  const counts = { timely: 0, late: 0, failed: 0, pending: 0 };
  for (const [id, written] of attempted) {
    counts[written.outcome] += 1;
    if (written.outcome === 'timely' && written.change.audience !== stranger) mustSee.add(id);
  }
  const skipped = [...mustSee].filter((id) => !seenSet.has(id)).length;
  const laggardInTime = [...laggardIds].filter((id) => attempted.get(id)?.outcome === 'timely').length;
  const days = new Set(seen.map(changeDay)).size;
  const moved = shift ? ` (clocks moved ${(shift / 3_600_000).toFixed(2)} h ahead, across a UTC midnight)` : '';
  const seenExtra = seen.filter((id) => !mustSee.has(id)).length;
  const summary =
    `seed ${options.seed}${moved}: ${options.writers} writers and the laggard (offsets ${writerOffsets.join(', ')} ms), ` +
    `follower offset ${followerOffset} ms, reader settle ${settleMs()} ms; ` +
    `${attempted.size} writes (${counts.timely} timely, ${counts.late} late, ${counts.failed} failed), ` +
    `${mustSee.size} due to the follower, ${seen.length} seen (${seenExtra} of them late or failed), ${skipped} skipped; ` +
    `the laggard ${laggardIds.size} writes, ${laggardInTime} in time; ` +
    `${polls} polls, ${pages} pages (${fullPages} full), ${days} day partitions; ${((Date.now() - started) / 1000).toFixed(1)} s`;
  console.log(`changes-feed property: ${summary}`);
  return { summary, attempted, seen, mustSee, violations, laggardIds, fullPages, days };
}

/** Runs `check`, naming the seed to replay in any failure. */
async function replayable(seed: number, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (error instanceof Error) error.message += `\n(replay with CHANGES_PROPERTY_SEED=${seed})`;
    throw error;
  }
}

const PROPERTY = LONG ? { writers: 16, writeForMs: 180_000, timeout: 300_000 } : { writers: 8, writeForMs: 5_000, timeout: 30_000 };
const TEETH = LONG ? { writers: 8, writeForMs: 20_000, timeout: 60_000 } : { writers: 6, writeForMs: 2_000, timeout: 30_000 };

describe('changes feed: never skips, never repeats', () => {
  afterAll(() => {
    console.log(`changes-feed property: seed ${SEED} (replay with CHANGES_PROPERTY_SEED=${SEED})`);
  });

  it(
    'a follower sees every change acknowledged within the deadline exactly once, in order, with clocks 1 s apart, across a UTC midnight',
    async () => {
      await replayable(SEED, () =>
        withReaderSettle({ clockSkewMs: 2 * MAX_OFFSET_MS, writeDeadlineMs: WRITE_DEADLINE_MS }, async () => {
          const report = await runScenario({ seed: SEED, ...PROPERTY, crossMidnight: true });
          expect(report.violations, report.summary).toEqual([]);
          const seen = new Set(report.seen);
          expect(seen.size, `${report.summary}: an id was seen twice`).toBe(report.seen.length);
          const skipped = [...report.mustSee].filter((id) => !seen.has(id));
          expect(skipped.map(String), `${report.summary}: acknowledged changes never seen`).toEqual([]);
          // The run says something: most writes met the deadline and the follower saw them.
          expect(report.mustSee.size, report.summary).toBeGreaterThan(report.attempted.size / 3);
          expect(report.fullPages, `${report.summary}: paging was never exercised`).toBeGreaterThan(0);
          expect(report.days, `${report.summary}: the run did not cross a day partition`).toBe(2);
          // The worst writer the claim allows could not get a change passed over within its deadline.
          expect(report.laggardIds.size, report.summary).toBeGreaterThan(0);
          expect([...report.laggardIds].filter((id) => report.mustSee.has(id)).map(String), `${report.summary}: laggard acknowledged in time`).toEqual([]);
        }),
      );
    },
    PROPERTY.timeout,
  );

  /**
   * The same harness with the reader's settle window too short must see skips. The laggard makes them certain:
   * with the follower's clock 500 ms ahead (1 s from the laggard's), the cursor passes each of its ids well within
   * the deadline, and the laggard writes the change right then: acknowledged in time, and never seen.
   */
  function expectSkips(report: Report): void {
    const seen = new Set(report.seen);
    const laggardDue = [...report.laggardIds].filter((id) => report.mustSee.has(id));
    expect(laggardDue.length, `${report.summary}: the laggard acknowledged nothing in time`).toBeGreaterThan(0);
    expect(laggardDue.filter((id) => seen.has(id)).map(String), `${report.summary}: laggard changes seen`).toEqual([]);
    // Skipping is the only thing a short settle breaks: no repeats, order kept.
    expect(report.violations, report.summary).toEqual([]);
    expect(seen.size, report.summary).toBe(report.seen.length);
  }

  it(
    'has teeth: with the settle window shrunk below the clock skew (50 ms for 1 s), the same harness sees skips',
    async () => {
      const seed = (SEED ^ 0x5bd1e995) >>> 0;
      await replayable(SEED, () =>
        withReaderSettle({ clockSkewMs: 0, writeDeadlineMs: 50 }, async () => {
          // No follower pauses: the laggard waits for the follower, and must still write within its deadline.
          expectSkips(await runScenario({ seed, ...TEETH, followerOffset: MAX_OFFSET_MS, followerPauses: false }));
        }),
      );
    },
    TEETH.timeout,
  );

  it(
    'has teeth at the margin: a settle window 400 ms short (1.1 s for 1 s skew + 500 ms deadline) already skips',
    async () => {
      const seed = (SEED ^ 0x27d4eb2f) >>> 0;
      await replayable(SEED, () =>
        withReaderSettle({ clockSkewMs: 2 * MAX_OFFSET_MS - 400, writeDeadlineMs: WRITE_DEADLINE_MS }, async () => {
          expectSkips(await runScenario({ seed, ...TEETH, followerOffset: MAX_OFFSET_MS, followerPauses: false }));
        }),
      );
    },
    TEETH.timeout,
  );
});
