/**
 * The purge queue (SQS): a deleted channel's purge request, `{"channel_id": "<uuid>"}`. The SQS client is
 * imported and created once per container, on first use: only the delete route and the purge send, while the
 * module is in more bundles, and importing the SDK costs a cold start tens of ms of CPU.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';

let sdk: Promise<typeof import('@aws-sdk/client-sqs')> | undefined;
let client: SQSClient | undefined;

export interface PurgeRequest {
  channel_id: string;
}

/**
 * Sends a purge request. Without `delaySeconds` the queue's delivery delay applies (a delete's request: the
 * purge starts after writes in flight have landed); a continuation or a reconciler re-request passes 0.
 */
export async function sendPurgeRequest(queueUrl: string, channelId: string, delaySeconds?: number): Promise<void> {
  sdk ??= import('@aws-sdk/client-sqs');
  const { SQSClient, SendMessageCommand } = await sdk;
  client ??= new SQSClient({});
  const body: PurgeRequest = { channel_id: channelId };
  await client.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body), ...(delaySeconds === undefined ? {} : { DelaySeconds: delaySeconds }) }),
  );
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
