import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameFlags, FrameMeta } from '../../../src/frames/FrameRing.ts';
import { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { jitterKind } from '../../../src/actors/jitter/kind.ts';
import { parseJitterConfig } from '../../../src/actors/jitter/JitterActor.ts';
import { PacketWriter } from '../../../src/frames/PacketRing.ts';
import { memoryLogger } from '../../helpers/logger.ts';
import { l16Packet, SPF, valueOf } from '../../helpers/jitter.ts';

/**
 * Where packet `i`'s audio first plays: the start of the first run of at
 * least `minRun` samples holding its value (−1 if none). A frame shortened by
 * acceleration still keeps several milliseconds of every packet; the
 * cross-fades between neighbours pass through a value only briefly.
 */
function firstRunOf(samples: readonly number[], value: number, minRun: number): number {
  for (let k = 0, run = 0; k < samples.length; k++) {
    run = samples[k] === value ? run + 1 : 0;
    if (run === minRun) return k + 1 - minRun;
  }
  return -1;
}

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

describe('jitter actor', () => {
  it('validates its configuration', () => {
    expect(parseJitterConfig({ codec: 'PCMU' })).toEqual({ codec: 'PCMU', rateHz: 8000, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 });
    expect(() => parseJitterConfig({ codec: 'GSM' })).toThrow(/codec must be one of/);
    expect(() => parseJitterConfig({ codec: 'L16', minDelayMs: 'x' })).toThrow(/minDelayMs must be a number/);
  });

  it('runs on a media worker: packets in from the main thread, 20 ms frames out, stats in /status', async () => {
    const { log } = memoryLogger();
    sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log, kinds: { jitter: jitterKind } });
    await sup.start();
    await expect(sup.createActor('jitter', { codec: 'PCMU', rateHz: 16000 })).rejects.toThrow(/PCMU is 8000 Hz audio/);
    const id = await sup.createActor('jitter', { codec: 'L16', rateHz: 16000 });
    const writer = new PacketWriter(sup.ringOf(id, 'in')!, 'L16');
    const out = sup.ringOf(id, 'out')!;
    const frame = new Int16Array(960);
    const meta = new FrameMeta();
    const firsts: number[] = [];
    const flags: number[] = [];
    const samples: number[] = [];
    const packets = 60;
    let sent = 0;
    const t0 = performance.now();
    // Sends on a 20 ms schedule, with packets 7 and 8 swapped and 20 sent twice.
    while (sent < packets || performance.now() - t0 < packets * 20 + 400) {
      const due = Math.min(packets, Math.floor((performance.now() - t0) / 20) + 1);
      for (; sent < due; sent++) {
        const i = sent === 7 ? 8 : sent === 8 ? 7 : sent;
        expect(writer.write(5000 + i, i * SPF, l16Packet(valueOf(i)), 2 * SPF, i === 0, 0xabcd)).toBe(true);
        if (i === 20) writer.write(5000 + i, i * SPF, l16Packet(valueOf(i)), 2 * SPF, false, 0xabcd);
      }
      while (out.read(frame, meta)) {
        expect(meta.sampleCount).toBe(SPF);
        expect(meta.rateHz).toBe(16000);
        firsts.push(frame[SPF - 1]!); // the last sample: the Concealer delays its output by 3.75 ms
        for (let k = 0; k < SPF; k++) samples.push(frame[k]!);
        flags.push(meta.flags);
      }
      await sleep(5);
    }
    const played = firsts.filter((v, k) => flags[k] === FrameFlags.SPEECH && v >= valueOf(0) && v <= valueOf(packets - 1) && firsts[k - 1] !== v);
    // In order, each once; a frame shortened by acceleration (the buffer
    // settling from the start delay to its target) may hide a packet's value.
    // On a loaded machine the sender can stall past the buffer's delay; a
    // stray step back (a frame that mixes concealment into speech) is allowed.
    const stepsBack = played.filter((v, k) => k > 0 && v <= played[k - 1]!).length;
    expect(stepsBack).toBeLessThanOrEqual(2);
    expect(new Set(played).size).toBeGreaterThanOrEqual(packets - 10);
    expect(played[0]).toBe(valueOf(0));
    // Reordered on the way (8 arrived 20 ms before 7), played in sequence order: 7, then 8, each for at least 5 ms.
    const at7 = firstRunOf(samples, valueOf(7), 80);
    const at8 = firstRunOf(samples, valueOf(8), 80);
    expect(at7, 'packet 7 played').toBeGreaterThanOrEqual(0);
    expect(at8, 'packet 8 played after packet 7').toBeGreaterThan(at7);
    expect(played.length).toBeGreaterThanOrEqual(packets - 10);
    expect(flags.filter((f) => f === FrameFlags.SPEECH).length).toBeGreaterThanOrEqual(packets - 10);
    const stats = sup.status().actors.find((a) => a.id === id)!.stats;
    expect(stats['packetsReceived']).toBe(packets);
    expect(stats['packetsDuplicated']).toBe(1);
    expect(stats['packetsLost']).toBe(0);
    expect(stats['targetDelayMs']).toBeGreaterThanOrEqual(20);
    expect(stats['framesEmitted']).toBeGreaterThan(packets);
  });
});
