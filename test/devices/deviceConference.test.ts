import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { naudiodonMissing } from '../../src/devices/DeviceProcess.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { mixerKind } from '../../src/actors/mixer/kind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { startDeviceSupervisor } from '../helpers/deviceSupervisor.ts';
import { makeAlsaDevices, type AlsaDevices } from '../helpers/alsaDevices.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { TestPeer, until } from '../helpers/rtpPeer.ts';
import { fitTone, sine } from '../helpers/spectral.ts';
import { ulawDecodeSample, ulawEncodeSample } from '../peers/g711.ts';

/**
 * A local microphone and speaker in a conference, through real PortAudio on
 * ALSA file plugins (test/helpers/alsaDevices.ts): the file-fed input device
 * is one member (a capture call whose agent seat the mixer takes), an RTP
 * peer on a real socket another, and a listener (a capture call with no
 * source) plays the whole mix to a second output device. Skipped only where
 * naudiodon (an optional dependency) is not installed.
 */
const missing = naudiodonMissing();
const PORT_MIN = 37_000 + 2 * ((process.pid * 7) % 1000);
const MIC_HZ = 1000;
const MIC_AMPLITUDE = 6000;
const PEER_HZ = 600;
const PEER_AMPLITUDE = 4000;

/** The median over `blocks` 20 ms blocks of a tone's fitted amplitude (a late frame spoils a block, not the measure). */
function medianLevel(x: Int16Array, hz: number, rateHz: number, from: number, blocks: number): number {
  const n = rateHz / 50;
  const fits: number[] = [];
  for (let k = 0; k < blocks && from + (k + 1) * n <= x.length; k++) fits.push(fitTone(x, hz, rateHz, from + k * n, from + (k + 1) * n).amplitude);
  return fits.length === 0 ? 0 : [...fits].sort((p, q) => p - q)[fits.length >> 1]!;
}

/** Where a tone first stands at half its amplitude, in 5 ms steps; -1 when never. */
function onset(x: Int16Array, hz: number, rateHz: number, amplitude: number): number {
  const n = rateHz / 50;
  for (let i = 0; i + n <= x.length; i += n / 4) if (fitTone(x, hz, rateHz, i, i + n).amplitude > amplitude / 2) return i;
  return -1;
}

