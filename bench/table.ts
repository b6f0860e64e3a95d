import { formatTable } from '../src/cli/table.ts';

/** Prints a titled, aligned text table: the form every benchmark reports in. */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  console.log(formatTable(title, rows));
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns calls per second. */
export function rate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let the JIT tier up
  let calls = 0;
  let batch = 1;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    if (batch < 1 << 16) batch *= 2;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

/** This process's CPU time, ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds of this process's CPU
 * time; returns calls per CPU-second. On a machine shared with other work,
 * wall time also counts the time the others take; CPU time does not.
 */
export function cpuRate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let the JIT tier up
  let calls = 0;
  let batch = 1;
  const start = cpuMs();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    if (batch < 1 << 16) batch *= 2;
    now = cpuMs();
  }
  return (calls * 1000) / (now - start);
}

/**
 * Calls per CPU-second of each function, measured in alternating rounds and
 * the best round of each kept: a change of load on a shared machine while
 * they run hits them alike, so their ratio holds.
 */
export function bestRates(fns: ReadonlyArray<() => void>, rounds = 12, ms = 100): number[] {
  const best = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) best[i] = Math.max(best[i]!, cpuRate(fns[i]!, ms));
  }
  return best;
}
