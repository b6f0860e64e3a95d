/**
 * The RTP leg: its per-packet path in one thread (receive: SRTP-less parse,
 * source and sequence checks, packet ring write; send: encode and
 * serialize), then the whole call — UDP in → jitter → loopback agent → leg →
 * UDP out — for N calls through the real supervisor and workers, with the
 * process's CPU per call (every thread, the driver sending the calls' RTP
 * included, minus an idle daemon's); and what one tick of many legs costs
 * in one thread, as a network worker hosts them: idle (a latch with no peer
 * yet, or an agent that is silent) against talking.
 */
import { createSocket, type Socket } from 'node:dgram';
import { cpus } from 'node:os';
import { pino } from 'pino';
import { FrameMeta, FrameRing } from '../src/frames/FrameRing.ts';
import { PacketWriter } from '../src/frames/PacketRing.ts';
import { jitterKind } from '../src/actors/jitter/kind.ts';
import { agentKind } from '../src/actors/agent/kind.ts';
import { RTP_STATS, rtpKind } from '../src/actors/rtp/kind.ts';
import { RtpReceiver } from '../src/actors/rtp/RtpReceiver.ts';
import { RtpSender } from '../src/actors/rtp/RtpSender.ts';
import { createRtpLeg } from '../src/actors/rtp/RtpLeg.ts';
import type { HostedActor } from '../src/actors/Actor.ts';
import { FrameFlags } from '../src/frames/FrameRing.ts';
import { Supervisor } from '../src/supervisor/Supervisor.ts';
import { rtpTransport } from '../src/legs/rtp/rtpTransport.ts';
import { serializeRtp } from '../src/wire/rtp.ts';
import { PCMU } from '../src/wire/rtpPayloadTypes.ts';
import { printTable, rate } from './table.ts';

const MEASURE_MS = 3000;
const PORT_MIN = 24_000;

function packetPath(): void {
  const ring = FrameRing.create(64, 1500);
  const writer = new PacketWriter(ring, 'PCMU');
  const stats = new Float64Array(RTP_STATS.length);
  const rx = new RtpReceiver({ payloadType: 0, telephoneEventPt: 101, clockRateHz: 8000, remote: { address: '127.0.0.1', port: 4000 }, srtp: undefined }, stats, writer);
  const pkt = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 5, csrc: [], paddingLength: 0, payload: new Uint8Array(160) });
  const drain = new Int16Array(1500);
  const meta = new FrameMeta();
  let seq = 0;
  const receive = rate(() => {
    seq = (seq + 1) & 0xffff;
    pkt[2] = seq >> 8;
    pkt[3] = seq & 0xff;
    rx.onPacket(pkt, pkt.length, '127.0.0.1', 4000, seq * 20);
    ring.read(drain, meta);
  });
  const sender = new RtpSender('PCMU', PCMU, 8000, 20);
  const frame = new Int16Array(160).map((_, i) => (i * 97) % 4000);
  const out = new Uint8Array(1500);
  const send = rate(() => sender.packetize(frame, true, out, 0));
  const opus = new RtpSender('opus', { ...PCMU, codec: 'opus', payloadType: 111, clockRateHz: 48000, sampleRateHz: 48000 }, 48000, 20);
  const frame48 = new Int16Array(960).map((_, i) => (i * 97) % 4000);
  const sendOpus = rate(() => opus.packetize(frame48, true, out, 0), 300);
  opus.destroy();
  printTable('RTP leg packet path (one thread)', [
    { step: 'receive PCMU (checks + stats + packet ring)', 'packets/s': receive, 'µs/packet': 1e6 / receive },
    { step: 'send PCMU (µ-law encode + serialize)', 'packets/s': send, 'µs/packet': 1e6 / send },
    { step: 'send Opus 48 kHz (encode + serialize)', 'packets/s': sendOpus, 'µs/packet': 1e6 / sendOpus },
  ]);
}

