/**
 * The raw audio stream leg (WS /v1/stream) against the Twilio leg
 * (WS /twilio/media): CPU per call of one daemon (`switchboard start` in a
 * child process; the callers are in this process) at the same call count,
 * the same codec (µ-law, 8 kHz) and the same agent (loopback: every frame
 * in comes back out), measured side by side in one run. Both legs run the
 * same jitter buffer and agent; what differs is the wire (base64 JSON vs an
 * 8-byte binary header) and the leg's pacing and marks.
 */
import { cpus } from 'node:os';
import { StreamClient } from '../src/cli/StreamClient.ts';
import { TwilioClient } from '../test/peers/TwilioClient.ts';
import { readPcm16Wav } from '../test/peers/speech.ts';
import { ulawEncodeSample } from '../test/peers/g711.ts';
import { readFixture } from '../test/helpers/fixtures.ts';
import { startTwilioDaemon, type TwilioDaemon } from '../test/helpers/twilioDaemon.ts';
import { printTable } from './table.ts';

const CALL_COUNTS = [50, 100];
/** Calls connect this far apart, as calls arrive. */
const ARRIVAL_GAP_MS = 20;
/** After the last call connected: set-up is over, the jitter buffers have settled. */
const SETTLE_MS = 1500;
/** The measured window: CPU is counted in 10 ms clock ticks, so seconds keep it within a fraction of a percent. */
const WINDOW_MS = 6000;
const IDLE_MS = 5000;
const WARM_UP_CALLS = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Transport = 'twilio' | 'stream';

interface Run {
  transport: Transport;
  calls: number;
  windowS: number;
  framesIn: number;
  framesOut: number;
  daemonCpuS: number;
  callersCpuS: number;
}

/** `ms` of the talker at 8 kHz, looped. */
function talker(ms: number): Int16Array {
  const { samples } = readPcm16Wav(readFixture('speech/synth-m-8k.wav'), 'synth-m-8k');
  const out = new Int16Array(ms * 8);
  for (let i = 0; i < out.length; i++) out[i] = samples[i % samples.length]!;
  return out;
}

interface Caller {
  connect(): Promise<unknown>;
  /** Frames sent and received so far. */
  counts(): { in: number; out: number };
  end(): Promise<void>;
}

function twilioCaller(d: TwilioDaemon, i: number, pcm: Int16Array): Caller {
  const audio = new Uint8Array(pcm.length);
  for (let k = 0; k < pcm.length; k++) audio[k] = ulawEncodeSample(pcm[k]!);
  const p = new TwilioClient({
    url: d.mediaUrl,
    audio,
    afterAudio: 'silence',
    streamSid: 'MZ' + i.toString(16).padStart(32, '0'),
    customParameters: { agent: 'loopback' },
  });
  return {
    connect: () => p.connect(),
    counts: () => ({ in: p.sentMedia.length, out: p.received.filter((r) => r.text.includes('"event":"media"')).length }),
    end: async () => p.hangup(),
  };
}

function streamCaller(d: TwilioDaemon, pcm: Int16Array): Caller {
  const c = new StreamClient({ url: `ws://127.0.0.1:${d.port}/v1/stream`, codec: 'pcmu', rateHz: 8000, agent: 'loopback' });
  let sending: Promise<void> = Promise.resolve();
  return {
    connect: async () => {
      await c.connect();
      sending = c.sendAudio(pcm);
    },
    counts: () => ({ in: c.framesSent, out: c.framesReceived }),
    end: async () => {
      await c.stop();
      await sending.catch(() => undefined);
      c.abort();
    },
  };
}

async function run(d: TwilioDaemon, transport: Transport, calls: number): Promise<Run> {
  const leadMs = SETTLE_MS + calls * ARRIVAL_GAP_MS;
  const pcm = talker(leadMs + WINDOW_MS + 500);
  const callers = Array.from({ length: calls }, (_, i) => (transport === 'twilio' ? twilioCaller(d, i, pcm) : streamCaller(d, pcm)));
  const sum = (): { in: number; out: number } => callers.map((c) => c.counts()).reduce((a, b) => ({ in: a.in + b.in, out: a.out + b.out }), { in: 0, out: 0 });
  const t0 = performance.now();
  await Promise.all(callers.map((c, i) => sleep(i * ARRIVAL_GAP_MS).then(() => c.connect())));
  await sleep(Math.max(0, t0 + leadMs - performance.now()));
  const c0 = sum();
  const cpu0 = d.cpuSeconds();
  const me0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = sum();
  const cpu1 = d.cpuSeconds();
  const me = process.cpuUsage(me0);
  const windowS = (performance.now() - w0) / 1000;
  await Promise.all(callers.map((c) => c.end()));
  for (let waited = 0; (await d.calls()).length > 0 && waited < 10_000; waited += 100) await sleep(100);
  return {
    transport,
    calls,
    windowS,
    framesIn: c1.in - c0.in,
    framesOut: c1.out - c0.out,
    daemonCpuS: cpu1 - cpu0,
    callersCpuS: (me.user + me.system) / 1e6,
  };
}

export default async function (): Promise<void> {
  const d = await startTwilioDaemon();
  try {
    // Both paths compiled before anything is measured.
    await run(d, 'twilio', WARM_UP_CALLS);
    await run(d, 'stream', WARM_UP_CALLS);
    const runs: Run[] = [];
    // Side by side at each count, so the machine's load at the time touches both alike.
    for (const n of CALL_COUNTS) {
      runs.push(await run(d, 'twilio', n));
      runs.push(await run(d, 'stream', n));
    }
    const idle0 = d.cpuSeconds();
    await sleep(IDLE_MS);
    const idlePct = ((d.cpuSeconds() - idle0) / (IDLE_MS / 1000)) * 100;
    const perCall = (r: Run): number => ((r.daemonCpuS / r.windowS) * 100 - idlePct) / r.calls;

    printTable(
      `Raw stream leg vs Twilio leg: daemon CPU per call (all its threads, /proc/<pid>/stat, above an idle daemon's ` +
        `${idlePct.toFixed(1)} % of a core), loopback agent, µ-law 8 kHz both ways, ${WINDOW_MS / 1000} s windows after set-up; ` +
        `frames in/out per second as the callers counted them; ${cpus().length} cores shared by daemon and callers`,
      runs.map((r) => {
        const twin = runs.find((o) => o.calls === r.calls && o.transport === 'twilio')!;
        return {
          leg: r.transport,
          calls: r.calls,
          'window s': r.windowS,
          'frames in/s': r.framesIn / r.windowS,
          'frames out/s': r.framesOut / r.windowS,
          'daemon CPU % of a core': (r.daemonCpuS / r.windowS) * 100,
          'CPU % per call': perCall(r),
          '÷ Twilio per call': perCall(r) / perCall(twin),
          'callers CPU % (this process)': (r.callersCpuS / r.windowS) * 100,
        };
      }),
    );
  } finally {
    await d.stop();
  }
}
