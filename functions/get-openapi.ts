import { buildOpenApi } from '#lib/api/openapi.js';
import { httpHandler, json } from './http/handler.js';
import { routes } from './routes.js';

const document = buildOpenApi(routes);

export const handler = httpHandler({ stores: [], auth: false }, async () => json(200, document));
