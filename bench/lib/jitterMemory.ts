/**
 * Resident memory of one jitter/PLC buffer (what a call's jitter actor
 * holds): STREAMS buffers made as the actor makes them, PACKETS 20 ms
 * packets inserted into each and as many frames pulled, then the growth of
 * the process's RSS, JavaScript heap and off-heap memory (typed arrays and
 * WebAssembly) divided by STREAMS.
 *
 * Measured in a child process of its own (`jitterMemoryPerStream`), with
 * `--expose-gc`, glibc's mmap threshold pinned at 64 KB so a freed large
 * block goes back to the system rather than staying in the malloc arena,
 * and V8's young generation held at its starting size so its growth is not
 * counted: RSS then reflects what is live. It still varies by ±10 KB a
 * stream from run to run; the heap and off-heap figures do not.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createJitterBuffer, parseJitterConfig } from '../../src/actors/jitter/JitterActor.ts';
import type { JitterCodec } from '../../src/actors/jitter/PacketDecoder.ts';
import { OpusEncoder } from '../../src/dsp/opus.ts';

const STREAMS = 300;
const PACKETS = 200;

export interface JitterMemory {
  rssKb: number;
  heapKb: number;
  offHeapKb: number;
  payloadBytes: number;
}

/** Per-stream figures for `codec` at its default rate, from a fresh process. */
export function jitterMemoryPerStream(codec: JitterCodec): JitterMemory {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', fileURLToPath(import.meta.url), codec], {
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' },
    encoding: 'utf8',
  });
  return JSON.parse(out) as JitterMemory;
}

/** A realistic payload: 160 bytes of µ-law, or 20 ms of Opus speech-like tone at 32 kbit/s. */
function payloadFor(codec: JitterCodec, rateHz: number): Uint8Array {
  if (codec !== 'opus') return new Uint8Array(codec === 'L16' ? (rateHz / 50) * 2 : 160).fill(0x55);
  const enc = new OpusEncoder({ rateHz, bitrateBps: 32000 });
  const spf = rateHz / 50;
  const pcm = Int16Array.from({ length: spf }, (_, i) => Math.round(3000 * Math.sin(i / 7)));
  const buf = new Uint8Array(1500);
  const n = enc.encode(pcm, buf);
  enc.destroy();
  return buf.slice(0, n);
}

function measure(codec: JitterCodec): JitterMemory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('jitterMemory: run with --expose-gc');
  const cfg = parseJitterConfig({ codec });
  const payload = payloadFor(codec, cfg.rateHz);
  // The WebAssembly instances and codec scratch exist once per thread, not per stream: made before the baseline.
  createJitterBuffer(cfg).destroy();
  const settle = () => { for (let i = 0; i < 5; i++) gc(); };
  settle();
  const before = process.memoryUsage();
  const buffers = Array.from({ length: STREAMS }, () => createJitterBuffer(cfg));
  const frame = new Int16Array(buffers[0]!.samplesPerFrame);
  const tsStep = buffers[0]!.clockHz / 50;
  for (let p = 0; p < PACKETS; p++) {
    for (const jb of buffers) {
      jb.insert(p, p * tsStep, p * 20, payload, payload.length, p === 0, 1);
      jb.pull(frame, p * 20 + 7);
    }
  }
  settle();
  const after = process.memoryUsage();
  const kb = (bytes: number) => Math.round((10 * bytes) / 1024 / STREAMS) / 10;
  const result = {
    rssKb: kb(after.rss - before.rss),
    heapKb: kb(after.heapUsed - before.heapUsed),
    offHeapKb: kb(after.external - before.external),
    payloadBytes: payload.length,
  };
  for (const jb of buffers) jb.destroy();
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(measure(process.argv[2] as JitterCodec)));
}
