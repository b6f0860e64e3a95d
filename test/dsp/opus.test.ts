import { describe, expect, it } from 'vitest';
import {
  MAX_PACKET_BYTES,
  OPUS_BAD_ARG,
  OPUS_BUFFER_TOO_SMALL,
  OPUS_INVALID_PACKET,
  OPUS_INVALID_STATE,
  OPUS_RATES_HZ,
  type OpusBackend,
  OpusDecoder,
  OpusEncoder,
  loadNativeOpus,
  opusEncoderBackend,
} from '../../src/dsp/opus.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';

const BACKENDS: OpusBackend[] = loadNativeOpus().binding === undefined ? ['wasm'] : ['native', 'wasm'];

/** Normalized cross-correlation of x with y delayed by `lag`. */
function ncc(x: Int16Array, y: Int16Array, lag: number): number {
  const n = Math.min(x.length, y.length - lag);
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]!;
    const b = y[i + lag]!;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xy / Math.sqrt(xx * yy);
}

/** Best correlation over lags near the expected codec delay. */
function alignedNcc(x: Int16Array, y: Int16Array, delay: number): { lag: number; r: number } {
  let best = { lag: 0, r: -1 };
  for (let lag = Math.max(0, delay - 8); lag <= delay + 8; lag++) {
    const r = ncc(x, y, lag);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

/** Windowed-sinc low-pass and decimation: 12 and 24 kHz inputs from the 48 kHz recording. */
function decimate(x: Int16Array, factor: number): Int16Array {
  const half = 48;
  const fc = 0.45 / factor;
  const h = new Float64Array(2 * half + 1);
  for (let k = -half; k <= half; k++) {
    const w = 0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1));
    h[k + half] = (k === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * k) / (Math.PI * k)) * w;
  }
  const out = new Int16Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = -half; k <= half; k++) {
      const j = i * factor + k;
      if (j >= 0 && j < x.length) s += h[k + half]! * x[j]!;
    }
    out[i] = Math.max(-32768, Math.min(32767, Math.round(s)));
  }
  return out;
}

/** Three seconds of speech at `rateHz`, skipping the leading second of the file. */
function speechAt(rateHz: number): Int16Array {
  if (rateHz === 8000) return speech('synth-m-8k').samples.slice(8000, 32000);
  if (rateHz === 16000) return speech('synth-m-16k').samples.slice(16000, 64000);
  const s48 = speech('synth-m-48k').samples.slice(48000, 4 * 48000);
  return rateHz === 48000 ? s48 : decimate(s48, 48000 / rateHz);
}

function encodeAll(enc: OpusEncoder, x: Int16Array): Uint8Array[] {
  const f = enc.frameSamples;
  const out = new Uint8Array(1500);
  const packets: Uint8Array[] = [];
  for (let at = 0; at + f <= x.length; at += f) {
    const n = enc.encode(x.subarray(at, at + f), out);
    expect(n).toBeGreaterThan(0);
    packets.push(out.slice(0, n));
  }
  return packets;
}

function decodeAll(dec: OpusDecoder, packets: readonly Uint8Array[]): Int16Array {
  const y = new Int16Array(packets.length * dec.frameSamples);
  const buf = new Int16Array(5760);
  packets.forEach((p, i) => {
    expect(dec.decode(p, buf)).toBe(dec.frameSamples);
    y.set(buf.subarray(0, dec.frameSamples), i * dec.frameSamples);
  });
  return y;
}

