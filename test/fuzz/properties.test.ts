import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { showInput } from './FuzzTarget.ts';
import { FUZZ_TARGETS } from './registry.ts';

/**
 * Every registered entry point against its contract with fast-check, bounded
 * for CI (each target's `ciRuns`, seeded so a failure replays). Long runs:
 * `npm run fuzz`.
 */
describe('fuzz properties', () => {
  it('names each target once', () => {
    const names = FUZZ_TARGETS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${target.entry}`, () => {
      fc.assert(
        fc.property(target.inputs, (input) => {
          const problem = target.check(input);
          if (problem !== undefined) throw new Error(`${problem} [input:${showInput(input)}]`);
        }),
        { numRuns: target.ciRuns, seed: 0x5eed },
      );
    });
  }
});
