import { alawEncode, G711_PAYLOAD_SILENCE_ALAW, G711_PAYLOAD_SILENCE_ULAW, ulawEncode } from '../../dsp/g711.ts';
import { G722Encoder } from '../../dsp/g722.ts';
import { OpusEncoder } from '../../dsp/opus.ts';
import { randomRtpStart, RtpPacketView, serializeRtpInto, type RtpStart } from '../../wire/rtp.ts';
import { timestampUnits, type RtpPayloadFormat } from '../../wire/rtpPayloadTypes.ts';
import type { RtpLegCodec } from './RtpLegConfig.ts';

/** Largest encoded frame: an Opus packet (RFC 6716 §3.4: 1275 bytes per frame). */
export const MAX_FRAME_PAYLOAD_BYTES = 1275;
/** libopus in DTX: an encoded frame this short (the TOC byte, maybe one more) need not be sent. */
const OPUS_DTX_MAX_BYTES = 2;

/**
 * The outbound half of an RTP session: one 20 ms frame in, one RTP packet
 * out, on a steady clock. Random initial SSRC, sequence number and timestamp
 * (RFC 3550 §5.1); the timestamp advances by a frame every call, packet or
 * `skip` (a frame's time with nothing sent: silence suppression, RFC 3551
 * §4.1, or no peer yet), so a gap in what the agent says is a gap of the
 * sampling clock the peer can measure, while the sequence number counts
 * packets sent only; the marker bit starts each talkspurt. Allocates only in
 * its constructor.
 */
export class RtpSender {
  readonly ssrc: number;
  readonly format: RtpPayloadFormat;
  readonly samplesPerFrame: number;
  readonly timestampStep: number;
  #seq: number;
  #timestamp: number;
  #talking = false;
  #first = true;
  packetCount = 0;
  /** Frames that went through the encoder (silence and skipped frames do not). */
  framesEncoded = 0;
  /** Payload octets sent (the SR's octet count, §6.4.1). */
  octetCount = 0;
  /** Timestamp of the last packet and when it was sent (for the SR's RTP timestamp). */
  lastTimestamp = 0;
  lastSentAtMs = 0;

  readonly #codec: RtpLegCodec;
  readonly #view = new RtpPacketView();
  readonly #payload = new Uint8Array(MAX_FRAME_PAYLOAD_BYTES);
  readonly #silence: Int16Array;
  readonly #g722: G722Encoder | undefined;
  readonly #opus: OpusEncoder | undefined;
  readonly #dtx: boolean;

  constructor(
    codec: RtpLegCodec,
    format: RtpPayloadFormat,
    rateHz: number,
    frameMs: number,
    opusStartBps = 32_000,
    opusDtx = false,
    /** Where the stream left off (a leg re-created after its worker died): the same source goes on. */
    resume?: RtpStart,
  ) {
    this.#codec = codec;
    this.format = format;
    this.samplesPerFrame = (rateHz * frameMs) / 1000;
    this.timestampStep = timestampUnits(format, frameMs);
    this.#silence = new Int16Array(this.samplesPerFrame);
    const start = resume ?? randomRtpStart();
    this.ssrc = start.ssrc;
    this.#seq = start.sequenceNumber;
    this.#timestamp = start.timestamp;
    this.lastTimestamp = start.timestamp;
    if (codec === 'G722') this.#g722 = new G722Encoder();
    // The native addon where this thread could open its own copy of it (src/dsp/opusNative.ts), else WebAssembly.
    if (codec === 'opus') this.#opus = new OpusEncoder({ rateHz, bitrateBps: opusStartBps, fec: false, dtx: opusDtx });
    this.#dtx = codec === 'opus' && opusDtx;
  }

  get sequenceNumber(): number {
    return this.#seq;
  }
  get timestamp(): number {
    return this.#timestamp;
  }

