import { checkReadiness } from '#lib/health.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], auth: false }, async () => {
  const { ready, checks } = await checkReadiness();
  return ready
    ? json(200, { status: 'ok', checks })
    : json(503, { status: 'unavailable', checks }, { 'retry-after': '5' });
});
