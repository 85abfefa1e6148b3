/**
 * For projects that load handlers but reach no store (infra): each handler checks at load that the settings
 * of its stores are present, so they get addresses that are never connected to.
 */
Object.assign(process.env, {
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://placeholder@127.0.0.1:1/placeholder',
  UPSTASH_REDIS_REST_URL: process.env.UPSTASH_REDIS_REST_URL ?? 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: process.env.UPSTASH_REDIS_REST_TOKEN ?? 'placeholder',
  LOG_LEVEL: 'ERROR',
});
