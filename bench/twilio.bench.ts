/**
 * The Twilio path end to end against one daemon (`switchboard start` in a
 * child process; the callers are Media Streams peers in this process):
 * - engine time from the end of a caller's turn to the echo agent's first
 *   audio, at 1 and at 100 concurrent calls;
 * - Media Streams messages handled per CPU-second of the daemon (all its
 *   threads: main, media, network and agent workers), and CPU per call.
 */
import { cpus } from 'node:os';
import { TwilioClient } from '../test/peers/TwilioClient.ts';
import { percentile } from '../test/helpers/twilioCalls.ts';
import { startTwilioDaemon, type TwilioDaemon } from '../test/helpers/twilioDaemon.ts';
import { hangoverMs as vadHangoverMs, planTurns, type TurnPlan } from './lib/twilioTurns.ts';
import { printTable } from './table.ts';

const VOICES = ['synth-m-8k', 'synth-f-8k'];
const SPEECH_MS = 600;
/** Room for the echo (preroll + turn + hangover ≈ 900 ms) to finish before the next turn. */
const SILENCE_MS = 1500;
const PERIOD_MS = SPEECH_MS + SILENCE_MS;
/** Calls connect this far apart, as calls arrive. */
const ARRIVAL_GAP_MS = 20;
/** Silence before the first turn, after the last call connected: call set-up is over when turns start. */
const LEAD_MS = 1500;
/** CPU is counted in 10 ms clock ticks: a long idle window keeps the idle figure within a few tenths of a percent. */
const IDLE_MS = 5000;
const WARM_UP_CALLS = 20;
const DRAIN_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  calls: number;
  latenciesMs: number[];
  /** Turns whose echo did not start before the next turn (not counted in the latencies). */
  missed: number;
  windowS: number;
  messagesIn: number;
  messagesOut: number;
  daemonCpuS: number;
  callersCpuS: number;
}

function counts(peers: TwilioClient[]): { in: number; out: number } {
  let sent = 0;
  let got = 0;
  for (const p of peers) {
    sent += p.sentMedia.length + p.marks.length;
    got += p.received.length;
  }
  return { in: sent, out: got };
}

/** Engine time of each turn: first agent media received − last speech chunk sent − hangover. */
function turnLatencies(p: TwilioClient, plan: TurnPlan, hangoverMs: number): { ms: number[]; missed: number } {
  const media = p.received.filter((r) => r.text.includes('"event":"media"'));
  const ms: number[] = [];
  let missed = 0;
  plan.lastSpeechChunk.forEach((c, t) => {
    const sentAt = p.sentMedia[c]?.atMs;
    const nextAt = p.sentMedia[plan.nextTurnChunk[t]!]?.atMs ?? Infinity;
    const first = sentAt === undefined ? undefined : media.find((r) => r.atMs >= sentAt);
    if (sentAt === undefined || first === undefined || first.atMs >= nextAt) missed++;
    else ms.push(first.atMs - sentAt - hangoverMs);
  });
  return { ms, missed };
}

