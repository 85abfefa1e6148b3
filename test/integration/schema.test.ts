/** Checks the applied schema as the live node reports it (system_schema), not as the files say. */
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { withCql } from '../support/stores.js';

interface ColumnRow {
  table: string;
  column: string;
  kind: string;
  position: number;
  order: string;
  type: string;
}

async function describeKeyspace(keyspace: string) {
  return withCql(async (client) => {
    const tables = await client.execute(
      'SELECT table_name, compaction, gc_grace_seconds FROM system_schema.tables WHERE keyspace_name = ?',
      [keyspace],
      { prepare: true },
    );
    const columns = await client.execute(
      'SELECT table_name, column_name, kind, position, clustering_order, type FROM system_schema.columns WHERE keyspace_name = ?',
      [keyspace],
      { prepare: true },
    );
    return {
      tables: new Map(
        tables.rows.map((row) => [
          row.get('table_name') as string,
          { compaction: row.get('compaction') as Record<string, string>, gcGrace: row.get('gc_grace_seconds') as number },
        ]),
      ),
      columns: columns.rows.map(
        (row): ColumnRow => ({
          table: row.get('table_name'),
          column: row.get('column_name'),
          kind: row.get('kind'),
          position: row.get('position'),
          order: row.get('clustering_order'),
          type: row.get('type'),
        }),
      ),
    };
  });
}

function keyOf(columns: ColumnRow[], table: string) {
  const of = (kind: string) =>
    columns
      .filter((column) => column.table === table && column.kind === kind)
      .sort((a, b) => a.position - b.position)
      .map((column) => (kind === 'clustering' ? `${column.column} ${column.order}` : column.column));
  return { partition: of('partition_key'), clustering: of('clustering') };
}

describe('applied CQL schema', () => {
  it('has the eight tables with their keys, clustering order, TWCS and gc_grace_seconds', async () => {
    const { tables, columns } = await describeKeyspace(getConfig().scylla.keyspace);
    for (const table of [
      'messages',
      'telegram_message_mapping',
      'message_reactions',
      'message_reaction_counts',
      'pinned_messages',
      'telegram_sync_state',
      'channel_metadata',
      'message_read_positions',
    ]) {
      expect(tables.has(table), `table ${table}`).toBe(true);
    }

    expect(keyOf(columns, 'messages')).toEqual({ partition: ['channel_id', 'bucket'], clustering: ['message_id desc'] });
    const messages = tables.get('messages')!;
    expect(messages.compaction.class).toMatch(/TimeWindowCompactionStrategy$/);
    expect(messages.compaction.compaction_window_unit).toBe('DAYS');
    expect(messages.compaction.compaction_window_size).toBe('10');
    expect(messages.gcGrace).toBe(86400);

    expect(keyOf(columns, 'telegram_message_mapping')).toEqual({
      partition: ['telegram_message_id', 'telegram_chat_id'],
      clustering: [],
    });
    expect(
      columns.filter((column) => column.table === 'telegram_message_mapping' && column.kind === 'regular').map((c) => c.column).sort(),
    ).toEqual(['bucket', 'channel_id', 'message_id']);
    expect(keyOf(columns, 'message_reactions').partition).toEqual(['channel_id', 'message_id']);
    expect(keyOf(columns, 'message_reaction_counts').partition).toEqual(['channel_id', 'message_id']);
    expect(columns.find((c) => c.table === 'message_reaction_counts' && c.column === 'count')?.type).toBe('counter');
    expect(keyOf(columns, 'pinned_messages').partition).toEqual(['channel_id']);
    expect(keyOf(columns, 'telegram_sync_state').partition).toEqual(['channel_id']);
    expect(keyOf(columns, 'channel_metadata').partition).toEqual(['channel_id']);
    expect(keyOf(columns, 'message_read_positions')).toEqual({ partition: ['channel_id', 'user_id'], clustering: [] });
  });
});