  /**
   * Builds the next packet into `out` from `frame` (samplesPerFrame samples),
   * or from silence when `frame` is null; `speech` says whether the frame is
   * part of a talkspurt. Returns the packet length, 0 when Opus DTX says the
   * frame need not be sent (a `skip`), or a negative count when the frame
   * could not be encoded (the clock still advances: a lost frame).
   */
  packetize(frame: Int16Array | null, speech: boolean, out: Uint8Array, nowMs: number): number {
    const payloadLength = this.#encode(frame);
    const v = this.#view;
    const ts = this.#timestamp;
    this.#timestamp = (ts + this.timestampStep) >>> 0;
    if (payloadLength <= 0) return -1;
    if (this.#dtx && payloadLength <= OPUS_DTX_MAX_BYTES) {
      this.#talking = false;
      return 0;
    }
    const talking = frame !== null && speech;
    v.clear();
    v.marker = this.#first || (talking && !this.#talking);
    this.#first = false;
    this.#talking = talking;
    v.payloadType = this.format.payloadType;
    v.sequenceNumber = this.#seq;
    v.timestamp = ts;
    v.ssrc = this.ssrc;
    v.payloadOffset = 0;
    v.payloadLength = payloadLength;
    const n = serializeRtpInto(v, this.#payload, out);
    if (n < 0) return -1;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.packetCount++;
    this.octetCount += payloadLength;
    this.lastTimestamp = ts;
    this.lastSentAtMs = nowMs;
    return n;
  }

  /**
   * A frame's time passes with nothing sent (silence, or no peer to send
   * to): the sampling clock advances as if a packet had gone (RFC 3550 §5.1)
   * and the next packet starts a talkspurt (marker, RFC 3551 §4.1). No
   * encoding: the encoder's state stays where the peer's decoder last saw it.
   */
  skip(): void {
    this.#timestamp = (this.#timestamp + this.timestampStep) >>> 0;
    this.#talking = false;
  }

  /**
   * Builds a telephone-event packet (RFC 4733) in this frame's place: its own
   * payload type and the event's start timestamp; the media clock advances as
   * for audio, so the audio after the event continues in time.
   */
  packetizeEvent(payload: Uint8Array, marker: boolean, eventTimestamp: number, payloadType: number, out: Uint8Array, nowMs: number): number {
    const v = this.#view;
    this.#timestamp = (this.#timestamp + this.timestampStep) >>> 0;
    v.clear();
    v.marker = marker;
    v.payloadType = payloadType;
    v.sequenceNumber = this.#seq;
    v.timestamp = eventTimestamp >>> 0;
    v.ssrc = this.ssrc;
    v.payloadOffset = 0;
    v.payloadLength = payload.length;
    const n = serializeRtpInto(v, payload, out);
    if (n < 0) return -1;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#talking = false;
    this.packetCount++;
    this.octetCount += payload.length;
    this.lastTimestamp = eventTimestamp >>> 0;
    this.lastSentAtMs = nowMs;
    return n;
  }

  #encode(frame: Int16Array | null): number {
    const pcm = frame ?? this.#silence;
    this.framesEncoded++;
    const out = this.#payload;
    const spf = this.samplesPerFrame;
    switch (this.#codec) {
      case 'PCMU':
        if (frame === null) {
          out.fill(G711_PAYLOAD_SILENCE_ULAW, 0, spf);
          return spf;
        }
        return ulawEncode(pcm, out) === spf ? spf : -1;
      case 'PCMA':
        if (frame === null) {
          out.fill(G711_PAYLOAD_SILENCE_ALAW, 0, spf);
          return spf;
        }
        return alawEncode(pcm, out) === spf ? spf : -1;
      case 'G722':
        return this.#g722!.encode(pcm, out);
      case 'opus':
        return this.#opus!.encode(pcm, out);
    }
  }

  /** Applies the adaptive bitrate controller's decision (Opus only). */
  setOpus(bitrateBps: number, fec: boolean, packetLossPct: number): void {
    const enc = this.#opus;
    if (enc === undefined) return;
    enc.setBitrate(bitrateBps);
    enc.setFec(fec);
    enc.setPacketLossPct(packetLossPct);
  }

  get opusBitrateBps(): number {
    return this.#opus?.bitrateBps ?? 0;
  }

  destroy(): void {
    this.#g722?.destroy();
    this.#opus?.destroy();
  }
}
