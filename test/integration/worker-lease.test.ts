import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LEASABLE_WORKER_IDS } from '../../lib/ids/snowflake.js';
import { WorkerIdsExhaustedError, WorkerLease } from '../../lib/ids/worker-lease.js';
import { conditionalWrite, mapConcurrently, read } from '../../lib/scylla/execute.js';

describe('Snowflake worker-id leases in Scylla', () => {
  it('never hands one worker id to two live holders, even when they claim at once', async () => {
    const leases = Array.from({ length: 24 }, () => new WorkerLease());
    const ids = await Promise.all(leases.map((lease) => lease.current()));
    expect(new Set(ids).size).toBe(24);
    for (const [index, id] of ids.entries()) {
      const row = (await read('SELECT owner, TTL(owner) AS ttl FROM snowflake_worker_leases WHERE worker_id = ?', [id])).first();
      expect(row.get('owner')).toBe(leases[index]!.owner);
      // A container that dies without releasing loses its claim when the TTL runs out.
      expect(row.get('ttl')).toBeGreaterThan(60);
    }
    await Promise.all(leases.map((lease) => lease.release()));
  });

  it('keeps its id while warm and frees it on release', async () => {
    const lease = new WorkerLease();
    const id = await lease.current();
    expect(await lease.current()).toBe(id);
    await lease.release();
    const row = (await read('SELECT owner FROM snowflake_worker_leases WHERE worker_id = ?', [id])).first();
    expect(row).toBeNull();
  });
});

describe('Snowflake worker-id lease renewal and ceiling', () => {
  it('keeps one id for five TTLs while in use, renewing every cell of the claim', async () => {
    // A 3 s TTL: renewed in the background after 0.75 s, trusted for 2.5 s after each renewal was sent.
    const lease = new WorkerLease({ ttlSeconds: 3 });
    const first = await lease.current();
    const seen = new Set<number>();
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      seen.add(await lease.current());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await lease.settled();
    expect([...seen]).toEqual([first]);
    // Both cells carry the latest TTL: the owner cell never outlives or predeceases the claim.
    const row = (await read('SELECT owner, TTL(owner) AS owner_ttl, TTL(leased_at) AS leased_ttl FROM snowflake_worker_leases WHERE worker_id = ?', [first])).first();
    expect(row.get('owner')).toBe(lease.owner);
    expect(row.get('owner_ttl')).toBeGreaterThan(0);
    expect(Math.abs(Number(row.get('owner_ttl')) - Number(row.get('leased_ttl')))).toBeLessThanOrEqual(1);
    await lease.release();
  }, 30_000);

  it('answers 503 worker_ids_exhausted when every id is held, and mints nothing', async () => {
    const filler = `filler-${randomUUID()}`;
    const free: number[] = [];
    for (let workerId = 0; workerId < LEASABLE_WORKER_IDS; workerId++) free.push(workerId);
    // Hold every free id (ids other tests' containers hold stay theirs: IF NOT EXISTS skips them).
    const held = await mapConcurrently(free, 32, async (workerId) =>
      (await conditionalWrite('INSERT INTO snowflake_worker_leases (worker_id, owner, leased_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL 120', [workerId, filler, new Date()])).wasApplied()
        ? workerId
        : undefined,
    );
    try {
      const lease = new WorkerLease();
      const refusal = await lease.current().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(WorkerIdsExhaustedError);
      expect(refusal).toMatchObject({ status: 503, code: 'worker_ids_exhausted' });
    } finally {
      await mapConcurrently(
        held.filter((id): id is number => id !== undefined),
        32,
        (workerId) => conditionalWrite('DELETE FROM snowflake_worker_leases WHERE worker_id = ? IF owner = ?', [workerId, filler]),
      );
    }
  }, 120_000);

  it('finds the one id still free even when its random probes miss it', async () => {
    const filler = `filler-${randomUUID()}`;
    const ids: number[] = [];
    for (let workerId = 0; workerId < LEASABLE_WORKER_IDS; workerId++) ids.push(workerId);
    const held = (
      await mapConcurrently(ids, 32, async (workerId) =>
        (await conditionalWrite('INSERT INTO snowflake_worker_leases (worker_id, owner, leased_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL 120', [workerId, filler, new Date()])).wasApplied()
          ? workerId
          : undefined,
      )
    ).filter((id): id is number => id !== undefined);
    // Free exactly one: 64 random probes of 1,023 ids miss it 94 % of the time.
    const free = held[Math.floor(held.length / 2)]!;
    await conditionalWrite('DELETE FROM snowflake_worker_leases WHERE worker_id = ? IF owner = ?', [free, filler]);
    const lease = new WorkerLease();
    try {
      expect(await lease.current()).toBe(free);
    } finally {
      await lease.release();
      await mapConcurrently(
        held.filter((id) => id !== free),
        32,
        (workerId) => conditionalWrite('DELETE FROM snowflake_worker_leases WHERE worker_id = ? IF owner = ?', [workerId, filler]),
      );
    }
  }, 120_000);
});
