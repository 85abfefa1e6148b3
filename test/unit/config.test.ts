import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, requireStores } from '../../lib/config.js';

const base = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079', UPSTASH_REDIS_REST_TOKEN: 't' };

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const config = parseConfig(base);
    expect(config.scylla).toMatchObject({
      enabled: true,
      contactPoints: ['127.0.0.1'],
      port: 9042,
      keyspace: 'chat',
      localDataCenter: 'datacenter1',
      readConsistency: 'LOCAL_ONE',
      writeConsistency: 'LOCAL_QUORUM',
      replication: { class: 'SimpleStrategy', replication_factor: 1 },
    });
  });

  it.each([
    ['SCYLLA_PORT', 'abc', /SCYLLA_PORT: expected an integer from 1 to 65535, got 'abc'/],
    ['SCYLLA_PORT', '70000', /SCYLLA_PORT: expected an integer/],
    ['SCYLLA_ENABLED', 'yes', /SCYLLA_ENABLED: expected 'true' or 'false'/],
    ['SCYLLA_KEYSPACE', 'Bad-Name', /SCYLLA_KEYSPACE: expected a lower-case identifier/],
    ['SCYLLA_READ_CONSISTENCY', 'SOME', /SCYLLA_READ_CONSISTENCY/],
    ['SCYLLA_REPLICATION', 'dc1=3', /SCYLLA_REPLICATION: expected 'SimpleStrategy:N' or 'dc1:3,dc2:3'/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: expected a postgres: or postgresql: URL/],
    ['UPSTASH_REDIS_REST_URL', 'not a url', /UPSTASH_REDIS_REST_URL: expected a http: or https: URL/],
  ])('names %s when it is %s', (name, value, message) => {
    expect(() => parseConfig({ ...base, [name]: value })).toThrow(message);
    expect(() => parseConfig({ ...base, [name]: value })).toThrow(ConfigError);
  });

  it('reports every problem at once', () => {
    expect(() => parseConfig({ ...base, SCYLLA_PORT: 'x', SCYLLA_ENABLED: 'maybe' })).toThrow(/SCYLLA_PORT[\s\S]*SCYLLA_ENABLED|SCYLLA_ENABLED[\s\S]*SCYLLA_PORT/);
  });

  it('requires the username and password together', () => {
    expect(() => parseConfig({ ...base, SCYLLA_USERNAME: 'app' })).toThrow(/SCYLLA_PASSWORD: SCYLLA_USERNAME and SCYLLA_PASSWORD are set together/);
  });

  it('parses NetworkTopologyStrategy replication per data centre', () => {
    expect(parseConfig({ ...base, SCYLLA_REPLICATION: 'eu-west:3,us-east:3' }).scylla.replication).toEqual({
      class: 'NetworkTopologyStrategy',
      dataCenters: { 'eu-west': 3, 'us-east': 3 },
    });
  });

  it('names each missing variable a store needs', () => {
    const config = parseConfig({});
    expect(() => requireStores(config, ['postgres', 'redis'])).toThrow(
      /DATABASE_URL: is required[\s\S]*UPSTASH_REDIS_REST_URL: is required[\s\S]*UPSTASH_REDIS_REST_TOKEN: is required/,
    );
    expect(() => requireStores(parseConfig(base), ['scylla', 'postgres', 'redis'])).not.toThrow();
  });
});
