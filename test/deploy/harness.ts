/**
 * The rehearsal's bookkeeping: the functions of the template (each with its handler name, resolved
 * environment and warm process), the invocations made and their outcome, and the report.
 */
import type { FunctionSpec } from './template.js';
import { FunctionProcess, type InvokeResult } from './runner.js';

export interface RehearsedFunction {
  spec: FunctionSpec;
  /** functions/<handler>.ts the bundle was built from (from its source map), or undefined. */
  handlerName: string | undefined;
  functionName: string;
  environment: Record<string, string>;
  process: FunctionProcess | undefined;
  /** Why it cannot run at all (no bundle, an environment that does not resolve). */
  blocked?: string;
  /** Why it is not invoked (said in the table). */
  notRehearsed?: string;
}

export interface Step {
  function: string;
  event: string;
  ok: boolean;
  status: string;
  durationMs: number;
  coldStart: boolean;
  initMs?: number;
  detail?: string;
}

/** At most this many warm processes at once (2 cores, ~60–120 MB each): the least recently used is stopped. */
const MAX_WARM = 10;

export class Harness {
  readonly steps: Step[] = [];
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  private readonly warm: RehearsedFunction[] = [];

  /**
   * @param observer told when each invocation starts and ends, the end while the function's process still
   * runs (the rehearsal attributes store connections to invocations and audits where they go).
   */
  constructor(
    readonly functions: RehearsedFunction[],
    private readonly observer: { before?: (fn: RehearsedFunction) => void; after?: (fn: RehearsedFunction) => void } = {},
  ) {}

  byHandler(name: string): RehearsedFunction | undefined {
    return this.functions.find((fn) => fn.handlerName === name);
  }

  has(name: string): boolean {
    const fn = this.byHandler(name);
    return fn !== undefined && fn.process !== undefined && !fn.blocked;
  }

  private async keepWarm(fn: RehearsedFunction): Promise<void> {
    const index = this.warm.indexOf(fn);
    if (index >= 0) this.warm.splice(index, 1);
    this.warm.push(fn);
    while (this.warm.length > MAX_WARM) await this.warm.shift()!.process?.stop();
  }

  /**
   * Invokes the function serving `handler` with `event`; `check` returns what is wrong with the result (or
   * undefined). Returns the result when the invocation succeeded and passed the check.
   */
  async invoke(
    handler: string,
    label: string,
    event: unknown,
    check: (result: unknown) => { status: string; problem?: string },
  ): Promise<unknown> {
    const fn = this.byHandler(handler);
    if (!fn?.process || fn.blocked) {
      this.record({ function: handler, event: label, ok: false, status: 'not run', durationMs: 0, coldStart: false, detail: fn?.blocked ?? `no function in the template serves functions/${handler}.ts` });
      return undefined;
    }
    await this.keepWarm(fn);
    this.observer.before?.(fn);
    const outcome: InvokeResult = await fn.process.invoke(event);
    this.observer.after?.(fn);
    if (!outcome.ok) {
      this.record({
        function: handler,
        event: label,
        ok: false,
        status: outcome.error?.errorType ?? 'error',
        durationMs: outcome.durationMs,
        coldStart: outcome.coldStart,
        initMs: outcome.initMs,
        detail: `${outcome.error?.errorType}: ${outcome.error?.errorMessage}\n${(outcome.error?.stack ?? []).slice(0, 8).join('\n')}`,
        output: fn.process.output,
      });
      return undefined;
    }
    let verdict: { status: string; problem?: string };
    try {
      verdict = check(outcome.result);
    } catch (error) {
      verdict = { status: 'invalid', problem: (error as Error).message };
    }
    this.record({
      function: handler,
      event: label,
      ok: !verdict.problem,
      status: verdict.status,
      durationMs: outcome.durationMs,
      coldStart: outcome.coldStart,
      initMs: outcome.initMs,
      detail: verdict.problem,
      output: verdict.problem ? fn.process.output : undefined,
    });
    return verdict.problem ? undefined : outcome.result;
  }

  private record(step: Step & { output?: string[] }): void {
    const { output, ...rest } = step;
    this.steps.push(rest);
    const mark = rest.ok ? 'ok  ' : 'FAIL';
    const cold = rest.coldStart ? ` cold (init ${Math.round(rest.initMs ?? 0)} ms)` : '';
    console.log(`  ${mark} ${rest.function.padEnd(22)} ${rest.event.padEnd(44)} ${rest.status.padEnd(10)} ${String(Math.round(rest.durationMs)).padStart(6)} ms${cold}`);
    if (!rest.ok) {
      const tail = (output ?? []).slice(-60);
      this.failures.push(
        `${rest.function} — ${rest.event}: ${rest.status}\n${indent(rest.detail ?? '')}${tail.length > 0 ? `\n  function output (last ${tail.length} lines):\n${indent(tail.join('\n'), 4)}` : ''}`,
      );
    }
  }

  fail(message: string): void {
    this.failures.push(message);
    console.log(`  FAIL ${message.split('\n')[0]}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.functions.map((fn) => (fn.process ? fn.process.stop().catch(() => undefined) : Promise.resolve())));
  }

  /** Every function of the template and what was rehearsed for it. */
  table(): string {
    const rows = this.functions.map((fn) => {
      const steps = this.steps.filter((step) => step.function === (fn.handlerName ?? fn.spec.logicalId));
      const name = fn.handlerName ?? '?';
      const what = steps.length > 0
        ? steps.map((step) => `${step.ok ? '' : '✗ '}${step.event}`).join('; ')
        : `NOT REHEARSED: ${fn.blocked ?? fn.notRehearsed ?? 'no scenario step invokes it'}`;
      const cold = steps.find((step) => step.coldStart);
      return { logicalId: fn.spec.logicalId, name, ok: steps.every((step) => step.ok) ? (steps.length > 0 ? 'ok' : '—') : 'FAIL', init: cold?.initMs !== undefined ? `${Math.round(cold.initMs)}` : '', what };
    });
    const width = (key: keyof (typeof rows)[number], min: number) => Math.max(min, ...rows.map((row) => row[key].length));
    const w = { logicalId: width('logicalId', 10), name: width('name', 8) };
    const header = `${'logical id'.padEnd(w.logicalId)}  ${'handler'.padEnd(w.name)}  ${'result'.padEnd(6)}  ${'init ms'.padStart(7)}  rehearsed`;
    return [header, '-'.repeat(header.length + 20), ...rows.map((row) => `${row.logicalId.padEnd(w.logicalId)}  ${row.name.padEnd(w.name)}  ${row.ok.padEnd(6)}  ${row.init.padStart(7)}  ${row.what}`)].join('\n');
  }
}

export function indent(text: string, spaces = 2): string {
  return text
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}
