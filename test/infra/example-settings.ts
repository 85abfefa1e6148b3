/** Deploy settings for assertion tests: the documented example inputs (infra/cdk/example-inputs.json), read as the app reads them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { readDeploySettings, type DeploySettings } from '../../infra/cdk/settings.js';

export const EXAMPLE_INPUTS = JSON.parse(readFileSync(join(projectRoot, 'infra', 'cdk', 'example-inputs.json'), 'utf8')) as Record<string, string>;

/** The example inputs with `overrides` (undefined removes an input), checked by readDeploySettings. */
export function exampleSettings(overrides: Record<string, string | undefined> = {}): DeploySettings {
  const inputs: Record<string, string | undefined> = { ...EXAMPLE_INPUTS, ...overrides };
  return readDeploySettings((key) => inputs[key]);
}
