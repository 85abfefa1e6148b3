/** Writes RECORD.md: per test file of the client's command suite, what passes and what cannot, and why. */
import { writeFileSync } from 'node:fs';
import { excuse, type CannotPass } from './expectations.js';
import type { TestOutcome } from './junit.js';

export interface RunConditions {
  redisJsCommit: string;
  redisVersion: string;
  bunVersion: string;
  date: string;
}

export function writeRecord(path: string, entries: CannotPass[], outcomes: TestOutcome[], conditions: RunConditions): void {
  const byFile = new Map<string, TestOutcome[]>();
  for (const test of outcomes) byFile.set(test.file, [...(byFile.get(test.file) ?? []), test]);
  const count = (tests: TestOutcome[], status: TestOutcome['status']) => tests.filter((test) => test.status === status).length;

  const lines = [
    '# `@upstash/redis` command tests against the local endpoint',
    '',
    'Written by `infra/local/upstash-conformance/run.ts --write-record`; do not edit by hand (the reasons come from',
    '`cannot-pass.json`).',
    '',
    `- upstash/redis-js commit \`${conditions.redisJsCommit}\`, \`bun test pkg/commands\` (bun ${conditions.bunVersion})`,
    `- Redis ${conditions.redisVersion} (a throwaway redis-server), endpoint \`infra/local/upstash-rest.ts\`, ${conditions.date}`,
    `- ${count(outcomes, 'pass')} pass, ${count(outcomes, 'fail')} cannot pass, ${count(outcomes, 'skip')} skipped by the suite itself, of ${outcomes.length} tests in ${byFile.size} files`,
    '',
    '| Test file | Pass | Cannot pass | Skipped | Why not |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  const details: string[] = [];
  for (const file of [...byFile.keys()].sort()) {
    const tests = byFile.get(file)!;
    const failed = tests.filter((test) => test.status === 'fail');
    const reasons = [...new Set(failed.map((test) => excuse(entries, test, conditions.redisVersion)?.reason ?? 'NOT EXPLAINED: a bug to fix'))];
    lines.push(`| ${file} | ${count(tests, 'pass')} | ${failed.length} | ${count(tests, 'skip')} | ${reasons.join(' ')} |`);
    if (failed.length > 0 && failed.length < tests.length) {
      details.push(`- ${file}: ${failed.map((test) => `"${test.name}"`).join(', ')}`);
    }
  }
  if (details.length > 0) lines.push('', 'Files where only some tests cannot pass, those tests:', '', ...details);
  writeFileSync(path, `${lines.join('\n')}\n`);
}
