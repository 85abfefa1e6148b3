/** CQL value conversions every store needs: Snowflake ids as `bigint` columns, and write timestamps. */
import cassandra from 'cassandra-driver';
import { snowflakeTime } from '../ids/snowflake.js';

const { Long } = cassandra.types;

/** A Snowflake (or any 64-bit id) as the driver binds a CQL `bigint`. */
export function toLong(id: bigint): cassandra.types.Long {
  return Long.fromString(id.toString());
}

/**
 * A write timestamp (microseconds) that orders writes by Snowflake: the id's own millisecond. Two ids of the
 * same millisecond tie on timestamp, and Cassandra and ScyllaDB then keep the greater value, which for
 * positive bigints is the greater id, so the order stays exact.
 */
export function writeTimestampOf(messageId: bigint): cassandra.types.Long {
  return Long.fromNumber(snowflakeTime(messageId) * 1000);
}
