/**
 * Every conditional write runs its Paxos round at LOCAL_SERIAL (the driver's default is SERIAL, which on a
 * multi-DC cluster makes every LWT cross data centres). Checked on what the driver puts in the request: a
 * request tracker sees the execution options each statement's frame is written from (requests.js writes
 * `getSerialConsistency()` into the frame).
 */
import cassandra from 'cassandra-driver';
import { afterEach, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { WorkerLease } from '../../lib/ids/worker-lease.js';
import { insertPin } from '../../lib/pins/store.js';
import { createScyllaClient, getScylla } from '../../lib/scylla/client.js';

const { consistencies } = cassandra.types;

interface Sent {
  query: string;
  serial: number | undefined;
}

/** The driver checks `instanceof RequestTracker` (a class at run time, an interface in its typings). */
const TrackerBase = (cassandra.tracker as unknown as { RequestTracker: new () => object }).RequestTracker;

class RecordingTracker extends TrackerBase implements cassandra.tracker.RequestTracker {
  readonly sent: Sent[] = [];
  shutdown(): void {}
  onSuccess(_host: unknown, query: unknown, _parameters: unknown, options: cassandra.ExecutionOptions): void {
    this.record(query, options);
  }
  onError(_host: unknown, query: unknown, _parameters: unknown, options: cassandra.ExecutionOptions): void {
    this.record(query, options);
  }
  private record(query: unknown, options: cassandra.ExecutionOptions): void {
    const text = typeof query === 'string' ? query : JSON.stringify(query);
    this.sent.push({ query: text, serial: options.getSerialConsistency() });
  }
  conditional(): Sent[] {
    return this.sent.filter((request) => /\sIF\s/i.test(request.query));
  }
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

async function track(client: cassandra.Client): Promise<RecordingTracker> {
  const tracker = new RecordingTracker();
  // Read per request (request-execution.js), so a tracker set on a connected client sees what follows.
  const options = (client as unknown as { options: { requestTracker: cassandra.tracker.RequestTracker | null } }).options;
  const before = options.requestTracker;
  options.requestTracker = tracker;
  restore = () => {
    options.requestTracker = before;
  };
  return tracker;
}

describe('serial consistency of conditional writes', () => {
  it('sends LOCAL_SERIAL with every lightweight transaction of the service (worker-id lease, pin)', async () => {
    expect(getConfig().scylla.serialConsistency).toBe('LOCAL_SERIAL');
    const tracker = await track(await getScylla());
    const lease = new WorkerLease();
    await lease.current();
    expect(await insertPin('3b0c6a53-8a3e-4b44-9d7a-7d2f0c1f1a01', 1n, 'c1f0a6a2-1c5e-4d55-9a8b-0b9c1d2e3f40')).toBe(true);
    await lease.release();

    const conditional = tracker.conditional();
    // The lease claim and release and the pin: at least three conditional statements were sent.
    expect(conditional.length).toBeGreaterThanOrEqual(3);
    for (const request of conditional) expect(request.serial, request.query).toBe(consistencies.localSerial);
  });

  it('sends SERIAL when SCYLLA_SERIAL_CONSISTENCY says so', async () => {
    const client = await createScyllaClient({ ...getConfig().scylla, serialConsistency: 'SERIAL' }, { keyspace: getConfig().scylla.keyspace });
    try {
      await client.connect();
      const tracker = await track(client);
      await client.execute(
        'INSERT INTO pinned_messages (channel_id, message_id, pinned_at, pinned_by) VALUES (?, ?, ?, ?) IF NOT EXISTS',
        ['3b0c6a53-8a3e-4b44-9d7a-7d2f0c1f1a02', cassandra.types.Long.fromNumber(2), new Date(), 'c1f0a6a2-1c5e-4d55-9a8b-0b9c1d2e3f40'],
        { prepare: true },
      );
      expect(tracker.conditional().map((request) => request.serial)).toEqual([consistencies.serial]);
    } finally {
      await client.shutdown();
    }
  });
});
