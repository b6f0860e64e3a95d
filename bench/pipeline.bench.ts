/**
 * The cascaded `pipeline` agent against local STT, chat and TTS servers with
 * fixed latencies (STT 150 ms, first chat token 200 ms, first speech byte
 * 100 ms), on the Twilio path end to end (`switchboard start` in a child
 * process; the callers in this one, the servers in a third), at 1 and 50
 * concurrent calls:
 * - end to end: the peer's send of the last chunk the agent's VAD counts as
 *   speech → the peer's receipt of the first agent media message, minus the
 *   VAD hangover and the three fixed latencies;
 * - the engine's own share as the agent reports it (`pipeline.turn`): the
 *   VAD's end of turn → the first reply frame written, minus the servers' own
 *   time as each reports it (`openai-processing-ms`, to its response headers)
 *   and the model's streaming from its headers to the first whole sentence:
 *   the HTTP round trips, the client and the agent thread's delays count as
 *   the engine's; the servers' timer overshoot does not.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TwilioClient } from '../test/peers/TwilioClient.ts';
import { percentile } from '../test/helpers/twilioCalls.ts';
import { startTwilioDaemon, type TwilioDaemon } from '../test/helpers/twilioDaemon.ts';
import { hangoverMs as vadHangoverMs, planTurns, type TurnPlan } from './lib/twilioTurns.ts';
import { printTable } from './table.ts';

const STT_MS = 150;
const LLM_FIRST_TOKEN_MS = 200;
const TTS_FIRST_BYTE_MS = 100;
const FIXED_MS = STT_MS + LLM_FIRST_TOKEN_MS + TTS_FIRST_BYTE_MS;
const VOICES = ['synth-m-8k', 'synth-f-8k'];
const SPEECH_MS = 600;
/** Room for the hangover, the fixed latencies and the short reply before the next turn. */
const SILENCE_MS = 1800;
const PERIOD_MS = SPEECH_MS + SILENCE_MS;
const ARRIVAL_GAP_MS = 20;
const LEAD_MS = 1500;
const DRAIN_MS = 2000;
const KEY_ENV = 'BENCH_PIPELINE_KEY';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The servers in their own process (bench/lib/pipelineServerProcess.ts). */
async function startServer(options: Record<string, unknown>): Promise<{ baseUrl(): string; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./lib/pipelineServerProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    baseUrl: () => line,
    close: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

interface Run {
  calls: number;
  endToEndMs: number[];
  agentMs: number[];
  missed: number;
  /** CPU the call workers' threads ran over the run, ms. */
  agentCpuMs: number;
}

/** CPU time the daemon's call worker threads (each call's actors, the agent's HTTP clients among them) have run, ms: their kernel threads from /status, then their schedstat. */
async function agentThreadCpuMs(d: TwilioDaemon): Promise<number> {
  const status = (await (await fetch(`${d.base}/status?calls=false`)).json()) as { workers: Array<{ kind: string; osThreadId?: number }> };
  let ms = 0;
  for (const w of status.workers.filter((x) => x.kind === 'call')) {
    try {
      ms += Number(readFileSync(`/proc/${d.pid}/task/${w.osThreadId ?? 0}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
    } catch {
      return Number.NaN;
    }
  }
  return ms;
}

/** Per turn: first agent media received − last speech chunk sent − hangover − the fixed latencies. */
function endToEnd(p: TwilioClient, plan: TurnPlan, hangoverMs: number): { ms: number[]; missed: number } {
  const media = p.received.filter((r) => r.text.includes('"event":"media"'));
  const ms: number[] = [];
  let missed = 0;
  plan.lastSpeechChunk.forEach((c, t) => {
    const sentAt = p.sentMedia[c]?.atMs;
    const nextAt = p.sentMedia[plan.nextTurnChunk[t]!]?.atMs ?? Infinity;
    const first = sentAt === undefined ? undefined : media.find((r) => r.atMs >= sentAt);
    if (sentAt === undefined || first === undefined || first.atMs >= nextAt) missed++;
    else ms.push(first.atMs - sentAt - hangoverMs - FIXED_MS);
  });
  return { ms, missed };
}

async function run(d: TwilioDaemon, calls: number, turns: number, hangoverMs: number): Promise<Run> {
  const leadMs = LEAD_MS + calls * ARRIVAL_GAP_MS;
  const plans = VOICES.map((v) => planTurns(v, turns, SPEECH_MS, SILENCE_MS, leadMs));
  const peers = Array.from(
    { length: calls },
    (_, i) =>
      new TwilioClient({
        url: d.mediaUrl,
        audio: plans[i % plans.length]!.audio,
        afterAudio: 'silence',
        streamSid: 'MZ' + i.toString(16).padStart(32, '0'),
        customParameters: { agent: 'pipeline' },
      }),
  );
  const linesBefore = d.lines.length;
  const cpuBefore = await agentThreadCpuMs(d);
  await Promise.all(peers.map((p, i) => sleep(i * ARRIVAL_GAP_MS).then(() => p.connect())));
  await sleep(leadMs + turns * PERIOD_MS + DRAIN_MS);
  const endToEndMs: number[] = [];
  let missed = 0;
  peers.forEach((p, i) => {
    const r = endToEnd(p, plans[i % plans.length]!, hangoverMs);
    endToEndMs.push(...r.ms);
    missed += r.missed;
  });
  const agentMs = d.lines
    .slice(linesBefore)
    .filter((l) => l['msg'] === 'actor event' && l['event'] === 'pipeline.turn')
    .map((l) => (l['data'] as { engineMs: number }).engineMs);
  const agentCpuMs = (await agentThreadCpuMs(d)) - cpuBefore;
  for (const p of peers) p.hangup();
  for (let waited = 0; (await d.calls()).length > 0 && waited < 10_000; waited += 100) await sleep(100);
  return { calls, endToEndMs, agentMs, missed, agentCpuMs };
}

export default async function (): Promise<void> {
  const hangoverMs = vadHangoverMs();
  const server = await startServer({
    sttMs: STT_MS,
    llmFirstTokenMs: LLM_FIRST_TOKEN_MS,
    ttsFirstByteMs: TTS_FIRST_BYTE_MS,
    msPerChar: 20,
    transcript: 'Can you help me?',
    answer: 'Sure, I can help.',
  });
  process.env[KEY_ENV] = 'sk-bench';
  const stages = ['stt', 'llm', 'tts'].flatMap((s) => [`--pipeline.${s}.base-url`, server.baseUrl(), `--pipeline.${s}.api-key-env`, KEY_ENV]);
  // The agent's hangover is the echo VAD's, so the turn plans' VAD edges hold for it.
  const d = await startTwilioDaemon([...stages, '--pipeline.hangover-ms', String(hangoverMs)]);
  try {
    await run(d, 10, 1, hangoverMs); // warm-up: the daemon's path compiled, the HTTP clients loaded
    const runs = [await run(d, 50, 3, hangoverMs), await run(d, 1, 10, hangoverMs)].sort((a, b) => a.calls - b.calls);
    const row = (r: Run, figure: string, ms: number[]) => ({
      calls: r.calls,
      figure,
      turns: ms.length,
      missed: r.missed,
      'p50 ms': percentile(ms, 50),
      'p99 ms': percentile(ms, 99),
      'max ms': Math.max(...ms),
      'call worker CPU ms per turn (ticks incl.)': r.agentCpuMs / Math.max(1, r.agentMs.length),
    });
    printTable(
      `Pipeline agent on the Twilio path: engine-added time from the end of a caller's speech to the first agent audio, ms ` +
        `(end to end: the peer's send of the last chunk the VAD counts as speech → its receipt of the first agent media, minus the ` +
        `VAD hangover of ${hangoverMs} ms and the fixed STT ${STT_MS} + first token ${LLM_FIRST_TOKEN_MS} + first speech byte ${TTS_FIRST_BYTE_MS} ms; ` +
        `includes the frame that closes the turn, the jitter buffer, the actors' ticks, the HTTP round trips and the leg's pacing. ` +
        `agent: the engine's share of that, the VAD's end of turn → the first reply frame out, minus the servers' own time (openai-processing-ms) and the model's streaming to its first sentence; HTTP round trips and client time included. ` +
        `${SPEECH_MS} ms turns, 127.0.0.1, ${cpus().length} cores shared by the daemon, the callers and the servers, each a process)`,
      runs.flatMap((r) => [row(r, 'end to end', r.endToEndMs), row(r, 'agent', r.agentMs)]),
    );
  } finally {
    await d.stop();
    await server.close();
    delete process.env[KEY_ENV];
  }
}
