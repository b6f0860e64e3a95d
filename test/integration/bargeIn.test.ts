import { afterEach, describe, expect, it } from 'vitest';
import { ulawEncode } from '../../src/dsp/g711.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { callerPcm } from '../helpers/bargeIn.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';
import { within } from '../helpers/poll.ts';
import { TestPeer } from '../helpers/rtpPeer.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';
import type { RtpPacket } from '../../src/wire/rtp.ts';

/**
 * Barge-in with the echo agent, end to end: the caller's first turn is played
 * back; the caller talks over it; the playback stops (Twilio: `clear`), and
 * the agent learns exactly how much of it the caller heard — from mark
 * echoes on Twilio, from frames put on the wire on RTP — within one 20 ms
 * frame of what the peer really played or received.
 */
const PORT_MIN = 46_000 + 2 * ((process.pid * 11) % 1000);

let twilioRt: TwilioRuntime | undefined;
let sup: Supervisor | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await twilioRt?.stop();
  twilioRt = undefined;
  await sup?.stop();
  sup = undefined;
});

function agentStats(s: Supervisor): Record<string, number> {
  return s.actorStatuses().find((a) => a.kind === 'agent')!.stats;
}

describe('barge-in truncates at what the caller heard', () => {
  it('Twilio: clear goes out and the heard position from mark echoes is within 20 ms of what the peer played', async () => {
    twilioRt = await startTwilioRuntime();
    const pcm = callerPcm(4300, 2600);
    const audio = new Uint8Array(pcm.length);
    ulawEncode(pcm, audio);
    const p = new TwilioClient({ url: twilioRt.mediaUrl, audio, afterAudio: 'silence', customParameters: { agent: 'echo' } });
    cleanups.push(() => p.abort());
    await p.connect();
    await expect.poll(() => p.clears.length, within(6000, 'the clear')).toBe(1);
    const truncated = (): boolean => agentStats(twilioRt!.sup)['bargeIns'] === 1 && agentStats(twilioRt!.sup)['lastTruncateMs']! > 0;
    await expect.poll(truncated, within(2000, 'the truncation')).toBe(true);
    const truth = p.clears[0]!.heardMs;
    const told = agentStats(twilioRt.sup)['lastTruncateMs']!;
    expect(truth).toBeGreaterThan(200); // the caller did hear part of the echo
    expect(Math.abs(told - truth)).toBeLessThanOrEqual(20);
    expect(agentStats(twilioRt.sup)['heardTimeouts']).toBe(0);
  }, 15_000);

  it('RTP: the heard position from frames sent is within 20 ms of what the peer received', async () => {
    const rt = await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 10, rtcpMinIntervalS: 5 });
    sup = rt.sup;
    const peer = await TestPeer.create();
    cleanups.push(() => peer.close());
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'echo' });
    const localPort = (call['rtp'] as { localPort: number }).localPort;
    const pcm = callerPcm(4300, 2600);
    const payload = new Uint8Array(160);
    // The caller, paced at 20 ms.
    const t0 = performance.now();
    let n = 0;
    await new Promise<void>((resolve) => {
      const step = (): void => {
        if (n * 160 >= pcm.length) return resolve();
        ulawEncode(pcm.subarray(n * 160, n * 160 + 160), payload);
        peer.sendRtp({ sequenceNumber: n, timestamp: n * 160, payload, marker: n === 0 }, localPort);
        n++;
        setTimeout(step, Math.max(0, t0 + n * 20 - performance.now()));
      };
      step();
    });
    const truncated = (): boolean => agentStats(sup!)['bargeIns'] === 1 && agentStats(sup!)['lastTruncateMs']! > 0;
    await expect.poll(truncated, { timeout: 2000, interval: 5, message: 'the truncation' }).toBe(true);
    // The echo's frames are the first run of packets that are not all silence (0xff); a run also
    // ends where the RTP clock jumps past a frame (a leg that skips silence, under DTX).
    const sorted = (): RtpPacket[] => [...peer.received].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    const voicedRun = (): number => {
      const got = sorted();
      const voiced = got.map((r) => r.payload.some((b) => b !== 0xff));
      const first = voiced.indexOf(true);
      let k = first;
      while (k >= 0 && k < voiced.length && voiced[k] && (k === first || ((got[k]!.timestamp - got[k - 1]!.timestamp) >>> 0) === 160)) k++;
      return first < 0 ? 0 : k - first;
    };
    const truth = voicedRun() * 20;
    const told = agentStats(sup)['lastTruncateMs']!;
    const pattern = sorted().map((r, i, all) => (i > 0 && ((r.timestamp - all[i - 1]!.timestamp) >>> 0) !== 160 ? '|' : '') + (r.payload.some((b) => b !== 0xff) ? 'v' : '.')).join('');
    expect(truth).toBeGreaterThan(200);
    expect(Math.abs(told - truth), `told ${told} ms, received ${truth} ms: ${pattern}`).toBeLessThanOrEqual(20);
  }, 15_000);
});
