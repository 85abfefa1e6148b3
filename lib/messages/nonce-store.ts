/** message_nonces: the conditional write that makes create-message with a nonce happen once. */
import cassandra from 'cassandra-driver';
import { conditionalWrite } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

const { unset } = cassandra.types;

export interface NonceClaim {
  /** True when this request's claim won; false when an earlier request holds the nonce. */
  claimed: boolean;
  messageId: bigint;
  content: string;
  replyToId: bigint | null;
}

/**
 * Claims (channel, author, nonce) for `messageId` for ten minutes (the table's default TTL). A lost claim
 * returns the winner's message id and content, read back from the same conditional write.
 */
export async function claimNonce(
  channelId: string,
  authorId: string,
  nonce: string,
  message: { id: bigint; content: string; replyToId: bigint | null },
): Promise<NonceClaim> {
  const result = await conditionalWrite(
    'INSERT INTO message_nonces (channel_id, author_id, nonce, message_id, content, reply_to_id) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS',
    [channelId, authorId, nonce, toLong(message.id), message.content, message.replyToId === null ? unset : toLong(message.replyToId)],
  );
  if (result.wasApplied()) return { claimed: true, messageId: message.id, content: message.content, replyToId: message.replyToId };
  const row = result.first();
  const replyTo = row.get('reply_to_id') as cassandra.types.Long | null;
  return {
    claimed: false,
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    content: row.get('content') as string,
    replyToId: replyTo ? BigInt(replyTo.toString()) : null,
  };
}
