import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { osThreadId } from '../frames/osThread.ts';
import { Mp3Encoder } from '@breezystack/lamejs';
import { resampleWhole } from '../dsp/resampler.ts';
import { encodeOggOpus } from '../wire/oggOpus.ts';
import { readWav, toMono, type Wav } from '../wire/wav.ts';
import { measureChannel, type QualityReport } from './qualityReport.ts';
import type { JobKind } from './RecordingInfo.ts';

/**
 * A post-call job, run by the piscina pool (PostCallJobs.ts) on its own
 * threads. Each reads the finished WAV and writes what it makes beside it
 * through a temporary file renamed into place, so a reader never sees half
 * a file.
 */
export interface PostCallTask {
  kind: JobKind;
  wavPath: string;
  /** The file to make (`opus`, `mp3`). */
  outPath?: string;
  /** The call's concealment share, from its jitter buffer (`report`). */
  concealmentRatio?: number;
}

export type PostCallResult = { kind: 'opus' | 'mp3'; bytes: number } | { kind: 'report'; report: QualityReport };

// A job is batch work beside live calls: at the lowest CPU priority its thread
// only takes what the call workers leave. On Linux a thread has its own nice
// value, and setpriority(PRIO_PROCESS, 0) (libuv's uv_os_setpriority for pid
// 0) changes the calling thread's alone, so the daemon's other threads keep theirs.
try {
  setPriority(19);
} catch {
  // Not permitted here (some containers): the pool's thread bound still holds.
}
// Nice 19 still takes a share of a busy core (weight 15 against 1024); SCHED_IDLE
// runs only when no other thread wants the CPU (sched(7)). Lowering one's own
// policy needs no privilege; where chrt (util-linux) is missing, nice 19 stays.
{
  const tid = osThreadId();
  if (tid > 0) spawnSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
}

/** MP3 bitrates by sample rate: speech at each rate's MPEG layer III (MPEG-2.5 at 8 kHz) sweet spot, two channels. */
const MP3_KBPS: Readonly<Record<number, number>> = { 8000: 24, 16000: 48, 24000: 64, 48000: 96 };
/** lamejs takes blocks of one MPEG frame's samples. */
const MP3_BLOCK = 1152;
const PLCMOS_RATE_HZ = 16000;

export default async function runPostCallJob(task: PostCallTask): Promise<PostCallResult> {
  const wav = readWav(readFileSync(task.wavPath));
  switch (task.kind) {
    case 'opus':
      return { kind: 'opus', bytes: await writeAtomically(task.outPath, encodeOggOpus(toMono(wav), wav.rateHz)) };
    case 'mp3':
      return { kind: 'mp3', bytes: await writeAtomically(task.outPath, encodeMp3(wav)) };
    case 'report':
      return { kind: 'report', report: await report(wav, task.concealmentRatio) };
  }
}

async function writeAtomically(path: string | undefined, bytes: Uint8Array): Promise<number> {
  if (path === undefined) throw new RangeError('post-call job: no output path');
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
  return bytes.length;
}

/** Two-channel MP3 (caller left, agent right) with LAME's encoder (lamejs). */
function encodeMp3(wav: Wav): Uint8Array {
  const kbps = MP3_KBPS[wav.rateHz];
  if (kbps === undefined) throw new RangeError(`mp3: no bitrate for ${wav.rateHz} Hz`);
  const n = Math.floor(wav.samples.length / wav.channels);
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = wav.samples[i * wav.channels]!;
    right[i] = wav.samples[i * wav.channels + (wav.channels > 1 ? 1 : 0)]!;
  }
  const enc = new Mp3Encoder(2, wav.rateHz, kbps);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < n; at += MP3_BLOCK) {
    const part = enc.encodeBuffer(left.subarray(at, at + MP3_BLOCK), right.subarray(at, at + MP3_BLOCK));
    if (part.length > 0) parts.push(part.slice());
  }
  parts.push(enc.flush().slice());
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The caller channel's report; PLCMOS when onnxruntime-node (optional) and the model are there. */
async function report(wav: Wav, concealmentRatio: number | undefined): Promise<QualityReport> {
  const caller = new Int16Array(Math.floor(wav.samples.length / wav.channels));
  for (let i = 0; i < caller.length; i++) caller[i] = wav.samples[i * wav.channels]!;
  const base = measureChannel(caller, wav.rateHz);
  let plcmos: number | undefined;
  let plcmosUnavailable: string | undefined;
  try {
    const { PlcMos, PLCMOS_MIN_SAMPLES } = await import('../qos/plcmos.ts');
    const at16k = resampleWhole(caller, wav.rateHz, PLCMOS_RATE_HZ);
    if (at16k.length < PLCMOS_MIN_SAMPLES) {
      plcmosUnavailable = 'the caller channel is too short';
    } else {
      const scorer = await PlcMos.load();
      try {
        plcmos = Math.round((await scorer.score(at16k)) * 100) / 100;
      } finally {
        await scorer.close();
      }
    }
  } catch (err) {
    plcmosUnavailable = `PLCMOS scorer not available: ${(err as Error).message.split('\n')[0]}`;
  }
  return { ...base, concealmentRatio, plcmos, ...(plcmosUnavailable !== undefined ? { plcmosUnavailable } : {}) };
}
