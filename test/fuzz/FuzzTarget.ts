import type { Arbitrary } from 'fast-check';

/**
 * One entry point that takes input from the network, a client or an
 * operator, as the fuzz harness sees it: how to make inputs, and how to tell
 * a correct answer from a finding.
 *
 * `check` returns undefined when the entry point answered within its
 * contract (a valid parse, a counted error code, the documented error class)
 * and a sentence naming what broke otherwise. A throw out of `check` is a
 * finding too: the network parsers must never throw. Both the bounded
 * property test (test/fuzz/properties.test.ts) and the long runs
 * (`npm run fuzz`, test/fuzz/run.ts) go through these entries, so a new
 * parser plugs in with one entry in test/fuzz/registry.ts.
 */
export interface FuzzTarget<I = unknown> {
  /** `--target NAME` on the command line; kebab-case, unique. */
  readonly name: string;
  /** What it fuzzes, for the run's table. */
  readonly entry: string;
  readonly inputs: Arbitrary<I>;
  check(input: I): string | undefined;
  /** Inputs per CI run; small enough that the whole property suite stays within its few seconds. */
  readonly ciRuns: number;
}

/** Keeps each entry's input type checked against its own `check` while the registry holds them side by side. */
export const fuzzTarget = <I>(t: FuzzTarget<I>): FuzzTarget<unknown> => t as FuzzTarget<unknown>;

/** A short printable form of an input for a finding's report. */
export function showInput(input: unknown, maxChars = 400): string {
  const text =
    input instanceof Uint8Array
      ? `bytes:${Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('hex')}`
      : JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : v));
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} chars)` : text;
}
