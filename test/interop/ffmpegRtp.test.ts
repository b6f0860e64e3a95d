import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { readWav, toMono } from '../../src/wire/wav.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { segmentedCorrelation } from '../helpers/rtpPeer.ts';
import { randomBytes } from 'node:crypto';
import { freePair, haveFfmpeg, haveFfmpegSrtp, RtpRelay, runFfmpeg, sdp } from '../helpers/ffmpeg.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';

const FFMPEG = haveFfmpeg();
if (!FFMPEG) console.warn('ffmpeg with RTP support not found on PATH: skipping the ffmpeg RTP interop tests');

const PORT_MIN = 50_000 + 2 * ((process.pid * 13) % 1000);
/** Seconds of speech ffmpeg sends. */
const SEND_S = 2.5;
/** Seconds the receiving ffmpeg records: the send, its start-up and the path's delay. */
const RECORD_S = 4.5;

interface Case {
  codec: 'PCMU' | 'PCMA' | 'G722' | 'opus';
  rateHz: number;
  encode: string[];
  payloadType: number;
  rtpmap: string;
  minNcc: number;
}

/**
 * ffmpeg reads the 48 kHz file for every codec and resamples it itself: the
 * WAV demuxer then hands -re 20 ms packets (its packet floor is 1024 bytes,
 * 64 ms at 8 kHz), so the sender is paced like a phone rather than in bursts.
 * `asetnsamples` makes each encoded frame, hence each RTP packet, 20 ms.
 * The reference is the same file at the codec's rate, resampled by ffmpeg.
 */
const CASES: Case[] = [
  { codec: 'PCMU', rateHz: 8000, encode: ['-c:a', 'pcm_mulaw'], payloadType: 0, rtpmap: 'PCMU/8000', minNcc: 0.9 },
  { codec: 'PCMA', rateHz: 8000, encode: ['-c:a', 'pcm_alaw'], payloadType: 8, rtpmap: 'PCMA/8000', minNcc: 0.9 },
  // RFC 3551 §4.5.2: G.722's RTP clock is 8000 Hz although it samples at 16 kHz.
  { codec: 'G722', rateHz: 16000, encode: ['-c:a', 'g722'], payloadType: 9, rtpmap: 'G722/8000', minNcc: 0.9 },
  {
    codec: 'opus',
    rateHz: 48000,
    encode: ['-c:a', 'libopus', '-b:a', '48k', '-frame_duration', '20', '-application', 'voip', '-payload_type', '111'],
    payloadType: 111,
    rtpmap: 'opus/48000/2',
    minNcc: 0.8,
  },
];
const SOURCE = 'synth-m-48k';
const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const FFMPEG_SRTP = FFMPEG && haveFfmpegSrtp();

let sup: Supervisor | undefined;
let dir = '';

beforeAll(async () => {
  if (!FFMPEG) return;
  dir = mkdtempSync(join(tmpdir(), 'switchboard-interop-'));
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 0.5 })).sup;
});

