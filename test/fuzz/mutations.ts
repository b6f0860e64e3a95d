import fc from 'fast-check';

/**
 * Inputs near valid ones: a corpus entry put through a few edits (bit flips,
 * boundary bytes, truncation, random tails, splices of another entry). Most
 * of what reaches a parser from the network is like this, a valid packet
 * damaged, and such inputs get past the first length and version checks that
 * random bytes rarely pass. Built from fast-check arbitraries, so a failing
 * input shrinks to fewer edits.
 */

const INTERESTING = [0x00, 0x01, 0x0f, 0x10, 0x20, 0x3f, 0x7f, 0x80, 0xbe, 0xc8, 0xca, 0xde, 0xfe, 0xff];

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; from: number; other: number };

const position = fc.nat({ max: 0xffff });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 255 })) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: position, from: position, other: fc.nat() }),
);

function applyEdits(src: Uint8Array, edits: readonly Edit[], corpus: readonly Uint8Array[]): Uint8Array {
  let out = Uint8Array.from(src);
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.kind === 'append' ? 0 : e.at % out.length;
    switch (e.kind) {
      case 'flip':
        if (out.length > 0) out[at]! ^= 1 << e.bit;
        break;
      case 'set':
        if (out.length > 0) out[at] = e.value;
        break;
      case 'truncate':
        out = out.subarray(0, at);
        break;
      case 'append': {
        const next = new Uint8Array(out.length + e.bytes.length);
        next.set(out);
        next.set(e.bytes, out.length);
        out = next;
        break;
      }
      default: {
        const other = corpus[e.other % corpus.length]!;
        const tail = other.subarray(other.length === 0 ? 0 : e.from % other.length);
        const next = new Uint8Array(at + tail.length);
        next.set(out.subarray(0, at));
        next.set(tail, at);
        out = next;
      }
    }
  }
  return out;
}

/** A corpus entry with 0–4 edits, or (one time in five) bytes with no corpus behind them. */
export function mutatedBytes(corpus: readonly Uint8Array[], maxLength = 1500): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...corpus), fc.array(edit, { maxLength: 4 })).map(([src, edits]) => applyEdits(src, edits, corpus)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
  );
}

/** Text near the corpus: the same edits on its UTF-8 bytes (so invalid sequences become U+FFFD), or any string. */
export function mutatedText(corpus: readonly string[]): fc.Arbitrary<string> {
  const bytes = corpus.map((s) => new TextEncoder().encode(s));
  const decoder = new TextDecoder();
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...bytes), fc.array(edit, { maxLength: 4 })).map(([src, edits]) => decoder.decode(applyEdits(src, edits, bytes))) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  );
}
