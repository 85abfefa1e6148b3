/**
 * 64-bit Snowflake ids: 42 bits of milliseconds since 2024-01-01T00:00:00Z, 10 bits of worker id, 12 bits of
 * sequence. Ids from one generator strictly increase; ids from different live workers never collide because
 * each worker id is leased to one container at a time (see worker-lease.ts).
 */
export const EPOCH_MS = Date.UTC(2024, 0, 1);
export const WORKER_BITS = 10n;
export const SEQUENCE_BITS = 12n;
export const MAX_WORKER_ID = (1 << Number(WORKER_BITS)) - 1;
/**
 * Never leased: ids derived from Telegram messages by an earlier encoding (see telegram/ids.ts) hold this
 * worker id, so an id minted by a container can never equal one of them.
 */
export const TELEGRAM_WORKER_ID = MAX_WORKER_ID;
export const LEASABLE_WORKER_IDS = MAX_WORKER_ID;
export const MAX_SEQUENCE = (1 << Number(SEQUENCE_BITS)) - 1;
/**
 * A generator mints sequences 0..1023 in a millisecond, then moves to the next one (a container mints a few
 * ids per request, far below 1,024 per ms): the higher sequences of every worker id are where ids derived from
 * Telegram messages go (telegram/ids.ts, TELEGRAM_FIRST_SEQUENCE), so the two never collide.
 */
export const MINTED_SEQUENCES = 1024;
/**
 * The layout has 42 time bits, but ids are stored as CQL `bigint` (signed 64-bit), so the top bit must stay
 * clear: times up to 2^41 - 1 ms after the epoch (September 2093) are accepted, later ones refused.
 */
const MAX_TIMESTAMP = (1n << 41n) - 1n;
export const BUCKET_MS = 10 * 24 * 60 * 60 * 1000;

export function encodeSnowflake(unixMs: number, workerId: number, sequence: number): bigint {
  const since = BigInt(unixMs - EPOCH_MS);
  if (since < 0n || since > MAX_TIMESTAMP) throw new RangeError(`timestamp ${unixMs} is outside the Snowflake range`);
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER_ID) throw new RangeError(`worker id ${workerId}`);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > MAX_SEQUENCE) throw new RangeError(`sequence ${sequence}`);
  return (since << (WORKER_BITS + SEQUENCE_BITS)) | (BigInt(workerId) << SEQUENCE_BITS) | BigInt(sequence);
}

/** Milliseconds since the Unix epoch at which the id was minted. */
export function snowflakeTime(id: bigint): number {
  return Number(id >> (WORKER_BITS + SEQUENCE_BITS)) + EPOCH_MS;
}

export function snowflakeWorker(id: bigint): number {
  return Number((id >> SEQUENCE_BITS) & BigInt(MAX_WORKER_ID));
}

export function snowflakeSequence(id: bigint): number {
  return Number(id & BigInt(MAX_SEQUENCE));
}

/** The 10-day window holding the id: floor(ms since the Snowflake epoch / 10 days). */
export function bucketOf(id: bigint): number {
  return Math.floor(Number(id >> (WORKER_BITS + SEQUENCE_BITS)) / BUCKET_MS);
}

export function bucketOfTime(unixMs: number): number {
  return Math.floor((unixMs - EPOCH_MS) / BUCKET_MS);
}

/** The smallest id minted in the given millisecond: a bound for "messages at or after this time". */
export function firstSnowflakeAt(unixMs: number): bigint {
  return encodeSnowflake(unixMs, 0, 0);
}

const MAX_ID = (1n << 63n) - 1n;

/** Parses a decimal id string as clients send it; undefined when it is not a valid positive 63-bit id. */
export function parseSnowflake(text: string): bigint | undefined {
  if (!/^[1-9]\d{0,18}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value <= MAX_ID ? value : undefined;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Mints ids for one worker id. Never repeats and never goes backwards: a clock that steps back is waited
 * out, and after MINTED_SEQUENCES (1,024) ids in one millisecond the generator moves to the next millisecond.
 */
export class SnowflakeGenerator {
  private lastMs = -1;
  private sequence = 0;

  constructor(
    private readonly workerId: () => Promise<number>,
    private readonly clock: Clock = systemClock,
  ) {}

  async next(): Promise<bigint> {
    const workerId = await this.workerId();
    let now = this.clock.now();
    while (now < this.lastMs) {
      await this.clock.sleep(this.lastMs - now);
      now = this.clock.now();
    }
    if (now === this.lastMs) {
      this.sequence += 1;
      if (this.sequence >= MINTED_SEQUENCES) {
        while (now <= this.lastMs) {
          await this.clock.sleep(1);
          now = this.clock.now();
        }
        this.sequence = 0;
      }
    } else {
      this.sequence = 0;
    }
    this.lastMs = now;
    return encodeSnowflake(now, workerId, this.sequence);
  }
}
