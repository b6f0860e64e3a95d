import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder, type G722Exports } from '../../src/dsp/g722.ts';
import { KernelMemory } from '../../src/dsp/KernelMemory.ts';
import { LevelMeter, type LevelExports } from '../../src/dsp/level.ts';
import { Mixer, type MixerExports } from '../../src/dsp/mixer.ts';
import { OpusDecoder, OpusEncoder } from '../../src/dsp/opus.ts';
import { opusWasm } from '../../src/dsp/opusWasm.ts';
import { Concealer, type PlcExports } from '../../src/dsp/plc.ts';
import { Resampler, type ResamplerExports } from '../../src/dsp/resampler.ts';
import { TimeStretcher, type TimeStretchExports } from '../../src/dsp/timeStretch.ts';
import { Vad, type VadExports } from '../../src/dsp/vad.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';

// A full collection on demand, without starting the test process with
// --expose-gc: the flag set now gives the next new context a `gc` function.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Wrapper {
  destroy(): void;
}

/**
 * Every kind of wrapper over WebAssembly memory, as a stream would create it,
 * and the memory it allocates from. Each DSP kind gets an instance of its
 * own: the allocator doubles the memory when it grows, so in a memory another
 * kind had grown, a small wrapper's leak could fit unseen. The two Opus kinds
 * share the thread's libopus, the decoder first; both leak far more than the
 * other leaves free.
 */
type Kind = () => { memory: WebAssembly.Memory; make: () => Wrapper };
/** The DSP core exports every wrapper below calls: one instance has them all. */
type DspCore = ResamplerExports & PlcExports & VadExports & MixerExports & LevelExports & TimeStretchExports & G722Exports;
function dspKind(make: (core: DspCore) => Wrapper): Kind {
  return () => {
    const core = newDspInstance<DspCore>();
    return { memory: core.memory, make: () => make(core) };
  };
}
const opusKind = (make: () => Wrapper): Kind => () => ({ memory: opusWasm().exports.memory, make });
const WRAPPERS: Record<string, Kind> = {
  Resampler: dspKind((core) => new Resampler(8000, 16000, core)),
  Concealer: dspKind((core) => new Concealer(8000, {}, core)),
  Vad: dspKind((core) => new Vad(8000, {}, core)),
  Mixer: dspKind((core) => new Mixer(4, 160, core)),
  LevelMeter: dspKind((core) => new LevelMeter(960, core)),
  TimeStretcher: dspKind((core) => new TimeStretcher(8000, core)),
  G722Encoder: dspKind((core) => new G722Encoder(core)),
  G722Decoder: dspKind((core) => new G722Decoder(core)),
  OpusDecoder: opusKind(() => new OpusDecoder({ rateHz: 8000 })),
  OpusEncoder: opusKind(() => new OpusEncoder({ rateHz: 8000, backend: 'wasm' })),
};
const KINDS = Object.keys(WRAPPERS).length;
/** 100,000 wrappers in all, in batches of this many of one kind. */
const BATCH = 2500;
const BATCHES_PER_KIND = Math.ceil(100_000 / KINDS / BATCH);
/**
 * Growth allowed after the first batch: 16 pages. A leak of the smallest
 * wrapper (a G.722 coder, ~0.1 KiB of state) grows the memory by 3 MiB over
 * the later batches; the others by 25 to 300 MiB.
 */
const SLACK_BYTES = 16 * 65536;

/**
 * Collects, then lets the FinalizationRegistry's clean-up task run: V8 posts
 * it to Node's platform queue, which the event loop drains in its poll
 * phase; setImmediate callbacks run in the check phase after it (a timer
 * could fire before it).
 */
async function collect(): Promise<void> {
  gc();
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

function dropBatch(make: () => Wrapper): void {
  for (let i = 0; i < BATCH; i++) make();
}

describe('KernelMemory', () => {
  it('frees the state block and its buffers once, on the first dispose()', () => {
    const core = newDspInstance();
    const destroyed: number[] = [];
    const memory = new KernelMemory(core, 'Probe');
    const state = memory.adopt(core.alloc(64), (ptr) => {
      destroyed.push(ptr);
      core.free(ptr);
    });
    const buf = memory.i16(32);
    expect(memory.state).toBe(state);
    memory.dispose();
    memory.dispose();
    expect(destroyed).toEqual([state]);
    expect(memory.state).toBe(0);
    expect(memory.disposed).toBe(true);
    // The freed blocks are the allocator's again: the same sizes come back at the same places.
    expect([core.alloc(64), core.alloc(64)].sort()).toEqual([state, buf.ptr].sort());
  });

  it('is a clear error to use after dispose, naming the owner and what was asked', () => {
    const core = newDspInstance();
    const memory = new KernelMemory(core, 'Probe');
    memory.dispose();
    expect(() => memory.i16(4)).toThrow('Probe destroyed [op:allocate]');
    expect(() => memory.adopt(core.alloc(8), () => undefined)).toThrow('Probe destroyed [op:adopt]');
    expect(() => memory.assertLive('input:3')).toThrow('Probe destroyed [input:3]');
    const live = new KernelMemory(core, 'Probe');
    expect(() => live.adopt(0, () => undefined, 'rateHz:7')).toThrow(
      'Probe: the DSP kernel refused to create its state [rateHz:7]',
    );
    expect(() => live.i16(0)).toThrow(/bad buffer size \[bytes:0\]/);
  });

  it('wrappers report use after destroy() at control time, and return counts per frame', () => {
    const mixer = new Mixer(2, 160);
    mixer.destroy();
    mixer.destroy();
    expect(() => mixer.setGain(0, 1)).toThrow('mixer destroyed [input:0]');
    expect(() => mixer.input(1)).toThrow('mixer destroyed [input:1]');
    expect(mixer.copyIn(0, new Int16Array(160))).toBe(0);
    expect(mixer.mixMinusOne(2)).toBe(0);
    const r = new Resampler(8000, 16000);
    r.destroy();
    r.destroy();
    expect(r.process(new Int16Array(160), new Int16Array(320))).toBe(0);
    expect(() => r.reset()).not.toThrow();
  });

  it(`creating and destroying ${(KINDS * BATCH * BATCHES_PER_KIND).toLocaleString('en-US')} wrappers leaves WebAssembly memory flat`, () => {
    for (const [kind, setUp] of Object.entries(WRAPPERS)) {
      const { memory, make } = setUp();
      for (let i = 0; i < BATCH; i++) make().destroy();
      const first = memory.buffer.byteLength;
      for (let b = 1; b < BATCHES_PER_KIND; b++) for (let i = 0; i < BATCH; i++) make().destroy();
      expect({ kind, grownBytes: memory.buffer.byteLength - first }).toEqual({ kind, grownBytes: 0 });
    }
  });

  it(`dropping ${(KINDS * BATCH * BATCHES_PER_KIND).toLocaleString('en-US')} wrappers without destroy() leaves WebAssembly memory flat once collected`, async () => {
    for (const [kind, setUp] of Object.entries(WRAPPERS)) {
      const { memory, make } = setUp();
      dropBatch(make);
      await collect();
      const first = memory.buffer.byteLength;
      for (let b = 1; b < BATCHES_PER_KIND; b++) {
        dropBatch(make);
        await collect();
      }
      const grownBytes = memory.buffer.byteLength - first;
      expect({ kind, flat: grownBytes <= SLACK_BYTES, grownBytes }).toEqual({ kind, flat: true, grownBytes });
    }
  });
});
