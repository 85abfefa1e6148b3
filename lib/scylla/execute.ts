/**
 * The only way domain code talks to Scylla: prepared statements at the configured consistency, idempotent
 * ones marked so the driver may retry them on another connection, driver failures mapped to 503.
 */
import type cassandra from 'cassandra-driver';
import { getConfig } from '../config.js';
import { getScylla, readConsistency, toStoreError, writeConsistency } from './client.js';

export type Params = unknown[];

/** Counts the statements sent, so tests and benchmarks can assert the queries a request costs. */
export const queryCounter = { count: 0 };

async function run(query: string, params: Params, options: cassandra.QueryOptions): Promise<cassandra.types.ResultSet> {
  const client = await getScylla();
  queryCounter.count += 1;
  try {
    return await client.execute(query, params, { prepare: true, ...options });
  } catch (error) {
    throw toStoreError(error);
  }
}

/** A statement as a value: a store builds it, a use case decides what it is written together with. */
export interface Statement {
  query: string;
  params: Params;
}

/**
 * Writes `statements` all or none: one statement as it is, several as one logged batch (the coordinator
 * first stores the batch in its batchlog, so a crash midway still applies every statement). Idempotent
 * statements only: a batch may be replayed.
 */
export async function writeAtomically(statements: readonly Statement[], options: cassandra.QueryOptions = {}): Promise<void> {
  if (statements.length === 1) {
    await write(statements[0]!.query, statements[0]!.params, options);
    return;
  }
  const client = await getScylla();
  queryCounter.count += 1;
  try {
    await client.batch([...statements], { prepare: true, logged: true, consistency: writeConsistency(), isIdempotent: true, ...options });
  } catch (error) {
    throw toStoreError(error);
  }
}

export function read(query: string, params: Params, options: cassandra.QueryOptions = {}) {
  return run(query, params, { consistency: readConsistency(), isIdempotent: true, ...options });
}

/**
 * A read a background decision rests on (a checkpoint moves past what it saw, a count is made final from it):
 * at the write consistency, so it sees every acknowledged write. A LOCAL_ONE read may hit the one replica a
 * LOCAL_QUORUM write has not reached yet, and a decision made from it is never revisited.
 */
export function readDecisive(query: string, params: Params, options: cassandra.QueryOptions = {}) {
  return run(query, params, { consistency: writeConsistency(), isIdempotent: true, ...options });
}

/** An idempotent write (plain INSERT/UPDATE of fixed values): safe to retry. */
export function write(query: string, params: Params, options: cassandra.QueryOptions = {}) {
  return run(query, params, { consistency: writeConsistency(), isIdempotent: true, ...options });
}

/**
 * A lightweight transaction (IF …) or counter update: never retried blindly. Contended Paxos rounds take
 * longer than a plain write, so these get SCYLLA_LWT_TIMEOUT_MS; a down cluster still fails at once.
 */
export function conditionalWrite(query: string, params: Params, options: cassandra.QueryOptions = {}) {
  return run(query, params, { consistency: writeConsistency(), isIdempotent: false, readTimeout: getConfig().scylla.lwtTimeoutMs, ...options });
}

export async function* readPages(
  query: string,
  params: Params,
  fetchSize: number,
): AsyncGenerator<cassandra.types.Row[]> {
  let pageState: string | undefined;
  do {
    const result = await read(query, params, { fetchSize, pageState });
    yield result.rows;
    pageState = result.pageState ?? undefined;
  } while (pageState);
}

/**
 * `fn` over `items` with at most `concurrency` calls in flight, results in input order. Several partitions
 * are read this way, one single-partition statement each, never one multi-partition `IN`: each statement
 * goes to a replica of its own partition (token-aware), one slow partition does not hold the others' rows,
 * and no coordinator gathers a response of many partitions' rows.
 */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
