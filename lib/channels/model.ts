/** A channel as Scylla's channel_metadata holds it, and its API shape. */
export interface ChannelRecord {
  id: string;
  name: string;
  ownerId: string;
  telegramChatId: number | null;
  createdAt: Date;
  lastMessageId: bigint | null;
}

export interface ChannelView {
  id: string;
  name: string;
  telegram_chat_id: number | null;
  created_at: string;
  last_message_id: string | null;
}

export function toChannelView(channel: ChannelRecord): ChannelView {
  return {
    id: channel.id,
    name: channel.name,
    telegram_chat_id: channel.telegramChatId,
    created_at: channel.createdAt.toISOString(),
    last_message_id: channel.lastMessageId === null ? null : channel.lastMessageId.toString(),
  };
}
