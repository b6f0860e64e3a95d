import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { PEER_ENDED_EVENT, type ActorCommand, type ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { isRtcp, type RtpStart } from '../../wire/rtp.ts';
import { SrtpContext, SrtpError } from '../../wire/srtp.ts';
import { commandRefused, type ActorContext, type HostedActor } from '../Actor.ts';
import { epochMs } from '../../frames/epochClock.ts';
import { recordEngineLatency } from '../engineLatency.ts';
import { PacketWriter } from '../../frames/PacketRing.ts';
import { OpusBitrateController } from './OpusBitrateController.ts';
import { RtcpSession } from './RtcpSession.ts';
import { parseRtpLegConfig } from './RtpLegConfig.ts';
import { RtpReceiver, STAT } from './RtpReceiver.ts';
import { RtpSender } from './RtpSender.ts';
import { DtmfSender } from './DtmfSender.ts';
import { RECORD_AGENT_ROLE, recordTapOf } from '../RecordTap.ts';
import { cidrMatcher } from '../../wire/cidr.ts';

/**
 * The per-frame path (tick) and the per-packet handlers allocate nothing of
 * their own; what node:dgram and node:crypto allocate inside `send` and the
 * SRTP HMAC is beyond reach short of a native socket layer.
 *
 * Datagrams handed to `socket.send` stay referenced until the kernel has
 * them (dgram resolves the address on the next tick first), so each send
 * gets its own buffer from a ring this long: far more than are ever in
 * flight at 50 packets/s plus RTCP.
 */
const SEND_BUFFERS = 16;
/** RTP header (12) + the largest frame + an SRTP tag (10), rounded up. */
const SEND_BUFFER_BYTES = 1536;
/** Agent frames waiting beyond this are dropped, oldest first: two workers' clocks drift in phase, not in rate. */
const MAX_BACKLOG_FRAMES = 2;
/**
 * A port released by a call that just ended may still be closing (its BYE in flight), and a leg
 * re-created after its worker was replaced waits for the old thread to let go of its sockets:
 * a stalled thread's teardown on a loaded machine takes more than a second (seen at 150 calls
 * under a load average of 7). Retry the bind this long.
 */
const BIND_RETRY_MS = 3000;
const BIND_RETRY_STEP_MS = 20;
/** How long close() waits for the BYE to leave before closing the sockets anyway. */
const BYE_GRACE_MS = 100;
/** Session bandwidth (bit/s) for the RTCP schedule: the codec's rate plus IP/UDP/RTP headers at 50 packets/s. */
const HEADER_BPS = 50 * (20 + 8 + 12) * 8;

function bindOnce(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * Where a re-created leg's stream goes on (its stats block outlives the actor):
 * the same SSRC and next sequence number, and the timestamp clock advanced by
 * the whole frames of the outage — to the peer, the frames the dead worker
 * never sent are a gap in time (as silence suppression is, RFC 3551 §4.1),
 * not a new source whose packets its jitter buffer, or its SRTP replay
 * window, would have to learn anew. Undefined on a leg's first creation.
 */
function resumedStart(stats: Float64Array, clockRateHz: number, frameMs: number): RtpStart | undefined {
  const ssrc = stats[STAT.senderSsrc]!;
  const atMs = stats[STAT.senderTimestampAtMs]!;
  if (ssrc === 0 || atMs === 0) return undefined;
  const frames = Math.max(0, Math.round((epochMs() - atMs) / frameMs));
  const step = (clockRateHz * frameMs) / 1000;
  return {
    ssrc,
    sequenceNumber: stats[STAT.senderNextSequence]! & 0xffff,
    timestamp: (stats[STAT.senderTimestamp]! + frames * step) >>> 0,
  };
}

/** Binds a fresh UDP socket, retrying EADDRINUSE for BIND_RETRY_MS; rejects with the address in the message. */
async function bindSocket(host: string, port: number, what: string): Promise<Socket> {
  const t0 = Date.now();
  for (;;) {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    try {
      await bindOnce(socket, port, host);
      return socket;
    } catch (err) {
      socket.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && Date.now() - t0 < BIND_RETRY_MS) {
        await new Promise((r) => setTimeout(r, BIND_RETRY_STEP_MS));
        continue;
      }
      throw new Error(`rtp: cannot bind the ${what} socket [address:${host}:${port}, code:${code ?? (err as Error).message}]`);
    }
  }
}

/**
 * The RTP leg of one call: binds its RTP and RTCP sockets (even port and
 * the next, RFC 3550 §11) at creation, takes inbound RTP from the peer only
 * (RtpReceiver) into the jitter actor's packet ring, and on every tick sends
 * the agent's frame as one RTP packet. Any frame before there is a peer,
 * and a frame of silence under Opus DTX, costs a ring read and nothing else:
 * it is neither encoded nor sent, the RTP clock runs on, and the next packet
 * starts a talkspurt (RFC 3551 §4.1) — so hundreds of idle legs cost next to
 * nothing. Otherwise silence is sent as it comes (continuous RTP, as peers
 * expect without negotiated comfort noise). RTCP runs beside it
 * (RtcpSession); BYE goes out on close.
 */
export async function createRtpLeg(ctx: ActorContext, config: ActorConfig): Promise<HostedActor> {
  const cfg = parseRtpLegConfig(config);
  const packets = ctx.rings['packets'];
  const input = ctx.rings['in'];
  const heard = ctx.rings['heard'];
  if (packets === undefined || input === undefined || heard === undefined) throw new RangeError('rtp: needs packets, in and heard rings');
  const stats = ctx.stats;
  const srtpIn = cfg.srtp && new SrtpContext(cfg.srtp.remoteKeys, cfg.srtp.profile, { srtcpTagBytes: cfg.srtp.srtcpTagBytes });
  const srtpOut = cfg.srtp && new SrtpContext(cfg.srtp.localKeys, cfg.srtp.profile, { srtcpTagBytes: cfg.srtp.srtcpTagBytes });

  const rtpSocket = await bindSocket(cfg.host, cfg.localPort, 'RTP');
  let rtcpSocket: Socket;
  try {
    rtcpSocket = await bindSocket(cfg.host, cfg.localPort + 1, 'RTCP');
  } catch (err) {
    rtpSocket.close();
    throw err;
  }

  const sender = new RtpSender(cfg.codec, cfg.format, cfg.rateHz, ctx.tickMs, cfg.opusStartBps, cfg.opusDtx, resumedStart(stats, cfg.format.clockRateHz, ctx.tickMs));
  stats[STAT.senderSsrc] = sender.ssrc;
  const writer = new PacketWriter(packets, cfg.codec);
  const receiver = new RtpReceiver(
    {
      payloadType: cfg.format.payloadType,
      telephoneEventPt: cfg.telephoneEventPt,
      clockRateHz: cfg.format.clockRateHz,
      remote: cfg.remote,
      latchCidr: cfg.latchCidr === undefined ? undefined : cidrMatcher(cfg.latchCidr),
      srtp: srtpIn,
    },
    stats,
    writer,
  );
  const rtcp = new RtcpSession({
    sender,
    stats,
    cname: cfg.cname,
    sessionBandwidthBps: cfg.codec === 'opus' ? cfg.opusStartBps + HEADER_BPS : 64_000 + HEADER_BPS,
    minIntervalS: cfg.rtcpMinIntervalS,
    nowMs: epochMs(),
  });
  const abr = cfg.codec === 'opus' ? new OpusBitrateController({ startBps: cfg.opusStartBps }) : undefined;
  stats[STAT.localPort] = cfg.localPort;
  stats[STAT.opusBitrateBps] = abr?.bitrateBps ?? 0;

  const sendBuffers: Buffer[] = [];
  for (let i = 0; i < SEND_BUFFERS; i++) sendBuffers.push(Buffer.alloc(SEND_BUFFER_BYTES));
  let nextBuffer = 0;
  const takeBuffer = (): Buffer => {
    const b = sendBuffers[nextBuffer]!;
    nextBuffer = (nextBuffer + 1) % SEND_BUFFERS;
    return b;
  };
  let rtcpPeerPort = cfg.remoteRtcpPort ?? (cfg.remote === undefined ? 0 : cfg.remote.port + 1);
  let sendErrors = 0;
  const onSocketError = (err: Error): void => {
    // Send errors (ICMP port unreachable while the peer starts) are expected; log the first few only.
    if (sendErrors++ < 3) ctx.log.warn({ err }, 'rtp socket error');
  };
  rtpSocket.on('error', onSocketError);
  rtcpSocket.on('error', onSocketError);

  const dtmf = new DtmfSender(cfg.format.clockRateHz);
  const frame = new Int16Array(sender.samplesPerFrame);
  const meta = new FrameMeta();

  const onRtcp = (buf: Buffer, nowMs: number): void => {
    let len = buf.length;
    if (srtpIn !== undefined) {
      len = srtpIn.unprotectRtcp(buf, len, buf);
      if (len < 0) {
        stats[len === SrtpError.AUTH_FAILED ? STAT.droppedSrtpAuth : len === SrtpError.REPLAY || len === SrtpError.TOO_OLD ? STAT.droppedSrtpReplay : STAT.droppedSrtpMalformed]++;
        return;
      }
    }
    if (!rtcp.onCompound(buf, len, nowMs, receiver.source)) return;
    const peer = rtcp.peer;
    stats[STAT.peerLossFraction] = peer.lossFraction;
    stats[STAT.peerCumulativeLost] = peer.cumulativeLost;
    stats[STAT.peerJitterMs] = peer.jitterMs;
    stats[STAT.rttMs] = peer.rttMs;
    if (abr !== undefined && abr.onReport(peer.lossFraction, peer.rttMs, nowMs)) {
      sender.setOpus(abr.bitrateBps, abr.fec, abr.packetLossPct);
      stats[STAT.opusBitrateBps] = abr.bitrateBps;
      stats[STAT.opusFec] = abr.fec ? 1 : 0;
    }
  };

  const alive = ctx.alive;
  rtpSocket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    alive?.();
    const now = epochMs();
    if (isRtcp(msg, msg.length)) {
      // RTCP multiplexed on the RTP port (RFC 5761), from the peer's RTP address.
      if (receiver.isPeer(rinfo.address, rinfo.port)) onRtcp(msg, now);
      else stats[STAT.droppedWrongSource]++;
      return;
    }
    receiver.onPacket(msg, msg.length, rinfo.address, rinfo.port, now);
  });
  rtcpSocket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const address = receiver.remoteAddress;
    if (address === undefined || rinfo.address !== address) {
      stats[STAT.droppedWrongSource]++;
      return;
    }
    if (rtcpPeerPort === 0) rtcpPeerPort = rinfo.port; // latched: the peer's RTCP port is whichever it uses first
    if (rinfo.port !== rtcpPeerPort) {
      stats[STAT.droppedWrongSource]++;
      return;
    }
    onRtcp(msg, epochMs());
  });

  const sendRtcp = (nowMs: number, bye: boolean, done?: () => void): boolean => {
    const address = receiver.remoteAddress;
    if (address === undefined) return false;
    const port = rtcpPeerPort !== 0 ? rtcpPeerPort : receiver.remotePort + 1;
    const buf = takeBuffer();
    let n = rtcp.writeReport(buf, nowMs, receiver.source, bye);
    if (srtpOut !== undefined) n = srtpOut.protectRtcp(buf, n, buf);
    if (n <= 0) return false;
    rtcpSocket.send(buf, 0, n, port, address, done);
    return true;
  };

  /** The timestamp of the frame at hand and when it was, for a re-created leg to go on from (resumedStart). */
  const keepPlace = (nowMs: number): void => {
    stats[STAT.senderTimestamp] = sender.timestamp;
    stats[STAT.senderTimestampAtMs] = nowMs;
  };
  const none = new Int16Array(1);
  const silentFrame = new Int16Array(frame.length);
  const recording = recordTapOf(ctx.rings, RECORD_AGENT_ROLE, cfg.rateHz, ctx.tickMs);
  let heardValue = 0;
  const cleared = (): void => void heard.write(none, 0, heardValue, 0, 0, FrameFlags.CLEAR);

  let closed = false;
  // The peer's end, told once to the call (its `peer.ended` event): RFC 3550 §6.6 BYE, or silence past the idle limit.
  let peerEnded = false;
  let lastHeard = -1;
  let lastHeardTick = 0;
  const idleTicks = Math.ceil(cfg.idleTimeoutMs / ctx.tickMs);
  const checkPeer = (tickIndex: number): void => {
    if (peerEnded) return;
    const heardNow = stats[STAT.packetsIn]! + stats[STAT.rtcpIn]!;
    if (heardNow !== lastHeard) {
      lastHeard = heardNow;
      lastHeardTick = tickIndex;
    }
    let reason: string | undefined;
    if (stats[STAT.byeReceived]! > 0) reason = 'the peer sent RTCP BYE';
    else if (tickIndex - lastHeardTick > idleTicks) reason = `nothing from the peer for ${cfg.idleTimeoutMs} ms`;
    if (reason === undefined) return;
    peerEnded = true;
    ctx.emit(PEER_ENDED_EVENT, { reason });
  };
  return {
    tick(tickIndex: number): number {
      checkPeer(tickIndex);
      const address = receiver.remoteAddress;
      // Frames are consumed by header first (peek): one that will not be sent
      // is skipped without copying its samples, let alone encoding them.
      for (let k = input.available(); k > MAX_BACKLOG_FRAMES + 1; k--) {
        input.read(none, meta);
        if ((meta.flags & FrameFlags.CLEAR) !== 0) cleared();
        else stats[STAT.framesSkipped]++;
      }
      let have = input.peek(meta);
      // A barge-in: nothing is held here, so what went out is final at once; the next frame is the new audio.
      if (have && (meta.flags & FrameFlags.CLEAR) !== 0) {
        input.read(none, meta);
        cleared();
        have = input.peek(meta);
      }
      // No frame from the agent in time (its thread ran late) on a live, continuous stream: a frame
      // of silence keeps one packet per 20 ms, so the RTP clock never jumps under thread jitter.
      const filler = !have && address !== undefined && !cfg.opusDtx;
      if (have) {
        // Before a peer there is nobody to send to. Silence is skipped only where the peer agreed to
        // gaps (Opus DTX, RFC 7587 §3.1.3); otherwise RTP stays continuous, as trunks, PBXs and
        // recorders expect without comfort-noise negotiation (RFC 3551 §4.1 leaves it to the session).
        if ((meta.flags & FrameFlags.SILENCE) !== 0 && (address === undefined || cfg.opusDtx)) {
          stats[STAT.silenceFramesSkipped]++;
          have = false;
        } else if (address === undefined || meta.sampleCount !== frame.length) {
          stats[STAT.framesSkipped]++;
          have = false;
        }
        if (have) input.readStamped(frame, meta);
        else input.read(none, meta);
      }
      const event = dtmf.next(sender.timestamp);
      // What the caller gets this tick: the agent's frame, or silence (a DTMF event's tones are not the agent's).
      recording?.write(tickIndex, have && event === null ? frame : silentFrame, frame.length, have && event === null ? meta.flags : FrameFlags.SILENCE);
      if (event === null && !have && !filler) {
        // Nothing to say: the clock runs on, nothing is encoded, sent or heard (nor, with no peer, even timed).
        if (address !== undefined) {
          const now = epochMs();
          keepPlace(now);
          sender.skip();
          if (rtcp.due(now)) sendRtcp(now, false);
        } else sender.skip();
        return 0;
      }
      const now = epochMs();
      keepPlace(now);
      const buf = takeBuffer();
      let n =
        event === null
          ? sender.packetize(have ? frame : silentFrame, true, buf, now)
          : sender.packetizeEvent(event.payload, event.marker, dtmf.eventTimestamp, cfg.telephoneEventPt, buf, now);
      if (event !== null) stats[STAT.dtmfSent] = dtmf.sent;
      stats[STAT.framesEncoded] = sender.framesEncoded;
      if (n > 0 && srtpOut !== undefined) n = srtpOut.protectRtp(buf, n, buf);
      if (n > 0 && address !== undefined) {
        rtpSocket.send(buf, 0, n, receiver.remotePort, address);
        stats[STAT.senderNextSequence] = sender.sequenceNumber;
        stats[STAT.packetsOut]++;
        stats[STAT.bytesOut] += n;
        if (have && event === null) recordEngineLatency(stats, STAT.engineLatencyFrames, meta.arrivalMs, epochMs());
      }
      // The agent's frame is heard once on the wire, or once Opus DTX found it silent (n = 0: the peer's
      // decoder plays that silence in its place); not when an event took its place or it failed to encode.
      if (have && event === null && n >= 0) {
        heardValue = (meta.sequence + 1) >>> 0;
        heard.write(none, 0, heardValue, 0, 0, 0);
      }
      if (rtcp.due(now)) sendRtcp(now, false);
      return 1;
    },
    /** `dtmf` queues digits to send as telephone-events; the leg takes no other command. */
    command(c: ActorCommand): void {
      if (c.type !== 'dtmf') throw commandRefused('rtp', c);
      dtmf.queue(c.digits);
    },
    close(): void {
      if (closed) return;
      closed = true;
      let shut = false;
      const shutdown = (): void => {
        if (shut) return;
        shut = true;
        clearTimeout(timer);
        rtpSocket.close();
        rtcpSocket.close();
        sender.destroy();
      };
      const timer = setTimeout(shutdown, BYE_GRACE_MS);
      try {
        if (!sendRtcp(epochMs(), true, shutdown)) shutdown();
      } catch (err) {
        ctx.log.warn({ err }, 'rtp: BYE not sent');
        shutdown();
      }
    },
  };
}
