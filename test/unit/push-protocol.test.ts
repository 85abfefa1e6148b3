import { describe, expect, it } from 'vitest';
import { tokenOf } from '../../functions/push/token-of.js';
import { MAX_CHANNELS_PER_FRAME, parseClientFrame } from '../../lib/push/model.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('client frames', () => {
  it('accepts subscribe and unsubscribe with 1 to 100 channel ids, once each', () => {
    expect(parseClientFrame(JSON.stringify({ action: 'subscribe', channel_ids: [A, B, A] }))).toEqual({ action: 'subscribe', channel_ids: [A, B] });
    expect(parseClientFrame(JSON.stringify({ action: 'unsubscribe', channel_ids: [B] }))).toEqual({ action: 'unsubscribe', channel_ids: [B] });
  });

  it('answers anything else with an error frame naming what is wrong', () => {
    const cases: [string, string][] = [
      ['not json', 'invalid_frame'],
      ['null', 'unknown_action'],
      [JSON.stringify({ action: 'dance', channel_ids: [A] }), 'unknown_action'],
      [JSON.stringify({ action: 'subscribe' }), 'invalid_frame'],
      [JSON.stringify({ action: 'subscribe', channel_ids: [] }), 'invalid_frame'],
      [JSON.stringify({ action: 'subscribe', channel_ids: ['ABCDEF00-1111-4111-8111-111111111111'] }), 'invalid_frame'],
      [JSON.stringify({ action: 'subscribe', channel_ids: [42] }), 'invalid_frame'],
      [JSON.stringify({ action: 'subscribe', channel_ids: Array.from({ length: MAX_CHANNELS_PER_FRAME + 1 }, () => A) }), 'invalid_frame'],
    ];
    for (const [text, code] of cases) expect(parseClientFrame(text), text).toMatchObject({ type: 'error', code });
  });
});

describe('where a WebSocket client puts its token', () => {
  const jwt = 'aaa.bbb.ccc';
  it('reads the query parameter first, then the subprotocol header in any case', () => {
    expect(tokenOf({ token: jwt }, { 'Sec-WebSocket-Protocol': 'bearer, x.y.z' })).toBe(jwt);
    expect(tokenOf({}, { 'Sec-WebSocket-Protocol': `bearer, ${jwt}` })).toBe(jwt);
    expect(tokenOf(null, { 'sec-websocket-protocol': jwt })).toBe(jwt);
  });
  it('finds none when neither carries a JWT-shaped value', () => {
    expect(tokenOf(undefined, undefined)).toBeUndefined();
    expect(tokenOf({}, { 'sec-websocket-protocol': 'bearer' })).toBeUndefined();
  });
});
