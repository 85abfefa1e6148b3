/**
 * The deploy workflow passes every deploy input the stack reads, and nothing else: its CDK_CONTEXT_<VAR>
 * list must be the settings module's INPUTS, each mapped to the repository variable of the same name, and
 * the workflow's own conversion (SCREAMING_SNAKE_CASE → camelCase) must give back each key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUTS } from '../../infra/cdk/settings.js';

const workflow = readFileSync(join(import.meta.dirname, '..', '..', '.github', 'workflows', 'deploy.yml'), 'utf8');
const snake = (key: string) => key.replace(/([A-Z])/g, '_$1').toUpperCase();
/** What the workflow's `tr | sed -E 's/_([a-z])/\U\1/g'` does. */
const camel = (name: string) => name.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

describe('deploy workflow inputs', () => {
  it('maps exactly the settings inputs, each from its own repository variable', () => {
    const mapped = [...workflow.matchAll(/^\s+CDK_CONTEXT_([A-Z0-9_]+): \$\{\{ vars\.([A-Z0-9_]+) \}\}$/gm)].map(([, name, variable]) => ({ name: name!, variable: variable! }));
    for (const { name, variable } of mapped) expect(variable, name).toBe(name);
    expect(mapped.map(({ name }) => camel(name)).sort()).toEqual(Object.keys(INPUTS).sort());
    for (const key of Object.keys(INPUTS)) expect(camel(snake(key)), key).toBe(key);
  });
});
