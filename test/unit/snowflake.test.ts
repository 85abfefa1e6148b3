import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_MS,
  bucketOf,
  bucketOfTime,
  encodeSnowflake,
  EPOCH_MS,
  MAX_SEQUENCE,
  MAX_WORKER_ID,
  parseSnowflake,
  snowflakeSequence,
  snowflakeTime,
  snowflakeWorker,
  SnowflakeGenerator,
  type Clock,
} from '../../lib/ids/snowflake.js';

const time = fc.integer({ min: EPOCH_MS, max: EPOCH_MS + 2 ** 41 - 1 });
const worker = fc.integer({ min: 0, max: MAX_WORKER_ID });
const sequence = fc.integer({ min: 0, max: MAX_SEQUENCE });

/** A clock that reads the scripted values in turn (jumping back and forth); sleeping moves it forward. */
function scriptedClock(readings: number[]): Clock {
  let index = 0;
  let slept = 0;
  return {
    now: () => readings[Math.min(index++, readings.length - 1)]! + slept,
    sleep: async (ms: number) => {
      slept += ms;
    },
  };
}

describe('Snowflake ids', () => {
  it('round-trips time, worker and sequence', () => {
    fc.assert(
      fc.property(time, worker, sequence, (ms, w, s) => {
        const id = encodeSnowflake(ms, w, s);
        expect(snowflakeTime(id)).toBe(ms);
        expect(snowflakeWorker(id)).toBe(w);
        expect(snowflakeSequence(id)).toBe(s);
        if (id > 0n) expect(parseSnowflake(id.toString())).toBe(id);
      }),
      { numRuns: 5000 },
    );
  });

  it('orders ids by time first, whatever the worker and sequence', () => {
    fc.assert(
      fc.property(time, time, worker, worker, sequence, sequence, (t1, t2, w1, w2, s1, s2) => {
        fc.pre(t1 < t2);
        expect(encodeSnowflake(t1, w1, s1) < encodeSnowflake(t2, w2, s2)).toBe(true);
      }),
    );
  });

  it('puts an id in the 10-day bucket of its timestamp', () => {
    fc.assert(
      fc.property(time, worker, sequence, (ms, w, s) => {
        const bucket = bucketOf(encodeSnowflake(ms, w, s));
        expect(bucket).toBe(bucketOfTime(ms));
        expect(bucket).toBe(Math.floor((ms - EPOCH_MS) / BUCKET_MS));
      }),
    );
    expect(bucketOfTime(EPOCH_MS + BUCKET_MS - 1)).toBe(0);
    expect(bucketOfTime(EPOCH_MS + BUCKET_MS)).toBe(1);
  });

  it('refuses times whose id would not fit a signed 64-bit bigint', () => {
    expect(() => encodeSnowflake(EPOCH_MS + 2 ** 41, 0, 0)).toThrow(RangeError);
    expect(() => encodeSnowflake(EPOCH_MS - 1, 0, 0)).toThrow(RangeError);
    expect(encodeSnowflake(EPOCH_MS + 2 ** 41 - 1, MAX_WORKER_ID, MAX_SEQUENCE)).toBe(2n ** 63n - 1n);
  });

  it('parses only canonical positive 63-bit decimal strings', () => {
    expect(parseSnowflake('383424925834035200')).toBe(383424925834035200n);
    for (const bad of ['', '0', '-1', '01', '1.5', 'abc', ' 1', '9223372036854775808', '99999999999999999999']) {
      expect(parseSnowflake(bad), bad).toBeUndefined();
    }
    expect(parseSnowflake('9223372036854775807')).toBe(9223372036854775807n);
  });

  it('a generator mints strictly increasing ids under any clock, waiting out backward steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -50, max: 3 }), { minLength: 1, maxLength: 300 }), async (steps) => {
        const readings: number[] = [];
        let t = EPOCH_MS + 1_000_000;
        for (const step of steps) readings.push((t += step));
        const clock = scriptedClock(readings);
        const generator = new SnowflakeGenerator(async () => 7, clock);
        let previous = -1n;
        for (let i = 0; i < steps.length; i++) {
          const id = await generator.next();
          expect(id > previous).toBe(true);
          expect(snowflakeWorker(id)).toBe(7);
          previous = id;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('spills into the next millisecond after 1024 ids in one millisecond', async () => {
    let now = EPOCH_MS + 5_000;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const generator = new SnowflakeGenerator(async () => 1, clock);
    const ids: bigint[] = [];
    for (let i = 0; i < 1025; i++) ids.push(await generator.next());
    expect(new Set(ids).size).toBe(1025);
    expect(snowflakeSequence(ids[1023]!)).toBe(1023);
    expect(snowflakeTime(ids[1023]!)).toBe(EPOCH_MS + 5_000);
    expect(snowflakeTime(ids[1024]!)).toBe(EPOCH_MS + 5_001);
    expect(snowflakeSequence(ids[1024]!)).toBe(0);
  });

  it('never mints one id twice when concurrent calls wait out a used-up millisecond together', async () => {
    let now = EPOCH_MS + 9_000;
    // Sleepers wake after the other calls ran, and time passes once for all of them, as with real timers.
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        const until = now + ms;
        await new Promise((resolve) => setImmediate(resolve));
        now = Math.max(now, until);
      },
    };
    const generator = new SnowflakeGenerator(async () => 1, clock);
    const ids = await Promise.all(Array.from({ length: 3000 }, () => generator.next()));
    expect(new Set(ids).size).toBe(3000);
  });
});
