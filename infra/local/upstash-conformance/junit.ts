/**
 * Reads the JUnit XML that `bun test --reporter=junit` writes into one outcome per test, named by its file and
 * the describe blocks around it (`outer > inner > test`), the way the record and cannot-pass.json name tests.
 */
export type TestStatus = 'pass' | 'fail' | 'skip';

export interface TestOutcome {
  file: string;
  name: string;
  status: TestStatus;
}

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

function decode(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (entity) => ENTITIES[entity]!);
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decode(match[1]!) : undefined;
}

export function parseJunit(xml: string): TestOutcome[] {
  const outcomes: TestOutcome[] = [];
  // The first suite on the stack is the file; the ones inside it are describe blocks.
  const suites: string[] = [];
  let file = '';
  const tags = /<testsuite\b[^>]*>|<\/testsuite>|<testcase\b[^>]*?\/>|<testcase\b[^>]*>([\s\S]*?)<\/testcase>/g;
  for (let match = tags.exec(xml); match; match = tags.exec(xml)) {
    const tag = match[0];
    if (tag.startsWith('</testsuite')) {
      suites.pop();
      continue;
    }
    if (tag.startsWith('<testsuite')) {
      const name = attribute(tag, 'name') ?? '';
      if (suites.length === 0) file = attribute(tag, 'file') ?? name;
      suites.push(name);
      continue;
    }
    const body = match[1] ?? '';
    const status: TestStatus = body.includes('<failure') || body.includes('<error') ? 'fail' : body.includes('<skipped') ? 'skip' : 'pass';
    outcomes.push({ file, name: [...suites.slice(1), attribute(tag, 'name') ?? ''].join(' > '), status });
  }
  return outcomes;
}
