import { checkReadiness } from '#lib/use-cases/health.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('health-ready', async () => {
  const { ready, checks } = await checkReadiness();
  return ready ? json(200, { status: 'ok', checks }) : json(503, { status: 'unavailable', checks }, { 'retry-after': '5' });
});
