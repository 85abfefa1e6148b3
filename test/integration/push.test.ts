/**
 * Real-time push through the local server's `/ws` with real WebSocket clients (`ws`): connect, subscribe,
 * every change type from REST writes in order with the feed's cursors, removal, reconnect and catch-up.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getConfig } from '../../lib/config.js';
import { channelOf, postMessage, useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();

interface Frame {
  type: string;
  change?: { cursor: string; type: string; channel_id: string; [field: string]: unknown };
  channel_ids?: string[];
  code?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settle = () => getConfig().changes.clockSkewMs + getConfig().changes.writeDeadlineMs;

class Client {
  readonly frames: Frame[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.frames.push(JSON.parse(data.toString('utf8')) as Frame));
  }

  static open(token: string, via: 'query' | 'protocol' = 'query'): Promise<Client> {
    const base = api.baseUrl().replace(/^http/, 'ws');
    const socket =
      via === 'query' ? new WebSocket(`${base}/ws?token=${encodeURIComponent(token)}`) : new WebSocket(`${base}/ws`, ['bearer', token]);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`refused: ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `count` frames matching `match` have arrived; returns them. */
  async next(match: (frame: Frame) => boolean, count = 1, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(match);
      if (found.length >= count) return found.slice(0, count);
      if (Date.now() > deadline) throw new Error(`expected ${count} frames, got ${found.length}: ${JSON.stringify(this.frames)}`);
      await sleep(20);
    }
  }

  changes(channelId: string): NonNullable<Frame['change']>[] {
    return this.frames.filter((frame) => frame.type === 'change' && frame.change?.channel_id === channelId).map((frame) => frame.change!);
  }

  async subscribe(channelIds: string[]): Promise<void> {
    const before = this.frames.length;
    this.send({ action: 'subscribe', channel_ids: channelIds });
    await this.next((frame) => this.frames.indexOf(frame) >= before && (frame.type === 'subscribed' || frame.type === 'error'));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The feed's changes after `cursor`, once settled. */
async function feedAfter(client: ApiClient, channelId: string, cursor: string): Promise<{ cursor: string; type: string }[]> {
  await sleep(settle() + 50);
  const changes: { cursor: string; type: string }[] = [];
  for (;;) {
    const page = await client.get(`/channels/${channelId}/changes?after=${encodeURIComponent(cursor)}&limit=500`);
    expect(page.status).toBe(200);
    changes.push(...page.body.changes);
    cursor = page.body.next_cursor;
    if (!page.body.has_more) return changes;
  }
}

async function headOf(client: ApiClient, channelId: string): Promise<string> {
  await sleep(settle() + 50);
  return (await client.get(`/channels/${channelId}/changes`)).body.next_cursor as string;
}

describe('real-time push', () => {
  it('refuses a connection without a valid token in the query, accepts one with it', async () => {
    const user = await api.user();
    await expect(Client.open('not-a-token')).rejects.toThrow('refused: 401');
    await expect(Client.open(user.token!.slice(0, -4) + 'AAAA')).rejects.toThrow('refused: 401');
    const base = api.baseUrl().replace(/^http/, 'ws');
    await expect(
      new Promise((resolve, reject) => {
        const socket = new WebSocket(`${base}/ws`);
        socket.once('open', resolve);
        socket.once('unexpected-response', (_request, response) => reject(new Error(`refused: ${response.statusCode}`)));
      }),
    ).rejects.toThrow('refused: 401');
    // API Gateway's authorizer reads the query string only: a token in Sec-WebSocket-Protocol alone is refused.
    await expect(Client.open(user.token!, 'protocol')).rejects.toThrow('refused: 401');
    const byQuery = await Client.open(user.token!);
    await byQuery.close();
  });

  it('subscribes to member channels and refuses the others by id; answers bad frames with an error frame', async () => {
    const owner = await api.user();
    const stranger = await api.user();
    const mine = await channelOf(owner);
    const theirs = await channelOf(stranger);
    const client = await Client.open(owner.token!);
    client.send({ action: 'subscribe', channel_ids: [mine, theirs, '00000000-0000-4000-8000-000000000000'] });
    const [subscribed] = await client.next((frame) => frame.type === 'subscribed');
    const [refused] = await client.next((frame) => frame.type === 'error');
    expect(subscribed!.channel_ids).toEqual([mine]);
    expect(refused).toMatchObject({ code: 'forbidden', channel_ids: [theirs, '00000000-0000-4000-8000-000000000000'] });
    client.send({ action: 'dance' });
    client.send('not json');
    client.send({ action: 'subscribe', channel_ids: 'nope' });
    const errors = await client.next((frame) => frame.type === 'error', 4);
    expect(errors.slice(1).map((frame) => frame.code)).toEqual(['unknown_action', 'unknown_action', 'invalid_frame']);
    // Pushes go to subscribed channels only.
    await postMessage(stranger, theirs, { content: 'not for you' });
    await postMessage(owner, mine, { content: 'for you' });
    await client.next((frame) => frame.type === 'change');
    await sleep(200);
    expect(client.changes(theirs)).toEqual([]);
    await client.close();
  });

  it('pushes every change type from REST writes, in order, with the cursors of the feed', async () => {
    const owner = await api.user();
    const member = await api.user();
    const other = await api.user();
    const channelId = await channelOf(owner);
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    const start = await headOf(owner, channelId);
    const ownerSocket = await Client.open(owner.token!);
    const memberSocket = await Client.open(member.token!);
    await ownerSocket.subscribe([channelId]);
    await memberSocket.subscribe([channelId]);

    const messageId = await postMessage(owner, channelId, { content: 'hello' });
    await owner.patch(`/channels/${channelId}/messages/${messageId}`, { content: 'hello, edited' });
    const thumbs = encodeURIComponent('👍');
    await member.put(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await member.delete(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await owner.put(`/channels/${channelId}/pins/${messageId}`);
    await owner.delete(`/channels/${channelId}/pins/${messageId}`);
    await owner.put(`/channels/${channelId}/members/${other.userId}`);
    await owner.delete(`/channels/${channelId}/members/${other.userId}`);
    await owner.patch(`/channels/${channelId}`, { name: 'renamed' });
    await owner.put(`/channels/${channelId}/read-position`, { message_id: messageId });
    await owner.delete(`/channels/${channelId}/messages/${messageId}`);

    const expected = [
      'message.created',
      'message.updated',
      'reaction.added',
      'reaction.removed',
      'pin.added',
      'pin.removed',
      'member.added',
      'member.removed',
      'channel.updated',
      'read_position.updated',
      'message.deleted',
    ];
    await ownerSocket.next((frame) => frame.type === 'change', expected.length);
    await memberSocket.next((frame) => frame.type === 'change', expected.length - 1);
    const pushed = ownerSocket.changes(channelId);
    expect(pushed.map((change) => change.type)).toEqual(expected);
    // The read position is only the owner's to see.
    expect(memberSocket.changes(channelId).map((change) => change.type)).toEqual(expected.filter((type) => type !== 'read_position.updated'));
    // The same changes, the same cursors, the same order as the feed.
    const feed = await feedAfter(owner, channelId, start);
    expect(pushed).toEqual(feed);
    await Promise.all([ownerSocket.close(), memberSocket.close()]);
  });

  it('tells a removed member of their removal, then stops pushing the channel to them at once', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = await channelOf(owner);
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    const socket = await Client.open(member.token!);
    await socket.subscribe([channelId]);
    await postMessage(owner, channelId, { content: 'before' });
    await socket.next((frame) => frame.type === 'change');
    expect((await owner.delete(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    const after = await postMessage(owner, channelId, { content: 'after' });
    await sleep(300);
    const seen = socket.changes(channelId);
    expect(seen.map((change) => change.type)).toEqual(['message.created', 'member.removed']);
    expect(seen[1]).toMatchObject({ user_id: member.userId });
    expect(JSON.stringify(seen)).not.toContain(after);
    // Subscribing again is refused.
    socket.send({ action: 'subscribe', channel_ids: [channelId] });
    const [refused] = await socket.next((frame) => frame.type === 'error');
    expect(refused).toMatchObject({ code: 'forbidden', channel_ids: [channelId] });
    await socket.close();
  });

  it('resumes from the feed after a reconnect, with nothing lost and nothing twice', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    const first = await Client.open(owner.token!);
    await first.subscribe([channelId]);
    const seen = [await postMessage(owner, channelId, { content: 'one' }), await postMessage(owner, channelId, { content: 'two' })];
    await first.next((frame) => frame.type === 'change', 2);
    const lastCursor = first.changes(channelId).at(-1)!.cursor;
    await first.close();

    const missed = [await postMessage(owner, channelId, { content: 'three' }), await postMessage(owner, channelId, { content: 'four' })];
    const second = await Client.open(owner.token!);
    await second.subscribe([channelId]);
    const caughtUp = await feedAfter(owner, channelId, lastCursor);
    expect(caughtUp.map((change) => (change as unknown as { message: { id: string } }).message.id)).toEqual(missed);
    expect(seen).not.toContain(missed[0]);
    await second.close();
  });
});
