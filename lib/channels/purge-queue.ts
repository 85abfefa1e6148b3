/**
 * The purge queue (SQS): a deleted channel's purge request, `{"channel_id": "<uuid>"}`. The SQS client is
 * created once per container, on first use (only the delete route sends).
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';

let client: SQSClient | undefined;

export interface PurgeRequest {
  channel_id: string;
}

export async function sendPurgeRequest(queueUrl: string, channelId: string): Promise<void> {
  client ??= new SQSClient({});
  const body: PurgeRequest = { channel_id: channelId };
  // Sent before the channel is marked deleted: a failure here fails the DELETE with nothing changed, and the
  // client's retry sends again. A request that arrives before the mark is retried by the queue (see the purge).
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
}

/** Parses a queue message body; undefined when it is not a purge request. */
export function parsePurgeRequest(body: string): PurgeRequest | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<PurgeRequest>;
    return typeof parsed.channel_id === 'string' && /^[0-9a-f-]{36}$/.test(parsed.channel_id) ? { channel_id: parsed.channel_id } : undefined;
  } catch {
    return undefined;
  }
}
