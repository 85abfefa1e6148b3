import { httpHandler, json } from './http/handler.js';

/** Liveness: the process can serve. Touches no store, so a store outage never restarts healthy containers. */
export const handler = httpHandler({ stores: [], auth: false }, async () => json(200, { status: 'ok' }));