async function run(d: TwilioDaemon, calls: number, turns: number, hangoverMs: number): Promise<Run> {
  const leadMs = LEAD_MS + calls * ARRIVAL_GAP_MS;
  const plans = VOICES.map((v) => planTurns(v, turns, SPEECH_MS, SILENCE_MS, leadMs));
  const peers: TwilioClient[] = [];
  for (let i = 0; i < calls; i++) {
    peers.push(
      new TwilioClient({
        url: d.mediaUrl,
        audio: plans[i % plans.length]!.audio,
        afterAudio: 'silence',
        streamSid: 'MZ' + i.toString(16).padStart(32, '0'),
        customParameters: { agent: 'echo' },
      }),
    );
  }
  const t0 = performance.now();
  await Promise.all(peers.map((p, i) => sleep(i * ARRIVAL_GAP_MS).then(() => p.connect())));
  // The window: every call is past its lead silence, until the first call's last turn is over.
  await sleep(Math.max(0, t0 + leadMs - performance.now()));
  const c0 = counts(peers);
  const cpu0 = d.cpuSeconds();
  const me0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(turns * PERIOD_MS - calls * ARRIVAL_GAP_MS);
  const c1 = counts(peers);
  const cpu1 = d.cpuSeconds();
  const me = process.cpuUsage(me0);
  const windowS = (performance.now() - w0) / 1000;
  // The last call's last echo.
  await sleep(calls * ARRIVAL_GAP_MS + DRAIN_MS);

  const latenciesMs: number[] = [];
  let missed = 0;
  peers.forEach((p, i) => {
    const r = turnLatencies(p, plans[i % plans.length]!, hangoverMs);
    latenciesMs.push(...r.ms);
    missed += r.missed;
  });
  for (const p of peers) p.hangup();
  for (let waited = 0; (await d.calls()).length > 0 && waited < 10_000; waited += 100) await sleep(100);
  return {
    calls,
    latenciesMs,
    missed,
    windowS,
    messagesIn: c1.in - c0.in,
    messagesOut: c1.out - c0.out,
    daemonCpuS: cpu1 - cpu0,
    callersCpuS: (me.user + me.system) / 1e6,
  };
}

export default async function (): Promise<void> {
  const hangoverMs = vadHangoverMs();
  const d = await startTwilioDaemon();
  try {
    // A daemon that has been up a while has its path compiled: warm it up first (not reported),
    // and measure the 1-call run last.
    await run(d, WARM_UP_CALLS, 1, hangoverMs);
    const runs: Run[] = [];
    for (const n of [10, 50]) runs.push(await run(d, n, 3, hangoverMs));
    runs.push(await run(d, 100, 5, hangoverMs));
    runs.push(await run(d, 1, 10, hangoverMs));
    runs.sort((a, b) => a.calls - b.calls);
    // The daemon with no calls: its workers still tick every 20 ms.
    const idle0 = d.cpuSeconds();
    await sleep(IDLE_MS);
    const idlePct = ((d.cpuSeconds() - idle0) / (IDLE_MS / 1000)) * 100;

    printTable(
      `Twilio echo: engine time from the end of a caller turn to the first agent audio out, ms ` +
        `(the peer's send of the last chunk the agent's VAD counts as speech → the peer's receipt of the first agent media message, ` +
        `minus the VAD hangover of ${hangoverMs} ms; includes the 20 ms frame that closes the turn, the jitter buffer's delay, ` +
        `the actors' 20 ms ticks and the leg's pacing; ${SPEECH_MS} ms turns, 127.0.0.1, ${cpus().length} cores shared by daemon and callers)`,
      runs
        .filter((r) => r.calls === 1 || r.calls === 100)
        .map((r) => ({
          calls: r.calls,
          'turns measured': r.latenciesMs.length,
          missed: r.missed,
          'p50 ms': percentile(r.latenciesMs, 50),
          'p99 ms': percentile(r.latenciesMs, 99),
          'min ms': Math.min(...r.latenciesMs),
          'max ms': Math.max(...r.latenciesMs),
        })),
    );
    printTable(
      `Twilio path: Media Streams messages (in: media + mark echoes; out: media + marks) per CPU-second of the daemon ` +
        `(all its threads, /proc/<pid>/stat), and above an idle daemon's ${idlePct.toFixed(1)} % of a core (its workers tick every 20 ms with no calls)`,
      runs.map((r) => {
        const pct = (r.daemonCpuS / r.windowS) * 100;
        return {
          calls: r.calls,
          'window s': r.windowS,
          'msgs in/s': r.messagesIn / r.windowS,
          'msgs out/s': r.messagesOut / r.windowS,
          'daemon CPU % of a core': pct,
          'msgs per CPU-s': (r.messagesIn + r.messagesOut) / r.daemonCpuS,
          'msgs per CPU-s above idle': (r.messagesIn + r.messagesOut) / (r.daemonCpuS - (idlePct / 100) * r.windowS),
          'CPU % per call': (pct - idlePct) / r.calls,
          'callers CPU % (this process)': (r.callersCpuS / r.windowS) * 100,
        };
      }),
    );
  } finally {
    await d.stop();
  }
}
