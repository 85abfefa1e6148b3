/**
 * The changes bus in AWS: PutEvents to the EventBridge bus named by CHANGES_BUS_NAME. One attempt only (no SDK
 * retries): publishing is at most once per change, and a lost event is recovered by the changes feed.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

let client: EventBridgeClient | undefined;

export interface BusEvent {
  detailType: string;
  detail: string;
}

/** Puts up to 10 events (PutEvents' limit per call); returns how many the bus refused. */
export async function putEvents(busName: string, events: readonly BusEvent[], timeoutMs: number): Promise<number> {
  client ??= new EventBridgeClient({ maxAttempts: 1 });
  const result = await client.send(
    new PutEventsCommand({
      Entries: events.map((event) => ({ EventBusName: busName, Source: 'messages', DetailType: event.detailType, Detail: event.detail })),
    }),
    { abortSignal: AbortSignal.timeout(timeoutMs) },
  );
  return result.FailedEntryCount ?? 0;
}
