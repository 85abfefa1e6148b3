/**
 * A channel's last activity (chats.last_activity_at in PostgreSQL), moved by every message write so that
 * "my channels" is one keyset-paged query. The bump runs beside the message's Scylla writes; PostgreSQL
 * being down must not fail a message write, so a failed bump is logged and counted, and repaired the next
 * time the channel is listed (the listing compares it with channel_metadata.last_message_id) or written.
 */
import { snowflakeTime } from '../ids/snowflake.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { touchChatActivity } from './chat-store.js';

export async function recordChannelActivity(channelId: string, messageId: bigint): Promise<void> {
  try {
    await touchChatActivity(channelId, new Date(snowflakeTime(messageId)));
  } catch (error) {
    log().warn('channel activity not recorded; repaired on a later write or listing', { channelId, messageId: messageId.toString(), error: (error as Error).message });
    countMetric(METRIC.channelActivityDeferred);
  }
}
