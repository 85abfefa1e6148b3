/**
 * Publishing recorded changes to real-time push (API.md, "Real-time push"). Once a change's write is
 * acknowledged, it is handed to the change sink at once, without waiting: in AWS the EventBridge bus (whose
 * rule invokes the fan-out), locally the local server's in-process fan-out. The send runs beside whatever the
 * request still does (its other stores' writes); the invocation awaits it only at its end (settlePublishes),
 * bounded by PUBLISH_TIMEOUT_MS, so a create pays only the part of the send that outlasts its own work.
 * At most once: one attempt, never retried; a failure is counted and logged, never the user's error (the
 * changes feed is the record, and a client recovers a lost push from it).
 */
import { toChangeView, type ChangeRecord, type ChangeView } from '../changes/model.js';
import { getConfig } from '../config.js';
import { putEvents } from '../events/event-bridge.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';

export interface ChangeSink {
  publish(changes: readonly ChangeView[]): Promise<void>;
}

/** The longest a publish may hold an invocation's end. */
export const PUBLISH_TIMEOUT_MS = 300;

/** undefined: not decided yet (from configuration on first use); null: no sink. */
let sink: ChangeSink | null | undefined;
const inFlight = new Set<Promise<void>>();

function eventBridgeSink(busName: string): ChangeSink {
  return {
    async publish(changes) {
      const refused = await putEvents(
        busName,
        changes.map((change) => ({ detailType: change.type, detail: JSON.stringify(change) })),
        PUBLISH_TIMEOUT_MS,
      );
      if (refused > 0) throw new Error(`EventBridge refused ${refused} of ${changes.length} events`);
    },
  };
}

/** Replaces the sink (the local server's in-process fan-out; undefined: none). */
export function useChangeSink(next: ChangeSink | undefined): void {
  sink = next ?? null;
}

/** Gives the sink back to configuration, if `owner` is still the sink (a later server may have replaced it). */
export function releaseChangeSink(owner: ChangeSink): void {
  if (sink === owner) sink = undefined;
}

function currentSink(): ChangeSink | null {
  if (sink === undefined) {
    const { busName } = getConfig().push;
    sink = busName ? eventBridgeSink(busName) : null;
  }
  return sink;
}

/** Starts publishing a change whose write was acknowledged; never throws, never waits. */
export function publishChange(change: ChangeRecord): void {
  const target = currentSink();
  if (!target) return;
  const sending: Promise<void> = target
    .publish([toChangeView(change)])
    .then(
      () => countMetric(METRIC.changePublished),
      (error: unknown) => {
        countMetric(METRIC.changePublishFailed);
        log().warn('change not published (followers recover it from the changes feed)', { channelId: change.channelId, type: change.type, error: error as Error });
      },
    )
    .finally(() => inFlight.delete(sending));
  inFlight.add(sending);
}

/** Awaited at the end of every invocation that may have recorded changes: the Lambda must not freeze before they are sent. */
export async function settlePublishes(): Promise<void> {
  if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
