/**
 * Which of the client's command tests cannot pass against the local endpoint, and why (cannot-pass.json), and
 * the comparison of a run with that list: a failure not listed is the endpoint's to fix; a listed test that
 * passes should leave the list.
 */
import { readFileSync } from 'node:fs';
import type { TestOutcome } from './junit.js';

export interface CannotPass {
  reason: string;
  /** Test files, `*` matching any run of characters but `/`. */
  files: string[];
  /** Only these tests of the files (`describe > test`); every test of the files when absent. */
  tests?: string[];
  /** The failure is expected only on a Redis older than this: from it on, the command exists. */
  redisBelow?: string;
}

export function loadCannotPass(path: string): CannotPass[] {
  return JSON.parse(readFileSync(path, 'utf8')) as CannotPass[];
}

function filePattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}

function versionBelow(version: string, bound: string): boolean {
  const [a, b] = [version, bound].map((text) => text.split('.').map(Number));
  for (let index = 0; index < 3; index++) {
    const difference = (a![index] ?? 0) - (b![index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}

/** The entry that excuses this test on this Redis, if any. */
export function excuse(entries: CannotPass[], test: TestOutcome, redisVersion: string): CannotPass | undefined {
  return entries.find(
    (entry) =>
      entry.files.some((glob) => filePattern(glob).test(test.file)) &&
      (entry.tests === undefined || entry.tests.includes(test.name)) &&
      (entry.redisBelow === undefined || versionBelow(redisVersion, entry.redisBelow)),
  );
}

export interface Verdict {
  unexpectedFailures: TestOutcome[];
  /** Tests listed by name that passed: the list is out of date. */
  listedButPassing: TestOutcome[];
}

export function judge(entries: CannotPass[], outcomes: TestOutcome[], redisVersion: string): Verdict {
  const unexpectedFailures = outcomes.filter((test) => test.status === 'fail' && !excuse(entries, test, redisVersion));
  const listedButPassing = outcomes.filter(
    (test) => test.status === 'pass' && excuse(entries, test, redisVersion)?.tests?.includes(test.name) === true,
  );
  return { unexpectedFailures, listedButPassing };
}
