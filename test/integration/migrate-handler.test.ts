/** The custom resource handler, driven by the CloudFormation event shapes AWS sends (test/fixtures). */
import { readFileSync } from 'node:fs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { defaultMigrationsDir, loadMigrations } from '../../lib/migrations/files.js';
import { dropNamespace, uniqueNamespace, withCql } from '../support/stores.js';

function fixture(name: string): CloudFormationCustomResourceEvent {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}`, import.meta.url), 'utf8'));
}

const namespace = uniqueNamespace('cfn');
const cqlVersions = loadMigrations(`${defaultMigrationsDir()}/scylla`, 'cql').map((file) => file.version).join(',');
const sqlVersions = loadMigrations(`${defaultMigrationsDir()}/postgres`, 'sql').map((file) => file.version).join(',');
let handler: typeof import('../../functions/migrate.js').handler;

beforeAll(async () => {
  process.env.SCYLLA_KEYSPACE = namespace;
  process.env.DATABASE_SCHEMA = namespace;
  loadConfig();
  ({ handler } = await import('../../functions/migrate.js'));
});

afterAll(async () => {
  await dropNamespace(namespace);
});

describe('functions/migrate (CloudFormation custom resource)', () => {
  it('Create applies every migration and reports the versions', async () => {
    const response = await handler(fixture('cfn-custom-resource-create-event.json'));
    expect(response.PhysicalResourceId).toBe(`schema-migrations:${namespace}:${namespace}`);
    expect(response.Data).toEqual({ CqlApplied: cqlVersions, SqlApplied: sqlVersions, CqlVersions: cqlVersions, SqlVersions: sqlVersions });
  });

  it('Update applies nothing new and keeps the physical id', async () => {
    const response = await handler(fixture('cfn-custom-resource-update-event.json'));
    expect(response.PhysicalResourceId).toBe(`schema-migrations:${namespace}:${namespace}`);
    expect(response.Data).toEqual({ CqlApplied: '', SqlApplied: '', CqlVersions: cqlVersions, SqlVersions: sqlVersions });
  });

  it('Delete keeps the keyspace and its data', async () => {
    const deleteEvent = { ...fixture('cfn-custom-resource-update-event.json'), RequestType: 'Delete' } as CloudFormationCustomResourceEvent;
    const response = await handler(deleteEvent);
    expect(response.PhysicalResourceId).toBe(`schema-migrations:${namespace}:${namespace}`);
    const keyspaces = await withCql((client) =>
      client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [namespace], { prepare: true }),
    );
    expect(keyspaces.rowLength).toBe(1);
  });
});