function bindAny(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function measure(sup: Supervisor, calls: number): Promise<Record<string, string | number>> {
  const sockets: Socket[] = [];
  const legPorts: number[] = [];
  const ids: string[] = [];
  let received = 0;
  for (let i = 0; i < calls; i++) {
    const s = await bindAny();
    s.on('message', () => received++);
    const info = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${s.address().port}`, codec: 'PCMU', agent: 'loopback' });
    sockets.push(s);
    legPorts.push((info['rtp'] as { localPort: number }).localPort);
    ids.push(info.id);
  }
  const payload = new Uint8Array(160).fill(0x55);
  let seq = 0;
  const packet = (): Uint8Array =>
    serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc: 77, csrc: [], paddingLength: 0, payload });
  const timer = setInterval(() => {
    const p = packet();
    seq++;
    for (let i = 0; i < calls; i++) sockets[i]!.send(p, legPorts[i]!, '127.0.0.1');
  }, 20);
  await new Promise((r) => setTimeout(r, 500));
  received = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - t0;
  const got = received;
  clearInterval(timer);
  const network = sup.status().workers.find((w) => w.kind === 'rtp');
  for (const id of ids) await sup.deleteCall(id);
  for (const s of sockets) s.close();
  return {
    calls,
    'packets out/s': (got * 1000) / elapsed,
    'expected/s': calls * 50,
    // µs of CPU over ms of wall time, as a percentage of one core.
    'process CPU %': (cpu.user + cpu.system) / 10 / elapsed,
    'leg worker tick µs (max)': network?.load.maxTickUs ?? 0,
  };
}

const LEG_PORT_MIN = 26_000;
const LEG_TICKS = 100;

interface LegCase {
  name: string;
  legs: number;
  /** With a peer (a sink socket of this process) or latching one that never comes. */
  peer: boolean;
  /** The agent's frames: speech, or silence flagged SILENCE (what an idle agent writes). */
  speech: boolean;
}

/**
 * `legs` Opus legs hosted in this thread, their agent rings fed one frame a
 * tick; the time of `tick()` over all of them (the rings' writes, the
 * agent's work, are outside it), over LEG_TICKS ticks.
 */
async function legTicks(c: LegCase, firstPort: number, sinkPort: number): Promise<Record<string, string | number>> {
  const log = pino({ level: 'silent' });
  const actors: HostedActor[] = [];
  const inputs: FrameRing[] = [];
  const heards: FrameRing[] = [];
  for (let i = 0; i < c.legs; i++) {
    const rings = { packets: FrameRing.create(64, 1500), in: FrameRing.create(64, 960), heard: FrameRing.create(64, 1) };
    const ctx = { actorId: `rtp-${i}`, log, rings, stats: new Float64Array(RTP_STATS.length), tickMs: 20, emit: () => {} };
    const remote = c.peer ? `127.0.0.1:${sinkPort}` : 'latch';
    actors.push(await createRtpLeg(ctx, { codec: 'opus', remote, host: '127.0.0.1', localPort: firstPort + 2 * i }));
    inputs.push(rings.in);
    heards.push(rings.heard);
  }
  const frame = new Int16Array(960).map((_, i) => Math.round(6000 * Math.sin(i / 7)));
  const silence = new Int16Array(960);
  const drain = new Int16Array(1);
  const meta = new FrameMeta();
  let busyMs = 0;
  let worstMs = 0;
  for (let t = 0; t < LEG_TICKS + 10; t++) {
    for (const ring of inputs) ring.write(c.speech ? frame : silence, 960, t, t * 960, 48000, c.speech ? FrameFlags.SPEECH : FrameFlags.SILENCE);
    const t0 = performance.now();
    for (const a of actors) a.tick(t);
    const ms = performance.now() - t0;
    for (const h of heards) while (h.read(drain, meta));
    // The first ticks warm the JIT and the encoders up.
    if (t >= 10) {
      busyMs += ms;
      worstMs = Math.max(worstMs, ms);
    }
    await new Promise((r) => setImmediate(r));
  }
  for (const a of actors) a.close();
  await new Promise((r) => setTimeout(r, 150));
  return {
    legs: `${c.legs} ${c.name}`,
    'ms per tick (all legs)': busyMs / LEG_TICKS,
    'worst tick ms': worstMs,
    'µs per leg per tick': (busyMs * 1000) / LEG_TICKS / c.legs,
    '% of a 20 ms frame per 100 legs': ((busyMs / LEG_TICKS / c.legs) * 100 * 100) / 20,
  };
}

async function legTickCost(): Promise<void> {
  const sink = await bindAny();
  sink.on('message', () => {});
  const cases: LegCase[] = [
    { name: 'idle: latch, no peer yet, agent silent', legs: 600, peer: false, speech: false },
    { name: 'idle: latch, no peer yet, agent talking', legs: 600, peer: false, speech: true },
    { name: 'peer, agent silent', legs: 600, peer: true, speech: false },
    { name: 'active: peer, agent talking', legs: 50, peer: true, speech: true },
  ];
  const rows = [];
  for (const c of cases) rows.push(await legTicks(c, LEG_PORT_MIN, sink.address().port));
  sink.close();
  printTable(`Opus RTP legs ticked in one thread (${LEG_TICKS} ticks; leg.tick() only)`, rows);
}

export default async function (): Promise<void> {
  packetPath();
  await legTickCost();
  const sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log: pino({ level: 'warn' }),
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind },
    transports: [rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 2 * 200 })],
  });
  await sup.start();
  try {
    const rows = [await measure(sup, 0)];
    for (const n of [1, 10, 100]) rows.push(await measure(sup, n));
    const idle = rows[0]!['process CPU %'] as number;
    for (const r of rows) {
      const n = r['calls'] as number;
      r['CPU % of a core per call'] = n === 0 ? 0 : ((r['process CPU %'] as number) - idle) / n;
    }
    printTable(`RTP calls end to end: UDP → jitter → loopback agent → leg → UDP (${cpus().length} cores, ${MEASURE_MS / 1000} s each)`, rows);
  } finally {
    await sup.stop();
  }
}
