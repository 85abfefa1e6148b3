/** message_nonces: the conditional write that makes create-message with a nonce happen once. */
import cassandra from 'cassandra-driver';
import { conditionalWrite } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import type { Attachment } from './model.js';
import { attachmentsFromJson, attachmentsToJson } from './store.js';

const { unset } = cassandra.types;

export interface NonceClaim {
  /** True when this request's claim won; false when an earlier request holds the nonce. */
  claimed: boolean;
  messageId: bigint;
  content: string;
  replyToId: bigint | null;
  mentions: string[];
  attachments: Attachment[];
}

interface ClaimedMessage {
  id: bigint;
  content: string;
  replyToId: bigint | null;
  mentions?: string[] | undefined;
  attachments?: Attachment[] | undefined;
}

/**
 * Claims (channel, author, nonce) for `messageId` for ten minutes (the table's default TTL). A lost claim
 * returns the winner's message (id, content, reply target, mentions, attachments), read back from the same
 * conditional write, so a retry can complete the winner's write exactly.
 */
export async function claimNonce(channelId: string, authorId: string, nonce: string, message: ClaimedMessage): Promise<NonceClaim> {
  const result = await conditionalWrite(
    'INSERT INTO message_nonces (channel_id, author_id, nonce, message_id, content, reply_to_id, mentions, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS',
    [
      channelId,
      authorId,
      nonce,
      toLong(message.id),
      message.content,
      message.replyToId === null ? unset : toLong(message.replyToId),
      message.mentions?.length ? message.mentions : unset,
      message.attachments?.length ? attachmentsToJson(message.attachments) : unset,
    ],
  );
  if (result.wasApplied()) {
    return {
      claimed: true,
      messageId: message.id,
      content: message.content,
      replyToId: message.replyToId,
      mentions: message.mentions ?? [],
      attachments: message.attachments ?? [],
    };
  }
  const row = result.first();
  const replyTo = row.get('reply_to_id') as cassandra.types.Long | null;
  return {
    claimed: false,
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    content: row.get('content') as string,
    replyToId: replyTo ? BigInt(replyTo.toString()) : null,
    mentions: ((row.get('mentions') as cassandra.types.Uuid[] | null) ?? []).map(String),
    attachments: attachmentsFromJson(row.get('attachments') as string | null),
  };
}