afterAll(async () => {
  await sup?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Calls the leg through a relay: ffmpeg sends `c.file`, another ffmpeg records what the loopback agent returns. */
async function roundTrip(c: Case, srtp?: { ours: string; theirs: string }): Promise<{ ref: Int16Array; got: Int16Array; rateHz: number; legStats: Record<string, number> }> {
  const s = sup!;
  const outPort = await freePair();
  // The relay's leg side is the call's remote.
  const relay = await RtpRelay.create(outPort);
  const call = await s.createCall({
    transport: 'rtp',
    remote: `127.0.0.1:${relay.legSide.port}`,
    codec: c.codec,
    agent: 'loopback',
    ...(srtp ? { srtp: { suite: SUITE, localKey: `inline:${srtp.ours}`, remoteKey: `inline:${srtp.theirs}` } } : {}),
  });
  relay.legPort = (call['rtp'] as { localPort: number }).localPort;
  const name = `${c.codec}${srtp ? '-srtp' : ''}`;
  const sdpPath = join(dir, `${name}.sdp`);
  const outPath = join(dir, `${name}.wav`);
  // The receiving ffmpeg decrypts with the key the leg protects with (SDES, RFC 4568).
  const crypto = srtp ? `${SUITE} inline:${srtp.ours}` : undefined;
  writeFileSync(sdpPath, sdp({ port: outPort, payloadType: c.payloadType, rtpmap: c.rtpmap, crypto }));
  try {
    const receiving = runFfmpeg(['-protocol_whitelist', 'file,udp,rtp,srtp', '-i', sdpPath, '-t', String(RECORD_S), '-ac', '1', '-y', outPath]);
    await sleep(300);
    const wav = fixturePath(`speech/${SOURCE}.wav`);
    const refPath = join(dir, `${name}-ref.wav`);
    await runFfmpeg(['-t', String(SEND_S), '-i', wav, '-ar', String(c.rateHz), '-ac', '1', '-y', refPath]);
    // pkt_size: 160 payload bytes = 20 ms of G.711 or G.722 (ffmpeg fills packets to the size otherwise);
    // under SRTP ffmpeg keeps 14 bytes of it for the tag and the SRTCP index.
    const size = c.codec === 'opus' ? '' : srtp ? '?pkt_size=186' : '?pkt_size=172';
    const target = srtp
      ? ['-srtp_out_suite', SUITE, '-srtp_out_params', srtp.theirs, `srtp://127.0.0.1:${relay.inPair.port}${size}`]
      : [`rtp://127.0.0.1:${relay.inPair.port}${size}`];
    try {
      await runFfmpeg(['-re', '-max_size', '1920', '-t', String(SEND_S), '-i', wav, '-ac', '1', '-af', `aresample=${c.rateHz},asetnsamples=n=${c.rateHz / 50}`, '-ar', String(c.rateHz), ...c.encode, '-f', 'rtp', ...target]);
    } finally {
      await receiving;
    }
    const legStats = s.status().actors.find((a) => a.id === call.actors[0])!.stats;
    const out = readWav(new Uint8Array(readFileSync(outPath)));
    const ref = toMono(readWav(new Uint8Array(readFileSync(refPath))));
    return { ref, got: toMono(out), rateHz: out.rateHz, legStats };
  } finally {
    await s.deleteCall(call.id);
    relay.close();
  }
}

// Each case is its own call, relay and ffmpeg pair, paced by ffmpeg's clock: they run side by side.
describe.skipIf(!FFMPEG)('ffmpeg ⇄ RTP leg (loopback agent)', { concurrent: true }, () => {
  for (const c of CASES) {
    it(`${c.codec}: what comes back matches what ffmpeg sent (ncc ≥ ${c.minNcc})`, async () => {
      const { ref, got, rateHz, legStats } = await roundTrip(c);
      expect(rateHz).toBe(c.rateHz);
      expect(legStats['packetsIn']).toBeGreaterThan(SEND_S * 50 * 0.9);
      expect(legStats['droppedWrongPayloadType']).toBe(0);
      // ffmpeg's sender reports (SR) reach the leg through the relay and parse.
      expect(legStats['droppedBadRtcp']).toBe(0);
      const step = rateHz / 8000;
      const ncc = segmentedCorrelation(ref, got, rateHz / 20, Math.floor(rateHz * 2), step);
      expect(ncc).toBeGreaterThanOrEqual(c.minNcc);
    });
  }

  it.skipIf(!FFMPEG_SRTP)(`PCMU over SRTP (${SUITE}) both ways: ffmpeg's srtp protocol and SDES keys`, async () => {
    const srtp = { ours: randomBytes(30).toString('base64'), theirs: randomBytes(30).toString('base64') };
    const { ref, got, legStats } = await roundTrip(CASES[0]!, srtp);
    expect(legStats['packetsIn']).toBeGreaterThan(SEND_S * 50 * 0.9);
    expect(legStats['droppedSrtpAuth']).toBe(0);
    // ffmpeg's SRTCP sender reports authenticate and parse too.
    expect(legStats['rtcpIn']).toBeGreaterThanOrEqual(1);
    expect(segmentedCorrelation(ref, got, 400, 16000)).toBeGreaterThanOrEqual(0.9);
  });
});
