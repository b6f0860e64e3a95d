import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { mixerKind } from '../../src/actors/mixer/kind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import { Recorder } from '../../src/recording/Recorder.ts';
import { RequestError } from '../../src/supervisor/Runtime.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { readWav } from '../../src/wire/wav.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { sleep, TestPeer, until } from '../helpers/rtpPeer.ts';
import { fitTone } from '../helpers/spectral.ts';
import { ulawEncodeSample } from '../peers/g711.ts';

/**
 * `record: true` on a conference records its full mix: two RTP members, each
 * sending its own tone, and a 16 kHz conference (so each 8 kHz member is
 * resampled up to the mix, and the mix is recorded at 16 kHz). The WAV holds
 * one channel, `mix`, with both tones at the level they were sent, for as
 * long as the conference ran.
 */
const PORT_MIN = 38_000 + 2 * ((process.pid * 17) % 800);
const TONES = [500, 1300] as const;
const AMPLITUDE = 4000;
const dir = mkdtempSync(join(tmpdir(), 'conference-recordings-'));
let sup: Supervisor;
let recorder: Recorder;
const peers: TestPeer[] = [];
let sender: NodeJS.Timeout | undefined;

beforeAll(async () => {
  const { log } = memoryLogger();
  recorder = new Recorder({ dir, retentionDays: 30, maxActive: 4, jobs: [], jobThreads: 1, jobQueue: 10, log });
  sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    placement: 'call',
    logLevel: 'warn',
    log,
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind, mixer: mixerKind },
    transports: [rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 1 })],
    recorder,
  });
  await sup.start();
});
afterAll(async () => {
  clearInterval(sender);
  await sup?.stop();
  for (const p of peers.splice(0)) p.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a recorded conference', () => {
  it('writes its full mix, one channel at the conference rate, and closes it when the conference is deleted', async () => {
    const conf = await sup.conferences.create({ rateHz: 16000, record: true });
    const id = conf.recording!.id;
    expect(recorder.store.get(id)).toMatchObject({ state: 'recording', rateHz: 16000, channels: ['mix'] });
    const ports: number[] = [];
    for (let i = 0; i < TONES.length; i++) {
      const peer = await TestPeer.create();
      peers.push(peer);
      const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'echo', conference: conf.id });
      ports.push((call['rtp'] as { localPort: number }).localPort);
    }
    let seq = 0;
    const payload = new Uint8Array(160);
    sender = setInterval(() => {
      TONES.forEach((f, i) => {
        const w = (2 * Math.PI * f) / 8000;
        for (let k = 0; k < 160; k++) payload[k] = ulawEncodeSample(Math.round(AMPLITUDE * Math.sin(w * (seq * 160 + k))));
        peers[i]!.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x5100 + i, csrc: [], paddingLength: 0, payload }), ports[i]!);
      });
      seq++;
    }, 20);
    const t0 = performance.now();
    await sleep(1500);
    clearInterval(sender);
    expect(await sup.conferences.delete(conf.id)).toBe(true);
    const ranS = (performance.now() - t0) / 1000;
    await until(() => recorder.store.get(id)?.state !== 'recording', 5000, 'the recording to close');
    const info = recorder.store.get(id)!;
    expect(info.state).toBe('complete');
    const wav = readWav(new Uint8Array(readFileSync(join(dir, `${id}.wav`))));
    expect([wav.channels, wav.rateHz]).toEqual([1, 16000]);
    expect(wav.samples.length / 16000).toBeGreaterThan(ranS - 0.3);
    expect(wav.samples.length / 16000).toBeLessThan(ranS + 0.5);
    // Both members in the mix, at the level they were sent, over 20 ms frames of its middle (the jitter buffers may stretch between).
    const mid = Math.floor(wav.samples.length / 2);
    for (const f of TONES) {
      const fits = Array.from({ length: 10 }, (_, k) => fitTone(wav.samples, f, 16000, mid + k * 320, mid + k * 320 + 320).amplitude).sort((a, b) => a - b);
      expect(fits[5]).toBeGreaterThan(AMPLITUDE * 0.85);
      expect(fits[5]).toBeLessThan(AMPLITUDE * 1.15);
    }
  });

  it('refuses record: true where the daemon has no recorder, before a mixer is made', async () => {
    const bare = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log: memoryLogger().log, kinds: { mixer: mixerKind }, transports: [] });
    await bare.start();
    try {
      await expect(bare.conferences.create({ record: true })).rejects.toThrow(RequestError);
      await expect(bare.conferences.create({ record: true })).rejects.toMatchObject({ status: 422, message: 'record: this daemon has no recorder' });
      expect(bare.actorStatuses()).toHaveLength(0);
    } finally {
      await bare.stop();
    }
  });

  it('a drain ends the conferences once the calls are gone, and their recordings close complete', async () => {
    const conf = await sup.conferences.create({ record: true });
    await sleep(200);
    await sup.drain(1000);
    expect(sup.conferences.list()).toEqual([]);
    await until(() => recorder.store.get(conf.recording!.id)?.state !== 'recording', 5000, 'the recording to close');
    expect(recorder.store.get(conf.recording!.id)).toMatchObject({ state: 'complete', channels: ['mix'], rateHz: 8000 });
  });
});