describe.skipIf(missing !== undefined)('a local microphone and speaker in a conference (ALSA file plugins)', () => {
  let alsa: AlsaDevices;
  let sup: Supervisor;
  let peer: TestPeer;
  let sender: NodeJS.Timeout | undefined;
  const { log } = memoryLogger();

  beforeAll(async () => {
    // 5 s of the microphone's tone at 48 kHz: longer than the test runs (the device is read at the frame clock's pace).
    alsa = makeAlsaDevices(sine(240_000, MIC_HZ, 48_000, MIC_AMPLITUDE));
    process.env['ALSA_CONFIG_PATH'] = alsa.configPath;
    sup = await startDeviceSupervisor({
      log,
      defaultAgent: 'echo',
      kinds: { jitter: jitterKind, rtp: rtpKind, mixer: mixerKind },
      transports: [rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 1 })],
    });
    peer = await TestPeer.create();
  });

  afterAll(async () => {
    clearInterval(sender);
    await sup?.stop();
    peer?.close();
    alsa?.remove();
  });

  it('refuses a listener without a conference, or of one that does not exist, and leaves nothing behind', async () => {
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ source: 'none', playback: 'device:sbplay2' }, 422, /none only for a conference listener$/],
      [{ source: 'none', conference: 'nope ñ' }, 404, /^no conference with id "nope ñ"$/],
      [{ source: 'device:sbrec', conference: 'x'.repeat(5000) }, 404, /^no conference with id /],
    ];
    for (const [req, status, message] of cases) {
      const err = await sup.createCall({ transport: 'capture', ...req }).catch((e: unknown) => e);
      expect(err, JSON.stringify(req).slice(0, 80)).toMatchObject({ status, message: expect.stringMatching(message) });
    }
    expect(sup.listCalls()).toEqual([]);
    expect(sup.actorStatuses()).toEqual([]);
  });

  it('the microphone is heard by an RTP member, the speaker plays the others, a listener plays the whole mix', async () => {
    const conference = (await sup.conferences.create({ rateHz: 8000 })).id;
    const rtp = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', conference });
    const rtpPort = (rtp['rtp'] as { localPort: number }).localPort;
    let seq = 0;
    const payload = new Uint8Array(160);
    sender = setInterval(() => {
      const w = (2 * Math.PI * PEER_HZ) / 8000;
      for (let k = 0; k < 160; k++) payload[k] = ulawEncodeSample(Math.round(PEER_AMPLITUDE * Math.sin(w * (seq * 160 + k))));
      peer.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x5150, csrc: [], paddingLength: 0, payload }), rtpPort);
      seq++;
    }, 20);
    // The microphone's call is made on its own and joins through the members route's path; the listener joins as it is made.
    const mic = await sup.createCall({ transport: 'capture', source: 'device:sbrec', playback: 'device:sbplay', rateHz: 16000 });
    await sup.conferences.addMember(conference, { call: mic.id });
    const listener = await sup.createCall({ transport: 'capture', source: 'none', playback: 'device:sbplay2', conference });
    expect(sup.getCall(mic.id)!.actors.some((a) => a.startsWith('agent.'))).toBe(false);
    expect(sup.getCall(mic.id)!['conference']).toBe(conference);

    const from = peer.received.length;
    await until(() => peer.received.length >= from + 75, 10_000, 'the RTP member to hear 1.5 s of the mix');
    const info = sup.conferences.get(conference)!;
    expect(info.members.map((m) => m.call).sort()).toEqual([rtp.id, mic.id, listener.id].sort());
    const micMember = info.members.find((m) => m.call === mic.id)!;
    // A 6000-peak tone is −18.7 dBFS RMS.
    expect([micMember.levelDbfs > -24, micMember.levelDbfs < -14, micMember.framesIn > 40]).toEqual([true, true, true]);
    expect(info.members.find((m) => m.call === listener.id)!.talking).toBe(false);

    // The RTP member hears the microphone (48 kHz device → 16 kHz member → 8 kHz mix → PCMU) and not itself.
    const got = peer.received.slice(-50);
    const heard = new Int16Array(got.length * 160);
    got.forEach((p, j) => p.payload.forEach((b, k) => (heard[j * 160 + k] = ulawDecodeSample(b))));
    expect(medianLevel(heard, MIC_HZ, 8000, 0, 50) / MIC_AMPLITUDE).toBeCloseTo(1, 1);
    expect(medianLevel(heard, PEER_HZ, 8000, 0, 50)).toBeLessThan(PEER_AMPLITUDE * 0.05);

    // Leaving gives the microphone's call its agent back.
    expect(await sup.conferences.removeMember(conference, mic.id)).toBe(true);
    expect(sup.getCall(mic.id)!.actors.some((a) => a.startsWith('agent.'))).toBe(true);
    clearInterval(sender);
    expect(await sup.conferences.delete(conference)).toBe(true);
    for (const c of [rtp, mic, listener]) await sup.deleteCall(c.id);
    expect(sup.actorStatuses()).toEqual([]);

    // The microphone's speaker played the others (the peer's tone), never the microphone itself.
    const speaker = alsa.played('sbplay');
    const start = onset(speaker, PEER_HZ, 48_000, PEER_AMPLITUDE);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(medianLevel(speaker, PEER_HZ, 48_000, start + 2400, 40) / PEER_AMPLITUDE).toBeCloseTo(1, 1);
    expect(medianLevel(speaker, MIC_HZ, 48_000, start + 2400, 40)).toBeLessThan(MIC_AMPLITUDE * 0.05);
    // The listener's device played both.
    const room = alsa.played('sbplay2');
    const both = Math.max(onset(room, PEER_HZ, 48_000, PEER_AMPLITUDE), onset(room, MIC_HZ, 48_000, MIC_AMPLITUDE));
    expect(both).toBeGreaterThanOrEqual(0);
    expect(medianLevel(room, PEER_HZ, 48_000, both + 2400, 30) / PEER_AMPLITUDE).toBeCloseTo(1, 1);
    expect(medianLevel(room, MIC_HZ, 48_000, both + 2400, 30) / MIC_AMPLITUDE).toBeCloseTo(1, 1);
  }, 30_000);
});
