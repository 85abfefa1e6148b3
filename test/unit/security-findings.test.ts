/** The pure parts of issue 14's security findings: token claims, per-route throttles, Telegram content. */
import type { Message } from '@grammyjs/types';
import { describe, expect, it } from 'vitest';
import { rateLimitOf, routes, storesOf, type Route } from '../../functions/routes.js';
import { principalFromClaims, SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { storableText, telegramAttachments, telegramContent } from '../../lib/telegram/content.js';
import { isRepresentableDate } from '../../lib/telegram/ids.js';

const USER = '8a3e0d6c-2b1f-4c9a-9e7d-5f4b3a2c1d0e';
const SERVICE_AUDIENCE = 'messages-service';

describe('principalFromClaims', () => {
  it('refuses a sub that is not a lower-case canonical UUID', () => {
    for (const sub of [USER.toUpperCase(), `{${USER}}`, USER.replaceAll('-', ''), ` ${USER}`]) {
      expect(() => principalFromClaims({ sub }, null, SERVICE_AUDIENCE), sub).toThrow(/lower-case/);
    }
    expect(principalFromClaims({ sub: USER }, null, SERVICE_AUDIENCE)).toEqual({ userId: USER, isService: false });
  });

  it('makes a service principal only with the scope and the service audience (aud, client_id or azp)', () => {
    const scope = SERVICE_SCOPE;
    const service = (claims: Record<string, string | string[]>, scopes: string[] | null = null, audience: string | undefined = SERVICE_AUDIENCE) =>
      principalFromClaims({ sub: USER, ...claims }, scopes, audience).isService;
    expect(service({ scope, aud: SERVICE_AUDIENCE })).toBe(true);
    expect(service({ scope, aud: `[messages-api ${SERVICE_AUDIENCE}]` })).toBe(true); // API Gateway's flattened list
    expect(service({ scope, aud: ['messages-api', SERVICE_AUDIENCE] })).toBe(true);
    expect(service({ aud: SERVICE_AUDIENCE }, [scope])).toBe(true);
    expect(service({ scope, aud: 'messages-api', client_id: SERVICE_AUDIENCE })).toBe(true);
    expect(service({ scope, aud: 'messages-api', azp: SERVICE_AUDIENCE })).toBe(true);
    // The scope under the user audience, the audience without the scope, a look-alike, or no audience configured.
    expect(service({ scope, aud: 'messages-api' })).toBe(false);
    expect(service({ aud: SERVICE_AUDIENCE })).toBe(false);
    expect(service({ scope, aud: `${SERVICE_AUDIENCE}-evil` })).toBe(false);
    expect(service({ scope, aud: `[${SERVICE_AUDIENCE}x]` })).toBe(false);
    expect(service({ scope, aud: SERVICE_AUDIENCE }, null, '')).toBe(false);
  });
});

describe('route throttles and rate limits', () => {
  it('throttles every route without a JWT at API Gateway, and rate-limits every route with one per user', () => {
    for (const route of routes as Route[]) {
      if (route.auth === 'jwt') {
        expect(rateLimitOf(route), route.handler).toBe(route.write ? 'writes' : 'reads');
        expect(storesOf(route), route.handler).toContain('redis');
      } else {
        expect(rateLimitOf(route), route.handler).toBeUndefined();
        expect(route.throttle, route.handler).toBeDefined();
        expect(route.throttle!.rateLimit, route.handler).toBeGreaterThan(0);
        expect(route.throttle!.burstLimit, route.handler).toBeGreaterThanOrEqual(route.throttle!.rateLimit);
      }
    }
    expect(storesOf((routes as Route[]).find((route) => route.handler === 'health-live')!)).toEqual([]);
  });
});

describe('Telegram content', () => {
  const base = { message_id: 1, date: 1_800_000_000, chat: { id: -1, type: 'supergroup', title: 'g' } } as unknown as Message;
  const length = (text: string | undefined) => [...(text ?? '')].length;

  it('never exceeds 4096 code points, whatever piece is long', () => {
    const long = '😀'.repeat(10_000);
    const messages = [
      { ...base, text: long },
      { ...base, caption: long },
      { ...base, audio: { file_id: 'a', file_unique_id: 'u', duration: 1, title: long } },
      { ...base, poll: { id: 'p', question: long, options: [], total_voter_count: 0, is_closed: false, is_anonymous: true, type: 'regular', allows_multiple_answers: false } },
    ] as unknown as Message[];
    for (const message of messages) {
      const content = telegramContent(message);
      expect(length(content)).toBeLessThanOrEqual(4096);
      expect(length(content)).toBeGreaterThan(4000);
      expect(content).not.toMatch(/\p{Cs}/u);
    }
  });

  it('cuts a long file name to 255 code points, keeping its extension', () => {
    const message = { ...base, document: { file_id: 'd', file_unique_id: 'u', file_name: `${'ä'.repeat(1000)}.tar.gz` } } as unknown as Message;
    const [file] = telegramAttachments(message);
    expect(length(file!.filename)).toBe(255);
    expect(file!.filename.endsWith('….gz')).toBe(true);
  });

  it('replaces what PostgreSQL cannot store instead of refusing it', () => {
    expect(storableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
    expect(telegramContent({ ...base, text: 'x\u0000y' })).toBe('x\uFFFDy');
  });

  it('knows which Telegram dates can become ids', () => {
    expect(isRepresentableDate(1_800_000_000)).toBe(true);
    expect(isRepresentableDate(1_600_000_000)).toBe(false);
    expect(isRepresentableDate(2 ** 40)).toBe(false);
    expect(isRepresentableDate(1.5e9 + 0.5)).toBe(false);
  });
});
