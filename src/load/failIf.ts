/**
 * `--fail-if` thresholds for CI: a comma-separated list of `figure OP value`
 * (OP one of `<`, `<=`, `>`, `>=`), each naming a figure of the report's
 * summary, e.g. `latencyP99Ms>40,mosP5<4,returnedPct<99.9`. The run exits 1
 * when any holds. A figure the run could not measure (latency without the
 * loopback agent) counts as crossed: a check that cannot be made must not pass.
 */

export type ThresholdOp = '<' | '<=' | '>' | '>=';

export interface Threshold {
  figure: string;
  op: ThresholdOp;
  value: number;
  /** As written, for messages. */
  text: string;
}

export interface CrossedThreshold {
  threshold: Threshold;
  /** null: not measured in this run. */
  actual: number | null;
}

export class FailIfSyntaxError extends RangeError {
  override name = 'FailIfSyntaxError';
}

const TERM = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(<=|>=|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i;

/** Parses the expression against the figures a report has; throws FailIfSyntaxError naming the bad term. */
export function parseFailIf(expr: string, figures: readonly string[]): Threshold[] {
  if (expr.trim() === '') throw new FailIfSyntaxError('--fail-if is empty: expected e.g. latencyP99Ms>40,returnedPct<99.9');
  return expr.split(',').map((raw) => {
    const text = raw.trim();
    const m = TERM.exec(text);
    if (m === null) {
      throw new FailIfSyntaxError(`--fail-if: cannot read "${text.slice(0, 60)}": expected FIGURE<VALUE, FIGURE>VALUE, <= or >=, e.g. latencyP99Ms>40`);
    }
    const [, figure, op, value] = m as unknown as [string, string, ThresholdOp, string];
    if (!figures.includes(figure)) {
      throw new FailIfSyntaxError(`--fail-if: unknown figure "${figure}"; the report has ${figures.join(', ')}`);
    }
    return { figure, op, value: Number(value), text };
  });
}

/** The thresholds that hold for `summary` (unmeasured figures included). */
export function crossedThresholds(thresholds: readonly Threshold[], summary: Readonly<Record<string, number | null>>): CrossedThreshold[] {
  return thresholds.flatMap((threshold): CrossedThreshold[] => {
    const actual = summary[threshold.figure] ?? null;
    if (actual === null || !Number.isFinite(actual)) return [{ threshold, actual: null }];
    const v = threshold.value;
    const holds = threshold.op === '<' ? actual < v : threshold.op === '<=' ? actual <= v : threshold.op === '>' ? actual > v : actual >= v;
    return holds ? [{ threshold, actual }] : [];
  });
}
