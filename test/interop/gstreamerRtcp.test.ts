import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { parseRtcpCompound } from '../../src/wire/rtcp.ts';
import { freePair, RtpRelay } from '../helpers/ffmpeg.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';

function haveRtpbin(): boolean {
  const r = spawnSync('gst-inspect-1.0', ['rtpbin'], { encoding: 'utf8' });
  return r.status === 0;
}

const GST = haveRtpbin();
if (!GST) console.warn('gst-inspect-1.0/rtpbin not found (gstreamer1.0-tools, -plugins-good): skipping the gstreamer RTCP interop test');

const PORT_MIN = 56_000 + 2 * ((process.pid * 17) % 400);
/** rtpsession's RTCP interval is 5 s (randomized, the first one halved): this run sees at least one report each way. */
const RUN_S = 7;

let sup: Supervisor | undefined;
beforeAll(async () => {
  if (!GST) return;
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 10, rtcpMinIntervalS: 0.5 })).sup;
});
afterAll(async () => {
  await sup?.stop();
});

/**
 * Runs a gst-launch-1.0 pipeline for `runMs` and stops it (its udpsrc
 * elements never reach end-of-stream, so it would not stop by itself);
 * rejects when it exits early (a pipeline error).
 */
function gstRun(pipeline: string, runMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('gst-launch-1.0', ['-q', ...pipeline.split(/\s+/).filter((s) => s.length > 0)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let stopped = false;
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      stopped = true;
      p.kill('SIGKILL');
    }, runMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (stopped) resolve();
      else reject(new Error(`gst-launch-1.0 exited early with ${code}: ${err.slice(0, 2000)}`));
    });
  });
}

describe.skipIf(!GST)('gstreamer rtpbin ⇄ RTP leg: RTCP both ways', () => {
  it('rtpbin reports on our stream (echoing our SR: RTT known) and we parse its SRs', async () => {
    const s = sup!;
    const gstPort = await freePair();
    const relay = await RtpRelay.create(gstPort);
    const fromLeg: Uint8Array[] = [];
    relay.legSide.rtcp.on('message', (m) => fromLeg.push(new Uint8Array(m)));
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${relay.legSide.port}`, codec: 'PCMU', agent: 'loopback' });
    relay.legPort = (call['rtp'] as { localPort: number }).localPort;
    const legId = call.actors[0]!;
    try {
      await gstRun(
        `rtpbin name=rb
         audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay ! rb.send_rtp_sink_0
         rb.send_rtp_src_0 ! udpsink host=127.0.0.1 port=${relay.inPair.port}
         rb.send_rtcp_src_0 ! udpsink host=127.0.0.1 port=${relay.inPair.port + 1} sync=false async=false
         udpsrc port=${gstPort} caps="application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0" ! rb.recv_rtp_sink_0
         udpsrc port=${gstPort + 1} ! rb.recv_rtcp_sink_0
         rb. ! rtppcmudepay ! mulawdec ! fakesink`,
        RUN_S * 1000,
      );
      const st = s.status().actors.find((a) => a.id === legId)!.stats;
      // gstreamer's compounds parse (SR about its stream, RR about ours, SDES).
      expect(st['rtcpIn']).toBeGreaterThanOrEqual(1);
      expect(st['droppedBadRtcp']).toBe(0);
      // Its report block on our SSRC echoed the LSR of one of our SRs: it received them.
      expect(st['rttMs']).toBeGreaterThanOrEqual(0);
      expect(st['rttMs']).toBeLessThan(200);
      expect(st['peerLossFraction']).toBe(0);
      expect(st['packetsIn']).toBeGreaterThan((RUN_S - 1) * 50 * 0.9);
      // And ours are well-formed SRs with SDES.
      expect(fromLeg.length).toBeGreaterThan(2);
      expect(parseRtcpCompound(fromLeg[0]!).map((p) => p.type)).toEqual(['sr', 'sdes']);
    } finally {
      await s.deleteCall(call.id);
      relay.close();
    }
  });
});
