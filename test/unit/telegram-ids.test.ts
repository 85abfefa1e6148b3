import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketOfTime,
  EPOCH_MS,
  MAX_SEQUENCE,
  snowflakeSequence,
  snowflakeTime,
  snowflakeWorker,
  SnowflakeGenerator,
  TELEGRAM_WORKER_ID,
  type Clock,
} from '../../lib/ids/snowflake.js';
import { isRepresentableDate, isRepresentableMessageId, MAX_TELEGRAM_MESSAGE_ID, TELEGRAM_FIRST_SEQUENCE, telegramSnowflake } from '../../lib/telegram/ids.js';

/** The largest id MTProto can carry (`message#… id:int`): every real Telegram message id is at most this. */
const MAX_INT32 = 2 ** 31 - 1;

/** Any storable date, leaving room for the three later seconds the order property adds. */
const dateSeconds = fc.integer({ min: EPOCH_MS / 1000, max: Math.floor((EPOCH_MS + 2 ** 41 - 1000) / 1000) - 3 });
/** Ids anywhere in the range, and ids next to the places where the encoding carries into the next field. */
const telegramId = fc.oneof(
  fc.integer({ min: 1, max: MAX_TELEGRAM_MESSAGE_ID }),
  fc.integer({ min: 1, max: 5000 }),
  fc.integer({ min: 0, max: 1000 }).chain((k) => fc.integer({ min: -2, max: 2 }).map((d) => k * 3072 + 1 + d)),
  fc.integer({ min: 0, max: 999 }).chain((k) => fc.integer({ min: -2, max: 2 }).map((d) => k * 1023 * 3072 + 1 + d)),
  fc.integer({ min: MAX_INT32 - 10, max: MAX_TELEGRAM_MESSAGE_ID }),
).filter((id) => id >= 1 && id <= MAX_TELEGRAM_MESSAGE_ID);

/** The cell an earlier encoding gave a Telegram message (kept in stored data): worker 1023, id mod 1000 as ms. */
function legacyTelegramId(date: number, id: number): { ms: number; worker: number; sequence: number } {
  return { ms: date * 1000 + (id % 1000), worker: TELEGRAM_WORKER_ID, sequence: Math.floor(id / 1000) % 4096 };
}

describe('telegramSnowflake', () => {
  it('keeps Telegram order across a multiple of 1,000 in one second (999 before 1000)', () => {
    const date = 1_800_000_000;
    expect(telegramSnowflake(date, 999) < telegramSnowflake(date, 1000)).toBe(true);
    expect(telegramSnowflake(date, 1000) < telegramSnowflake(date, 1001)).toBe(true);
    // The earlier encoding's other carry (id / 1000 mod 4096 wrapped at 4,096,000) and the largest int32 id.
    expect(telegramSnowflake(date, 4_095_999) < telegramSnowflake(date, 4_096_000)).toBe(true);
    expect(telegramSnowflake(date, MAX_INT32 - 1) < telegramSnowflake(date, MAX_INT32)).toBe(true);
    expect(telegramSnowflake(date, MAX_INT32) < telegramSnowflake(date + 1, 1)).toBe(true);
  });

  it('orders ids of one second by Telegram id, and ids of different seconds by date, for any ids', () => {
    fc.assert(
      fc.property(dateSeconds, fc.integer({ min: 0, max: 3 }), telegramId, telegramId, (date, later, a, b) => {
        const first = telegramSnowflake(date, a);
        const second = telegramSnowflake(date + later, b);
        if (later > 0) expect(first < second).toBe(true);
        else expect(first < second).toBe(a < b);
        expect(first === second).toBe(later === 0 && a === b);
      }),
      { numRuns: 5_000 },
    );
  });

  it('is a Snowflake of its date second and bucket, in cells no generator mints and no earlier Telegram id holds', () => {
    fc.assert(
      fc.property(dateSeconds, telegramId, (date, id) => {
        const snowflake = telegramSnowflake(date, id);
        expect(telegramSnowflake(date, id)).toBe(snowflake);
        expect(isRepresentableDate(date)).toBe(true);
        expect(snowflake > 0n).toBe(true);
        expect(Math.floor(snowflakeTime(snowflake) / 1000)).toBe(date);
        expect(bucketOf(snowflake)).toBe(bucketOfTime(date * 1000));
        expect(snowflakeSequence(snowflake)).toBeGreaterThanOrEqual(TELEGRAM_FIRST_SEQUENCE);
        expect(snowflakeWorker(snowflake)).toBeLessThan(TELEGRAM_WORKER_ID);
        expect(snowflakeWorker(snowflake)).not.toBe(legacyTelegramId(date, id).worker);
      }),
      { numRuns: 5_000 },
    );
  });

  it('holds every id MTProto can carry, and refuses what it cannot place', () => {
    expect(MAX_TELEGRAM_MESSAGE_ID).toBe(3_142_656_000);
    expect(MAX_TELEGRAM_MESSAGE_ID).toBeGreaterThan(MAX_INT32);
    expect(snowflakeTime(telegramSnowflake(1_800_000_000, MAX_TELEGRAM_MESSAGE_ID))).toBe(1_800_000_000_999);
    for (const bad of [0, -1, 1.5, MAX_TELEGRAM_MESSAGE_ID + 1, 2 ** 53, Number.NaN]) {
      expect(isRepresentableMessageId(bad), String(bad)).toBe(false);
      expect(() => telegramSnowflake(1_800_000_000, bad), String(bad)).toThrow(RangeError);
    }
    for (const good of [1, 999, 1000, MAX_INT32, MAX_TELEGRAM_MESSAGE_ID]) expect(isRepresentableMessageId(good)).toBe(true);
  });

  it('a generator never mints a sequence the Telegram ids use, however many ids one millisecond asks for', async () => {
    let now = EPOCH_MS + 9_000;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const generator = new SnowflakeGenerator(async () => 5, clock);
    for (let i = 0; i <= MAX_SEQUENCE; i++) {
      const id = await generator.next();
      expect(snowflakeSequence(id), `id ${i} of one millisecond`).toBeLessThan(TELEGRAM_FIRST_SEQUENCE);
    }
  });
});

describe('the sync state write timestamp', () => {
  it('never decreases with (date, id): message 1000 does not sort before 999', async () => {
    const { syncTimestampMicros } = await import('../../lib/telegram/sync-state-store.js');
    const base = 1_760_000_000_000;
    expect(syncTimestampMicros(base, 1000)).toBeGreaterThanOrEqual(syncTimestampMicros(base, 999));
    fc.assert(
      fc.property(dateSeconds, telegramId, telegramId, fc.integer({ min: 0, max: 2 }), (date, a, b, later) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(syncTimestampMicros((date + later) * 1000, high)).toBeGreaterThanOrEqual(syncTimestampMicros(date * 1000, low));
        if (later > 0) expect(syncTimestampMicros((date + later) * 1000, low)).toBeGreaterThan(syncTimestampMicros(date * 1000, high));
      }),
      { numRuns: 2000 },
    );
  });
});
