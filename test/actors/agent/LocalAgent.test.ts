import { afterEach, describe, expect, it } from 'vitest';
import { FrameFlags, FrameMeta } from '../../../src/frames/FrameRing.ts';
import { agentKind } from '../../../src/actors/agent/kind.ts';
import { ECHO_PREROLL_FRAMES } from '../../../src/actors/agent/LocalAgent.ts';
import { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../../helpers/logger.ts';
import { speech } from '../../helpers/fixtures.ts';
import { AgentLeg } from '../../helpers/agentLeg.ts';

/** The local agents on a real agent worker, fed and read through their rings from this thread. */
let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

const RATE = 16000;
const SPF = 320;

async function agentActor(config: Record<string, unknown>) {
  sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'silent',
    log: memoryLogger().log,
    kinds: { agent: agentKind },
  });
  await sup.start();
  const id = await sup.createActor('agent', { rateHz: RATE, ...config });
  const s = sup;
  return {
    id,
    input: s.ringOf(id, 'in')!,
    output: s.ringOf(id, 'out')!,
    stats: () => s.actorStatuses().find((a) => a.id === id)!.stats,
  };
}

/** Pumps `frames` into `in` as space allows and collects `out` until `ms` have passed. */
async function run(a: Awaited<ReturnType<typeof agentActor>>, frames: Int16Array[], ms: number) {
  const out: Array<{ samples: Int16Array; flags: number; seq: number }> = [];
  const meta = new FrameMeta();
  let next = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    while (next < frames.length && a.input.space() > 0) {
      a.input.write(frames[next]!, SPF, next, next * SPF, RATE, 0);
      next++;
    }
    while (a.output.available() > 0) {
      const buf = new Int16Array(SPF);
      a.output.read(buf, meta);
      out.push({ samples: buf, flags: meta.flags, seq: meta.sequence });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

function framesOf(samples: Int16Array): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let i = 0; i + SPF <= samples.length; i += SPF) frames.push(samples.slice(i, i + SPF));
  return frames;
}

const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('local agents', () => {
  it('loopback returns every frame unchanged and in order', async () => {
    const a = await agentActor({ agent: 'loopback' });
    const sent = framesOf(speech('synth-m-16k').samples.subarray(0, RATE * 2));
    const out = await run(a, sent, 1200);
    expect(out).toHaveLength(sent.length);
    out.forEach((f, i) => expect(f.samples).toEqual(sent[i]));
    expect(a.stats()['framesIn']).toBe(sent.length);
  });

  it('echo plays a caller turn back after it ends, and stops when the caller barges in', async () => {
    const a = await agentActor({ agent: 'echo' });
    const talk = speech('synth-m-16k').samples.subarray(0, RATE * 1.5);
    const quiet = new Int16Array(RATE * 0.6);
    const turn = framesOf(talk).concat(framesOf(quiet));
    const out = await run(a, turn, 2600);
    const st = a.stats();
    expect(st['turns']).toBe(1);
    const voiced = out.filter((f) => f.flags & FrameFlags.SPEECH);
    // The turn comes back: about as long as what was said (plus the VAD's hangover), and the same audio.
    expect(voiced.length).toBeGreaterThanOrEqual(talk.length / SPF);
    expect(voiced.length).toBeLessThanOrEqual(talk.length / SPF + ECHO_PREROLL_FRAMES + 20);
    const back = new Int16Array(voiced.length * SPF);
    voiced.forEach((f, i) => back.set(f.samples, i * SPF));
    let onset = 0;
    while (Math.abs(talk[onset]!) < 200) onset++;
    const firstLoud = back.findIndex((v) => Math.abs(v) >= 200);
    // Played back from the start of the turn: the audio lines up sample for sample.
    expect(Array.from(back.subarray(firstLoud, firstLoud + 2000))).toEqual(Array.from(talk.subarray(onset, onset + 2000)));
    // Silence frames are sent while the agent has nothing to say: one frame per tick in all.
    expect(out.length).toBeGreaterThan(100);
    expect(out.every((f, i) => f.seq === out[0]!.seq + i)).toBe(true);

    // Barge-in: a second turn, then the caller talks over its playback.
    const more = framesOf(talk).concat(framesOf(new Int16Array(RATE * 0.4)));
    const over = framesOf(speech('synth-f-16k').samples.subarray(RATE, RATE * 2));
    await run(a, more, 1500);
    const bargeOut = await run(a, over, 1200);
    expect(a.stats()['bargeIns']).toBe(1);
    // After the barge-in the agent listens: silence until that turn ends.
    expect(rms(bargeOut.at(-1)!.samples)).toBeLessThan(1);
  });

  it('echo barge-in: one CLEAR, then the heard playback from the leg\'s final count', async () => {
    const a = await agentActor({ agent: 'echo' });
    const leg = new AgentLeg({ in: a.input, out: a.output, heard: sup!.ringOf(a.id, 'heard')! }, RATE, { playLagMs: 100, clearAnswerMs: 50 });
    leg.say(framesOf(speech('synth-m-16k').samples.subarray(0, RATE * 1.5)));
    await leg.runUntil(() => leg.heardAudio() >= 20, 6000, 'the playback to be heard');
    leg.say(framesOf(speech('synth-f-16k').samples.subarray(RATE, RATE * 2)));
    await leg.runUntil(() => a.stats()['lastTruncateMs']! > 0, 3000, 'the final heard count');
    await leg.runFor(100);
    expect(leg.clears).toHaveLength(1);
    const clear = leg.clears[0]!;
    expect(clear.sampleCount).toBe(0);
    // The CLEAR takes the next sequence number without using it up.
    expect(leg.out[clear.outIndex]!.seq).toBe(clear.seq);
    const st = a.stats();
    expect(st['bargeIns']).toBe(1);
    expect(st['heardTimeouts']).toBe(0);
    // Exactly the frames the caller heard (the leg dropped the rest).
    expect(st['lastTruncateMs']).toBe(leg.heardBeforeClear() * 20);
    expect(leg.out.filter((f) => (f.flags & FrameFlags.SPEECH) !== 0 && !f.heard).length).toBeGreaterThan(0);
  });

  it('tone plays a continuous tone of the configured frequency', async () => {
    const a = await agentActor({ agent: 'tone', toneHz: 1000 });
    const out = await run(a, [], 400);
    expect(out.length).toBeGreaterThan(10);
    const all = new Int16Array(out.length * SPF);
    out.forEach((f, i) => all.set(f.samples, i * SPF));
    let crossings = 0;
    for (let i = 1; i < all.length; i++) if ((all[i - 1]! < 0) !== (all[i]! < 0)) crossings++;
    expect(crossings / 2 / (all.length / RATE)).toBeCloseTo(1000, -1);
  });

  it('drops frames of the wrong size or rate and counts them; refuses bad configuration', async () => {
    const a = await agentActor({ agent: 'loopback' });
    a.input.write(new Int16Array(160), 160, 0, 0, 8000, 0);
    await run(a, [], 200);
    expect(a.stats()['wrongSizeFrames']).toBe(1);
    expect(a.output.available()).toBe(0);
    await expect(sup!.createActor('agent', { agent: 'sing' })).rejects.toThrow(/unknown local agent "sing"/);
    await expect(sup!.createActor('agent', { agent: 'tone', rateHz: 11025 })).rejects.toThrow(/rateHz must be one of/);
  });
});
