/**
 * The push bench's clients, in a worker thread of the bench process (test/bench/push.ts starts it): the
 * WebSocket connections a real deployment would have on other machines, kept off the event loop that runs the
 * local server, its handlers and its fan-out, so that loop does not also parse every frame the clients receive.
 * (The thread still shares the machine's cores.)
 *
 * Every `message.created` frame is stamped on arrival with an absolute time (timeOrigin + now, the same
 * clock as the main thread's) and kept by message id and connection, until the main thread collects it.
 */
import { parentPort } from 'node:worker_threads';
import { WebSocket } from 'ws';

export type ToClients =
  | { op: 'open'; url: string; connections: { token: string; channelId: string }[]; concurrency: number; timeoutMs: number }
  | { op: 'collect'; id: number; messageId: string; expected: number; timeoutMs: number }
  | { op: 'count'; id: number; messageIds: string[] }
  | { op: 'close'; batch: number; pauseMs: number };

export type FromClients =
  | { op: 'opened'; opened: number; subscribed: number; failures: string[]; ms: number }
  | { op: 'collected'; id: number; arrivals: number[]; connections: number; duplicates: number }
  | { op: 'counted'; id: number; frames: number }
  | { op: 'closed'; framesTotal: number; otherFrames: Record<string, number>; leftOver: number };

const now = () => performance.timeOrigin + performance.now();
const port = parentPort!;
const send = (message: FromClients) => port.postMessage(message);

interface Arrival {
  times: number[];
  connections: Set<number>;
  duplicates: number;
}
const arrivals = new Map<string, Arrival>();
const waiting = new Map<string, { expected: number; done: () => void }>();
const sockets: WebSocket[] = [];
let framesTotal = 0;
const otherFrames: Record<string, number> = {};

function onFrame(index: number, data: Buffer): void {
  const at = now();
  let frame: { type?: string; change?: { type?: string; message?: { id?: string } } };
  try {
    frame = JSON.parse(data.toString('utf8')) as typeof frame;
  } catch {
    otherFrames['unparsable'] = (otherFrames['unparsable'] ?? 0) + 1;
    return;
  }
  const messageId = frame.type === 'change' && frame.change?.type === 'message.created' ? frame.change.message?.id : undefined;
  if (!messageId) {
    const kind = frame.type === 'change' ? `change ${frame.change?.type}` : String(frame.type);
    otherFrames[kind] = (otherFrames[kind] ?? 0) + 1;
    return;
  }
  framesTotal += 1;
  let arrival = arrivals.get(messageId);
  if (!arrival) arrivals.set(messageId, (arrival = { times: [], connections: new Set(), duplicates: 0 }));
  if (arrival.connections.has(index)) arrival.duplicates += 1;
  else {
    arrival.connections.add(index);
    arrival.times.push(at);
  }
  const wait = waiting.get(messageId);
  if (wait && arrival.connections.size >= wait.expected) wait.done();
}

/** Opens one connection and subscribes it; resolves once `subscribed` is answered (or fails with why not). */
function openOne(index: number, url: string, token: string, channelId: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    sockets[index] = socket;
    const timer = setTimeout(() => reject(new Error(`connection ${index}: no "subscribed" within ${timeoutMs} ms`)), timeoutMs);
    let subscribed = false;
    socket.on('open', () => socket.send(JSON.stringify({ action: 'subscribe', channel_ids: [channelId] })));
    socket.on('message', (data: Buffer) => {
      if (!subscribed) {
        const frame = JSON.parse(data.toString('utf8')) as { type?: string; channel_ids?: string[] };
        if (frame.type === 'subscribed' && frame.channel_ids?.includes(channelId)) {
          subscribed = true;
          clearTimeout(timer);
          resolve();
        } else {
          clearTimeout(timer);
          reject(new Error(`connection ${index}: ${data.toString('utf8').slice(0, 200)}`));
        }
        return;
      }
      onFrame(index, data);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`connection ${index}: ${error.message}`));
    });
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`connection ${index}: handshake answered ${response.statusCode}`));
    });
  });
}

port.on('message', (message: ToClients) => {
  switch (message.op) {
    case 'open': {
      const started = now();
      let next = 0;
      let subscribed = 0;
      const failures: string[] = [];
      void Promise.all(
        Array.from({ length: message.concurrency }, async () => {
          while (next < message.connections.length) {
            const index = next++;
            const { token, channelId } = message.connections[index]!;
            try {
              await openOne(index, message.url, token, channelId, message.timeoutMs);
              subscribed += 1;
            } catch (error) {
              failures.push((error as Error).message);
            }
          }
        }),
      ).then(() => send({ op: 'opened', opened: sockets.filter((s) => s?.readyState === WebSocket.OPEN).length, subscribed, failures: failures.slice(0, 10), ms: now() - started }));
      break;
    }
    case 'collect': {
      const finish = () => {
        clearTimeout(timer);
        waiting.delete(message.messageId);
        const arrival = arrivals.get(message.messageId);
        arrivals.delete(message.messageId);
        send({ op: 'collected', id: message.id, arrivals: arrival?.times ?? [], connections: arrival?.connections.size ?? 0, duplicates: arrival?.duplicates ?? 0 });
      };
      const timer = setTimeout(finish, message.timeoutMs);
      if ((arrivals.get(message.messageId)?.connections.size ?? 0) >= message.expected) finish();
      else waiting.set(message.messageId, { expected: message.expected, done: finish });
      break;
    }
    case 'count': {
      const frames = message.messageIds.reduce((total, id) => total + (arrivals.get(id)?.times.length ?? 0), 0);
      send({ op: 'counted', id: message.id, frames });
      break;
    }
    case 'close': {
      // In batches, as clients leave in life: the server forgets each closed connection in Redis (through the
      // local Upstash endpoint), and a thousand at once time out there (see push.ts, registryAfterClose).
      void (async () => {
        for (let start = 0; start < sockets.length; start += message.batch) {
          for (const socket of sockets.slice(start, start + message.batch)) socket?.close();
          await new Promise((resolve) => setTimeout(resolve, message.pauseMs));
        }
        for (const socket of sockets) socket?.terminate();
        send({ op: 'closed', framesTotal, otherFrames, leftOver: arrivals.size });
      })();
      break;
    }
  }
});
