import { describe, expect, it } from 'vitest';
import { useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();

async function channelWith(contents: string[]): Promise<{ owner: ApiClient; channelId: string; ids: string[] }> {
  const owner = await api.user();
  const channelId = (await owner.post('/channels', { name: 'search' })).body.id;
  const ids: string[] = [];
  for (const content of contents) ids.push((await owner.post(`/channels/${channelId}/messages`, { content })).body.id);
  return { owner, channelId, ids };
}

const search = (client: ApiClient, channelId: string, query: string) => client.get(`/channels/${channelId}/search?${query}`);

describe('search', () => {
  it('ranks the best match first, with stemming, and only within the channel', async () => {
    const { owner, channelId, ids } = await channelWith([
      'the deployment went fine',
      'deploy the database, then deploy the cache: deploying twice',
      'lunch plans',
      'we deployed yesterday',
    ]);
    await channelWith(['deploy in another channel']);
    const response = await search(owner, channelId, 'q=deploy');
    expect(response.status).toBe(200);
    const found = response.body.messages.map((m: { id: string }) => m.id);
    expect(found[0]).toBe(ids[1]);
    expect(new Set(found)).toEqual(new Set([ids[0], ids[1], ids[3]]));
    expect(response.body.next_cursor).toBeNull();
  });

  it('supports web-search syntax and Russian stemming', async () => {
    const { owner, channelId, ids } = await channelWith(['кошка спит на диване', 'собаки гуляют', 'red apples and green pears', 'red cars']);
    expect((await search(owner, channelId, `q=${encodeURIComponent('кошки')}`)).body.messages.map((m: { id: string }) => m.id)).toEqual([ids[0]]);
    const phrase = await search(owner, channelId, `q=${encodeURIComponent('"red apples"')}`);
    expect(phrase.body.messages.map((m: { id: string }) => m.id)).toEqual([ids[2]]);
    const excluded = await search(owner, channelId, `q=${encodeURIComponent('red -cars')}`);
    expect(excluded.body.messages.map((m: { id: string }) => m.id)).toEqual([ids[2]]);
  });

  it('pages with a cursor through every match exactly once', async () => {
    const contents = Array.from({ length: 7 }, (_, i) => `${'ping '.repeat(i + 1)}message number ${i}`);
    const { owner, channelId, ids } = await channelWith(contents);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response = await search(owner, channelId, `q=ping&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...response.body.messages.map((m: { id: string }) => m.id));
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('re-indexes edits and forgets deletes', async () => {
    const { owner, channelId, ids } = await channelWith(['original wording', 'another message']);
    await owner.patch(`/channels/${channelId}/messages/${ids[0]}`, { content: 'rewritten entirely' });
    expect((await search(owner, channelId, 'q=original')).body.messages).toEqual([]);
    expect((await search(owner, channelId, 'q=rewritten')).body.messages.map((m: { content: string }) => m.content)).toEqual(['rewritten entirely']);
    await owner.delete(`/channels/${channelId}/messages/${ids[1]}`);
    expect((await search(owner, channelId, 'q=another')).body.messages).toEqual([]);
  });

  it('validates the query, limit and cursor', async () => {
    const { owner, channelId } = await channelWith(['x']);
    for (const query of ['', 'q=', `q=${'a'.repeat(257)}`, 'q=a&limit=51', 'q=a&limit=0']) {
      expect((await search(owner, channelId, query)).status, query).toBe(400);
    }
    const badCursor = await search(owner, channelId, 'q=a&cursor=bm90LWEtY3Vyc29y');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.code).toBe('invalid_cursor');
    expect((await search(await api.user(), channelId, 'q=x')).status).toBe(403);
  });
});
