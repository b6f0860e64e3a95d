/**
 * DTMF as RTP telephone-events.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * Every packet of one event carries the event's start timestamp and its
 * duration so far in timestamp units; the first has the marker bit; the end
 * is sent three times with E set so one lost packet does not leave the digit
 * held down.
 * @see RFC 4733 §2.3 (payload format), §2.5.1 (sender), §2.5.2 (receiver), §3.2 (event codes).
 */

export const DTMF_PAYLOAD_BYTES = 4;
/** RFC 4733 §2.5.1.4: the final packet is repeated, three times in all. */
export const DTMF_END_REPEATS = 3;
const DIGITS = '0123456789*#ABCD';
/** A run of digits to send in one go (a control request, a leg's queue): 1–32 of 0-9 * # A-D, either case. */
export const DTMF_DIGITS = /^[0-9*#A-Da-d]{1,32}$/;

export class DtmfEvent {
  /** Event code: 0–9, 10 '*', 11 '#', 12–15 A–D (RFC 4733 §3.2). */
  event = 0;
  end = false;
  /** Power level in −dBm0, 0–63. */
  volume = 0;
  /** Timestamp units since the event's start timestamp. */
  duration = 0;
}

/** The event code for a digit character, or -1. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** The digit character for an event code, or '' for events that are not DTMF digits. */
export function dtmfDigit(event: number): string {
  return event >= 0 && event < DIGITS.length ? DIGITS[event]! : '';
}

/**
 * Parses a telephone-event payload at `buf[offset, offset+len)`. Never throws,
 * never allocates; false when it is shorter than 4 bytes. Event codes above 15
 * are legal (other telephony events) and are returned as they are.
 */
export function parseDtmfInto(buf: Uint8Array, offset: number, len: number, out: DtmfEvent): boolean {
  if (len < DTMF_PAYLOAD_BYTES || offset < 0 || offset + DTMF_PAYLOAD_BYTES > buf.length) return false;
  out.event = buf[offset]!;
  out.end = (buf[offset + 1]! & 0x80) !== 0;
  out.volume = buf[offset + 1]! & 0x3f;
  out.duration = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  return true;
}

/** Writes a telephone-event payload (the R bit is sent as 0); returns 4, or -1 if it does not fit. */
export function serializeDtmfInto(ev: DtmfEvent, out: Uint8Array, offset = 0): number {
  if (offset < 0 || offset + DTMF_PAYLOAD_BYTES > out.length) return -1;
  out[offset] = ev.event & 0xff;
  out[offset + 1] = (ev.end ? 0x80 : 0) | (ev.volume & 0x3f);
  out[offset + 2] = (ev.duration >>> 8) & 0xff;
  out[offset + 3] = ev.duration & 0xff;
  return DTMF_PAYLOAD_BYTES;
}

export interface DtmfPacket {
  /** Set on the first packet of the event only. */
  marker: boolean;
  /** The event's start timestamp, the same in every packet of the event. */
  timestamp: number;
  payload: Uint8Array;
}

export interface DtmfSendOptions {
  /** Event length; 100 ms by default. */
  durationMs?: number;
  /** Interval between updates (RFC 4733 §2.5.1.2 suggests 50 ms; 20 ms paces with the audio). */
  packetMs?: number;
  /** −dBm0, 10 by default. */
  volume?: number;
  clockRateHz?: number;
}

/**
 * The packets that send one digit: a first packet with the marker bit, updates
 * every `packetMs` with the growing duration, and three end packets with the
 * final duration (RFC 4733 §2.5.1). The caller gives them consecutive sequence
 * numbers and sends them `packetMs` apart, the end packets back to back or
 * paced. Allocates (a digit is a rare event, not the per-frame path).
 */
export function dtmfPackets(digit: string, startTimestamp: number, options: DtmfSendOptions = {}): DtmfPacket[] {
  const event = dtmfEventCode(digit);
  if (event < 0) throw new RangeError(`not a DTMF digit [digit:${JSON.stringify(digit)}]`);
  const clockRateHz = options.clockRateHz ?? 8000;
  const durationMs = options.durationMs ?? 100;
  const packetMs = options.packetMs ?? 20;
  const volume = options.volume ?? 10;
  if (volume < 0 || volume > 63) throw new RangeError(`DTMF volume out of range [volume:${volume}, range:0-63]`);
  if (!(packetMs > 0) || !(durationMs >= packetMs)) {
    throw new RangeError(`DTMF timing invalid [durationMs:${durationMs}, packetMs:${packetMs}]`);
  }
  const total = Math.round((durationMs * clockRateHz) / 1000);
  // §2.5.1.3 splits longer events into segments; a keypress never needs it.
  if (total > 0xffff) throw new RangeError(`DTMF event too long for one segment [units:${total}, max:65535]`);
  const step = Math.round((packetMs * clockRateHz) / 1000);
  const packets: DtmfPacket[] = [];
  const ev = new DtmfEvent();
  ev.event = event;
  ev.volume = volume;
  const push = (duration: number, end: boolean): void => {
    ev.duration = duration;
    ev.end = end;
    const payload = new Uint8Array(DTMF_PAYLOAD_BYTES);
    serializeDtmfInto(ev, payload);
    packets.push({ marker: packets.length === 0, timestamp: startTimestamp >>> 0, payload });
  };
  for (let d = step; d < total; d += step) push(d, false);
  for (let i = 0; i < DTMF_END_REPEATS; i++) push(total, true);
  return packets;
}

/** What {@link DtmfReceiver.receive} saw. */
export const DtmfReceive = {
  /** Nothing new: a repeat, an update, or a stale packet. */
  NONE: 0,
  /** A new event began: `event` holds it. Reported once per event. */
  START: 1,
  /** The current event ended: `event` holds it with its final duration. Reported at most once. */
  END: 2,
  /** The payload was too short. */
  INVALID: 3,
} as const;
export type DtmfReceiveCode = (typeof DtmfReceive)[keyof typeof DtmfReceive];

/**
 * Turns the redundant packet stream into one START per event and at most one
 * END, keyed by the event's timestamp as RFC 4733 §2.5.2.1 prescribes (the
 * marker bit alone is not trusted: the first packet may be lost). Packets of
 * an event older than the current one are ignored. Allocates nothing.
 */
export class DtmfReceiver {
  /** The event reported last; valid after START or END. */
  readonly event = new DtmfEvent();
  #active = false;
  #timestamp = 0;
  #ended = false;
  readonly #scratch = new DtmfEvent();

  receive(buf: Uint8Array, offset: number, len: number, timestamp: number): DtmfReceiveCode {
    const ev = this.#scratch;
    if (!parseDtmfInto(buf, offset, len, ev)) return DtmfReceive.INVALID;
    const ts = timestamp >>> 0;
    if (this.#active && ts !== this.#timestamp) {
      // Serial-number comparison (RFC 3550 A.1 style): a late packet of an older event.
      if (((ts - this.#timestamp) | 0) < 0) return DtmfReceive.NONE;
    }
    if (!this.#active || ts !== this.#timestamp) {
      this.#active = true;
      this.#timestamp = ts;
      this.#ended = ev.end;
      this.#copy(ev);
      return DtmfReceive.START;
    }
    if (this.#ended || !ev.end) {
      if (!this.#ended && ev.duration > this.event.duration) this.event.duration = ev.duration;
      return DtmfReceive.NONE;
    }
    this.#ended = true;
    this.#copy(ev);
    return DtmfReceive.END;
  }

  /** True when the current event began but its end has not been seen. */
  get pressed(): boolean {
    return this.#active && !this.#ended;
  }

  #copy(ev: DtmfEvent): void {
    this.event.event = ev.event;
    this.event.end = ev.end;
    this.event.volume = ev.volume;
    this.event.duration = ev.duration;
  }
}