const rms = (a: Int16Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

describe('OpusEncoder / OpusDecoder round trip', () => {
  it('picks a backend and says why', () => {
    const { backend, reason } = opusEncoderBackend();
    expect(['native', 'wasm']).toContain(backend);
    expect(reason.length).toBeGreaterThan(0);
  });

  for (const rateHz of OPUS_RATES_HZ) {
    it(`speech at ${rateHz} Hz / 24 kbit/s correlates with the input after the codec delay`, () => {
      const x = speechAt(rateHz);
      const enc = new OpusEncoder({ rateHz, bitrateBps: 24000 });
      const dec = new OpusDecoder({ rateHz });
      expect(enc.frameSamples).toBe(rateHz / 50);
      const y = decodeAll(dec, encodeAll(enc, x));
      const { lag, r } = alignedNcc(x, y, enc.lookaheadSamples);
      // The decoder's output lags the input by the encoder's lookahead (6.5 ms in VOIP mode).
      expect(Math.abs(lag - enc.lookaheadSamples)).toBeLessThanOrEqual(4);
      expect(r).toBeGreaterThanOrEqual(0.88);
      expect(dec.counters).toMatchObject({ decoded: y.length / dec.frameSamples, corrupt: 0 });
      enc.destroy();
      dec.destroy();
    });
  }

  for (const backend of BACKENDS) {
    it(`48 kHz / 32 kbit/s through the ${backend} encoder: correlation ≥ 0.9`, () => {
      const x = speechAt(48000);
      const enc = new OpusEncoder({ rateHz: 48000, bitrateBps: 32000, complexity: 10, backend });
      expect(enc.backend).toBe(backend);
      const dec = new OpusDecoder({ rateHz: 48000 });
      const y = decodeAll(dec, encodeAll(enc, x));
      expect(alignedNcc(x, y, enc.lookaheadSamples).r).toBeGreaterThanOrEqual(0.9);
      enc.destroy();
      dec.destroy();
    });
  }
});

describe('OpusEncoder settings', () => {
  for (const backend of BACKENDS) {
    it(`applies creation options and later changes (${backend})`, () => {
      const enc = new OpusEncoder({
        rateHz: 16000,
        bitrateBps: 20000,
        complexity: 4,
        fec: true,
        dtx: true,
        packetLossPct: 15,
        backend,
      });
      expect(enc.bitrateBps).toBe(20000);
      expect(enc.complexity).toBe(4);
      expect(enc.fec).toBe(true);
      expect(enc.dtx).toBe(true);
      expect(enc.packetLossPct).toBe(15);
      enc.setBitrate(12000);
      enc.setPacketLossPct(150); // clamped
      enc.setFec(false);
      enc.setDtx(false);
      enc.setComplexity(10);
      expect(enc.bitrateBps).toBe(12000);
      expect(enc.packetLossPct).toBe(100);
      expect(enc.fec).toBe(false);
      expect(enc.dtx).toBe(false);
      expect(enc.complexity).toBe(10);
      enc.destroy();
    });

    it(`a lower bitrate gives smaller packets (${backend})`, () => {
      const x = speechAt(16000);
      const enc = new OpusEncoder({ rateHz: 16000, bitrateBps: 40000, backend });
      const bytes = (): number => encodeAll(enc, x).reduce((n, p) => n + p.length, 0);
      const high = bytes();
      enc.setBitrate(10000);
      const low = bytes();
      expect(low).toBeLessThan(high * 0.4);
      enc.destroy();
    });
  }

  it('rejects unsupported rates at creation', () => {
    expect(() => new OpusEncoder({ rateHz: 44100 })).toThrow(/unsupported Opus rate \[rateHz:44100\]/);
    expect(() => new OpusDecoder({ rateHz: 32000 })).toThrow(RangeError);
  });

  for (const backend of BACKENDS) {
    it(`returns codes for a wrong frame length or a too-small output (${backend})`, () => {
      const enc = new OpusEncoder({ rateHz: 8000, backend });
      const out = new Uint8Array(1500);
      expect(enc.encode(new Int16Array(100), out)).toBe(OPUS_BAD_ARG);
      expect(enc.encode(new Int16Array(161), out)).toBe(OPUS_BAD_ARG);
      expect(enc.errors).toBe(2);
      const x = speechAt(8000).subarray(8000, 8160);
      const n = enc.encode(x, new Uint8Array(2));
      // libopus fits what it can (a 1–2 byte packet) or refuses; it never overruns `out`.
      expect(n === OPUS_BUFFER_TOO_SMALL || (n > 0 && n <= 2) || n < 0).toBe(true);
      enc.destroy();
    });
  }
});

describe('DTX', () => {
  for (const backend of BACKENDS) {
    it(`sends tiny packets in silence (${backend})`, () => {
      const enc = new OpusEncoder({ rateHz: 16000, dtx: true, bitrateBps: 24000, backend });
      const packets = encodeAll(enc, new Int16Array(16000 * 2));
      const tiny = packets.filter((p) => p.length <= 2);
      expect(tiny.length).toBeGreaterThan(packets.length * 0.8);
      // A DTX packet decodes (to comfort noise or silence) rather than counting as corrupt.
      const dec = new OpusDecoder({ rateHz: 16000 });
      expect(dec.decode(tiny[tiny.length - 1]!, new Int16Array(5760))).toBe(320);
      expect(dec.counters.corrupt).toBe(0);
      enc.destroy();
      dec.destroy();
    });
  }
});

describe('OpusDecoder concealment', () => {
  it('conceal() gives 20 ms continuing the previous audio, fading over a long loss', () => {
    const rateHz = 16000;
    const x = speechAt(rateHz);
    const enc = new OpusEncoder({ rateHz, bitrateBps: 24000 });
    const packets = encodeAll(enc, x);
    const dec = new OpusDecoder({ rateHz });
    const last = new Int16Array(dec.frameSamples);
    // Decode into a voiced stretch, then lose everything after it.
    let f = 0;
    for (; f < packets.length; f++) {
      dec.decode(packets[f]!, last);
      if (f > 20 && rms(last) > 1500) break;
    }
    const frame = new Int16Array(dec.frameSamples);
    expect(dec.conceal(frame)).toBe(dec.frameSamples);
    let maxStep = 0;
    for (let i = 1; i < last.length; i++) maxStep = Math.max(maxStep, Math.abs(last[i]! - last[i - 1]!));
    expect(Math.abs(frame[0]! - last[last.length - 1]!)).toBeLessThanOrEqual(2 * maxStep);
    const first = rms(frame);
    expect(first).toBeGreaterThan(0.3 * rms(last));
    expect(first).toBeLessThan(2 * rms(last));
    for (let k = 0; k < 10; k++) dec.conceal(frame);
    expect(rms(frame)).toBeLessThan(0.1 * first);
    expect(dec.counters.concealed).toBe(11);
    expect(dec.conceal(new Int16Array(10))).toBe(OPUS_BUFFER_TOO_SMALL);
    enc.destroy();
    dec.destroy();
  });

  it('decodeFec(next) recovers a lost frame much better than conceal()', () => {
    const rateHz = 16000;
    const x = speech('synth-m-16k').samples.slice(rateHz, 7 * rateHz);
    const enc = new OpusEncoder({ rateHz, bitrateBps: 32000, fec: true, packetLossPct: 20 });
    const packets = encodeAll(enc, x);
    const F = enc.frameSamples;
    const clean = new OpusDecoder({ rateHz });
    const withFec = new OpusDecoder({ rateHz });
    const withPlc = new OpusDecoder({ rateHz });
    const ref = new Int16Array(F);
    const a = new Int16Array(F);
    const b = new Int16Array(F);
    let signal = 0;
    let fecErr = 0;
    let plcErr = 0;
    let lost = 0;
    let fecBetter = 0;
    for (let f = 0; f < packets.length - 1; f++) {
      clean.decode(packets[f]!, ref);
      if (f >= 10 && f % 7 === 3) {
        expect(withFec.decodeFec(packets[f + 1]!, a)).toBe(F);
        expect(withPlc.conceal(b)).toBe(F);
        let s = 0;
        let ea = 0;
        let eb = 0;
        for (let i = 0; i < F; i++) {
          s += ref[i]! ** 2;
          ea += (ref[i]! - a[i]!) ** 2;
          eb += (ref[i]! - b[i]!) ** 2;
        }
        // Score speech frames only: in silence both are near zero and the ratio means nothing.
        if (s / F > 500 ** 2) {
          lost++;
          signal += s;
          fecErr += ea;
          plcErr += eb;
          if (ea < eb) fecBetter++;
        }
      } else {
        withFec.decode(packets[f]!, a);
        withPlc.decode(packets[f]!, b);
      }
    }
    const fecSnr = 10 * Math.log10(signal / fecErr);
    const plcSnr = 10 * Math.log10(signal / plcErr);
    expect(lost).toBeGreaterThan(20);
    expect(fecBetter).toBeGreaterThanOrEqual(0.8 * lost);
    expect(fecSnr).toBeGreaterThan(plcSnr + 5);
    expect(withFec.counters.fec).toBeGreaterThanOrEqual(lost);
    for (const d of [clean, withFec, withPlc]) d.destroy();
    enc.destroy();
  });

  it('decodeFec() of a packet without FEC data, or a bad one, conceals', () => {
    const enc = new OpusEncoder({ rateHz: 16000, bitrateBps: 24000 });
    const packets = encodeAll(enc, speechAt(16000).subarray(0, 16000));
    const dec = new OpusDecoder({ rateHz: 16000 });
    const buf = new Int16Array(320);
    dec.decode(packets[0]!, buf);
    expect(dec.decodeFec(packets[2]!, buf)).toBe(320);
    expect(dec.decodeFec(new Uint8Array(0), buf)).toBe(320);
    expect(dec.counters).toMatchObject({ corrupt: 1, concealed: 1, fec: 1 });
    enc.destroy();
    dec.destroy();
  });
});

describe('bad input', () => {
  it('random bytes never throw; every refusal is counted', () => {
    const rnd = mulberry32(7);
    const dec = new OpusDecoder({ rateHz: 48000 });
    const out = new Int16Array(5760);
    let refused = 0;
    for (let k = 0; k < 500; k++) {
      const p = new Uint8Array(1 + Math.floor(rnd() * 300));
      for (let i = 0; i < p.length; i++) p[i] = Math.floor(rnd() * 256);
      const n = dec.decode(p, out);
      if (n < 0) refused++;
      else expect(n % 120).toBe(0); // a whole number of 2.5 ms units
    }
    expect(refused).toBeGreaterThan(0);
    expect(dec.counters.corrupt).toBe(refused);
    dec.destroy();
  });

  it('empty, truncated and oversized packets are refused and counted; good ones still decode', () => {
    const enc = new OpusEncoder({ rateHz: 48000, bitrateBps: 32000 });
    const good = encodeAll(enc, speechAt(48000).subarray(0, 9600));
    const dec = new OpusDecoder({ rateHz: 48000 });
    const out = new Int16Array(5760);
    expect(dec.decode(new Uint8Array(0), out)).toBe(OPUS_INVALID_PACKET);
    expect(dec.decode(new Uint8Array(MAX_PACKET_BYTES + 1), out)).toBe(OPUS_INVALID_PACKET);
    // Code 3 (RFC 6716 §3.2.5) with the frame-count byte cut off, and with a count of 0.
    expect(dec.decode(Uint8Array.of(0x03), out)).toBe(OPUS_INVALID_PACKET);
    expect(dec.decode(Uint8Array.of(0x03, 0x00), out)).toBe(OPUS_INVALID_PACKET);
    // Code 2 declaring a first frame longer than the packet.
    expect(dec.decode(Uint8Array.of(0x02, 200, 1, 2, 3), out)).toBe(OPUS_INVALID_PACKET);
    // A good packet into an output too short for it.
    expect(dec.decode(good[3]!, new Int16Array(100))).toBe(OPUS_BUFFER_TOO_SMALL);
    expect(dec.counters.corrupt).toBe(6);
    expect(dec.decode(good[4]!, out)).toBe(960);
    enc.destroy();
    dec.destroy();
  });

  it('decodes the first `length` bytes of a larger store as the packet itself', () => {
    const enc = new OpusEncoder({ rateHz: 16000, bitrateBps: 24000, fec: true, packetLossPct: 20 });
    const packets = encodeAll(enc, speechAt(16000).subarray(0, 3200));
    const exact = new OpusDecoder({ rateHz: 16000 });
    const fromStore = new OpusDecoder({ rateHz: 16000 });
    const store = new Uint8Array(1500).fill(0xff);
    const want = new Int16Array(320);
    const got = new Int16Array(320);
    for (const packet of packets) {
      store.set(packet);
      expect(fromStore.decode(store, got, packet.length)).toBe(exact.decode(packet, want));
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(fromStore.decodeFec(store, got, packet.length)).toBe(exact.decodeFec(packet, want));
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    expect(fromStore.decode(store, got, 0)).toBe(OPUS_INVALID_PACKET);
    expect(fromStore.decode(store, got, Number.NaN)).toBe(OPUS_INVALID_PACKET);
    for (const c of [enc, exact, fromStore]) c.destroy();
  });

  it('destroy() twice is safe; calls afterwards return OPUS_INVALID_STATE', () => {
    const enc = new OpusEncoder({ rateHz: 8000 });
    const dec = new OpusDecoder({ rateHz: 8000 });
    enc.destroy();
    enc.destroy();
    dec.destroy();
    dec.destroy();
    expect(enc.encode(new Int16Array(160), new Uint8Array(100))).toBe(OPUS_INVALID_STATE);
    expect(dec.decode(Uint8Array.of(0x08, 0), new Int16Array(160))).toBe(OPUS_INVALID_STATE);
    expect(dec.conceal(new Int16Array(160))).toBe(OPUS_INVALID_STATE);
    expect(dec.decodeFec(Uint8Array.of(0x08), new Int16Array(160))).toBe(OPUS_INVALID_STATE);
    expect(() => enc.setBitrate(10000)).not.toThrow();
  });
});
