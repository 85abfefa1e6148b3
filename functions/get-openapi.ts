import { buildOpenApi } from '#lib/api/openapi.js';
import { httpRoute, json } from './http/pipeline.js';
import { routes } from './routes.js';

const document = buildOpenApi(routes);

export const handler = httpRoute('get-openapi', async () => json(200, document));
