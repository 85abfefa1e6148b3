import { describe, expect, it } from 'vitest';
import { WorkerLease } from '../../lib/ids/worker-lease.js';
import { read } from '../../lib/scylla/execute.js';

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
