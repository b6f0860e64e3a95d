/**
 * Capture and playback devices: what a device costs the thread that ticks
 * its actor (the capture worker in the daemon) against a synthetic source or
 * no device, and what its device host process costs. Devices are ALSA `file`
 * plugins (test/helpers/alsaDevices.ts) opened through naudiodon for real,
 * each actor ticked by a FrameClock in real time as a worker would.
 *
 * Columns: the tick's own time (p50, p99, max, µs), the share of the thread's
 * event loop busy over the run (ticks plus the pipe's I/O callbacks: what the
 * device adds beside the tick; the clock waits on timers only here), and the device host's CPU (% of one core,
 * from /proc).
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { ActorContext, HostedActor } from '../src/actors/Actor.ts';
import { createCaptureActor } from '../src/actors/capture/CaptureActor.ts';
import { createPlaybackActor } from '../src/actors/playback/PlaybackActor.ts';
import { FrameClock } from '../src/frames/FrameClock.ts';
import { FrameMeta, FrameRing } from '../src/frames/FrameRing.ts';
import { naudiodonMissing } from '../src/devices/DeviceProcess.ts';
import { makeAlsaDevices } from '../test/helpers/alsaDevices.ts';
import { sine } from '../test/helpers/spectral.ts';
import { printTable } from './table.ts';

const TICKS = 150;
const RATE_HZ = 16000;
const SAMPLES = (RATE_HZ * 20) / 1000;

function context(rings: Record<string, FrameRing>, stats: number): ActorContext {
  return { actorId: 'bench', log: pino({ level: 'silent' }), rings, stats: new Float64Array(stats), tickMs: 20, emit: () => undefined };
}

/** Jiffies (user + system) of this process's device hosts by pid; Linux /proc. */
function hostJiffies(): Map<number, number> {
  const jiffies = new Map<number, number>();
  let pids: number[] = [];
  try {
    pids = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('deviceHost'))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return jiffies;
  }
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      jiffies.set(pid, Number(fields[11]) + Number(fields[12])); // utime, stime (fields 14 and 15 of proc_pid_stat(5))
    } catch {
      // ended between ps and the read
    }
  }
  return jiffies;
}

/** CPU jiffies the hosts alive at both samples spent between them. */
function spent(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, j] of after) if (before.has(pid)) sum += j - before.get(pid)!;
  return sum;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function run(name: string, make: () => Promise<{ actor: HostedActor; feed?: () => void }>): Promise<Record<string, string | number>> {
  const { actor, feed } = await make();
  // Let the device host settle (its start-up is not the steady state).
  await new Promise((r) => setTimeout(r, 300));
  const times: number[] = [];
  const j0 = hostJiffies();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await new Promise<void>((done) => {
    // finishMs 0: timers only, so the loop's busy share is the work, not a blocking finish of the wait.
    const clock = new FrameClock({
      finishMs: 0,
      onTick(i) {
        feed?.();
        const s = performance.now();
        actor.tick(i);
        times.push((performance.now() - s) * 1000);
        if (times.length === TICKS) {
          clock.stop();
          done();
        }
      },
    });
    clock.start();
  });
  const wallS = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  const hostCpu = (spent(j0, hostJiffies()) / 100 / wallS) * 100;
  actor.close();
  times.sort((a, b) => a - b);
  return {
    actor: name,
    'tick p50 µs': pct(times, 0.5).toFixed(1),
    'tick p99 µs': pct(times, 0.99).toFixed(1),
    'tick max µs': times[times.length - 1]!.toFixed(0),
    'thread busy %': (elu.utilization * 100).toFixed(2),
    'device host CPU %': hostCpu.toFixed(1),
  };
}

export default async function devicesBench(): Promise<void> {
  const missing = naudiodonMissing();
  if (missing !== undefined) {
    console.log(`skipped: ${missing}`);
    return;
  }
  const alsa = makeAlsaDevices(sine(48_000 * 30, 1000, 48_000, 8000));
  process.env['ALSA_CONFIG_PATH'] = alsa.configPath;
  const pcmRing = () => FrameRing.create(64, 960);
  const agentFrame = sine(SAMPLES, 440, RATE_HZ, 8000);
  const meta = new FrameMeta();
  const sink = new Int16Array(960);
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const [name, config] of [
      ['capture tone:1000', { source: 'synthetic', toneHz: 1000, rateHz: RATE_HZ }],
      ['capture device:sbrec', { source: 'device', device: 'sbrec', rateHz: RATE_HZ, blockMs: 20 }],
    ] as const) {
      const out = pcmRing();
      rows.push(
        await run(name, async () => {
          const actor = await createCaptureActor(context({ out }, 8), config);
          return { actor, feed: () => void out.read(sink, meta) };
        }),
      );
    }
    for (const [name, device] of [
      ['playback none', undefined],
      ['playback device:sbplay', 'sbplay'],
    ] as const) {
      const input = pcmRing();
      const heard = FrameRing.create(64, 1);
      let seq = 0;
      rows.push(
        await run(name, async () => {
          const actor = await createPlaybackActor(context({ in: input, heard }, 8), { rateHz: RATE_HZ, listen: 'agent', ...(device ? { device } : {}) });
          return {
            actor,
            feed: () => {
              input.write(agentFrame, SAMPLES, seq++, 0, RATE_HZ, 0);
              while (heard.read(sink, meta));
            },
          };
        }),
      );
    }
  } finally {
    alsa.remove();
  }
  printTable(`device actors, ${TICKS} real-time ticks of 20 ms at ${RATE_HZ} Hz (devices: ALSA file plugins through PortAudio)`, rows);
}
