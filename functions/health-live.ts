import { httpRoute, json } from './http/pipeline.js';

/** Liveness: the process can serve. Touches no store, so a store outage never restarts healthy containers. */
export const handler = httpRoute('health-live', async () => json(200, { status: 'ok' }));
