/**
 * The figures of a bench run, as results.json's `figures` list: one entry per measured figure with its target,
 * the ratio the target is about, the ratio's 95 % interval, whether it is met and under which conditions. The
 * report and the README's performance table (test/bench/readme.ts) are rendered from this list only.
 */
import { round } from './stats.js';

export interface Figure {
  /** Stable key, e.g. `warm.createMessage.p50`. */
  id: string;
  /** What is measured, in words. */
  name: string;
  section: string;
  value: number;
  unit: 'ms' | 'KB' | 'MB' | '×' | 'count' | 'per s';
  /** The target in words (`≤ 1.3× floor`), or undefined for a figure without one. */
  target?: string | undefined;
  /** What the target compares: value / limit for absolute targets, the handler/floor ratio for relative ones. */
  ratio?: number | undefined;
  ci95?: [number, number] | undefined;
  /** The target holds on the point estimate. */
  met?: boolean | undefined;
  /** The target holds on the whole interval (upper bound within the limit). */
  metWithConfidence?: boolean | undefined;
  /** By how much a missed target is missed, in words (`×1.8 over`). */
  missedBy?: string | undefined;
  conditions: string;
}

export class Figures {
  readonly list: Figure[] = [];

  add(figure: Figure): Figure {
    this.list.push(figure);
    return figure;
  }

  /** A figure held to `value / reference ≤ limit` (or ≥ for `atLeast`), the ratio given with its interval. */
  ratioTarget(
    base: Omit<Figure, 'target' | 'ratio' | 'met' | 'metWithConfidence' | 'missedBy'>,
    ratio: number,
    limit: number,
    targetWords: string,
    ci95?: [number, number],
    atLeast = false,
  ): Figure {
    const met = atLeast ? ratio >= limit : ratio <= limit;
    return this.add({
      ...base,
      target: targetWords,
      ratio: round(ratio, 3),
      ci95,
      met,
      metWithConfidence: ci95 ? (atLeast ? ci95[0] >= limit : ci95[1] <= limit) : undefined,
      missedBy: met ? undefined : atLeast ? `×${round(limit / ratio, 2)} short` : `×${round(ratio / limit, 2)} the limit`,
    });
  }

  /** A figure held to an absolute limit (`value ≤ limit`); its ratio is value / limit. */
  limitTarget(base: Omit<Figure, 'target' | 'ratio' | 'met' | 'metWithConfidence' | 'missedBy'>, limit: number, targetWords: string): Figure {
    // A limit of 0 (no errors) has no ratio: the value says it all.
    const ratio = limit === 0 ? undefined : base.value / limit;
    const met = base.value <= limit;
    const over = `${round(base.value - limit, 1)}${base.unit === 'count' ? '' : ` ${base.unit}`} over`;
    return this.add({ ...base, target: targetWords, ratio: ratio === undefined ? undefined : round(ratio, 3), met, missedBy: met ? undefined : ratio === undefined ? over : `${over} (×${round(ratio, 2)})` });
  }
}
