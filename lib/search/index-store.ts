/** The PostgreSQL search index: one row per live message, written on create and edit, removed on delete. */
import { snowflakeTime } from '../ids/snowflake.js';
import type { MessageRecord } from '../messages/model.js';
import { pgQuery } from '../postgres/pool.js';
import { detectSearchConfig } from './language.js';

export async function indexMessage(message: MessageRecord): Promise<void> {
  await pgQuery(
    `INSERT INTO message_search (chat_id, message_id, author_id, content, search_config, created_at)
     VALUES ($1, $2, $3, $4, $5::regconfig, $6)
     ON CONFLICT (chat_id, message_id)
     DO UPDATE SET content = EXCLUDED.content, search_config = EXCLUDED.search_config`,
    [
      message.channelId,
      message.id.toString(),
      message.authorId,
      message.content,
      detectSearchConfig(message.content),
      new Date(snowflakeTime(message.id)),
    ],
  );
}

export async function unindexMessage(channelId: string, messageId: bigint): Promise<void> {
  await pgQuery('DELETE FROM message_search WHERE chat_id = $1 AND message_id = $2', [channelId, messageId.toString()]);
}
