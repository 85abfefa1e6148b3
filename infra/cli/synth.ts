/**
 * `npm run synth [-- cdk synth options]`: `cdk synth --quiet` with the documented example inputs
 * (infra/cdk/example-inputs.json) passed explicitly as context, so CI and tooling synthesise the real stack
 * (every function bundled, cdk-nag run) without a deployment's settings. A deploy passes its own inputs: a
 * bare `npx cdk synth` with none stops with the list of what is missing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../cdk/bundling.js';

const inputs = JSON.parse(readFileSync(join(projectRoot, 'infra', 'cdk', 'example-inputs.json'), 'utf8')) as Record<string, string>;
const context = Object.entries(inputs).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
const cdk = join(projectRoot, 'node_modules', '.bin', 'cdk');
const result = spawnSync(cdk, ['synth', '--quiet', ...context, ...process.argv.slice(2)], { cwd: projectRoot, stdio: 'inherit' });
process.exit(result.status ?? 1);
