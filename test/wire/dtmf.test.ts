import { describe, expect, it } from 'vitest';
import {
  DTMF_END_REPEATS,
  DtmfEvent,
  DtmfReceive,
  DtmfReceiver,
  dtmfDigit,
  dtmfEventCode,
  dtmfPackets,
  parseDtmfInto,
  serializeDtmfInto,
} from '../../src/wire/dtmf.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('telephone-event payload (RFC 4733 §2.3)', () => {
  it('reads the fields', () => {
    const payload = new Uint8Array([
      0x0b, //       event 11: '#'
      0x8a, //       E=1, R=0, volume 10
      0x03, 0x20, // duration 800 units (100 ms at 8 kHz)
    ]);
    const ev = new DtmfEvent();
    expect(parseDtmfInto(payload, 0, 4, ev)).toBe(true);
    expect(ev).toMatchObject({ event: 11, end: true, volume: 10, duration: 800 });
    expect(dtmfDigit(ev.event)).toBe('#');
    const out = new Uint8Array(4);
    expect(serializeDtmfInto(ev, out)).toBe(4);
    expect(out).toEqual(payload);
  });

  it('ignores the reserved bit, rejects short payloads', () => {
    const ev = new DtmfEvent();
    expect(parseDtmfInto(new Uint8Array([1, 0x40 | 0x3f, 0, 0]), 0, 4, ev)).toBe(true);
    expect([ev.end, ev.volume]).toEqual([false, 63]);
    expect(parseDtmfInto(new Uint8Array([1, 2, 3]), 0, 3, ev)).toBe(false);
    expect(parseDtmfInto(new Uint8Array([1, 2, 3, 4]), 2, 4, ev)).toBe(false); // offset runs past
    expect(serializeDtmfInto(ev, new Uint8Array(3))).toBe(-1);
  });

  it('maps digits and codes both ways', () => {
    expect([...'0123456789*#ABCD'].map(dtmfEventCode)).toEqual([...Array(16).keys()]);
    expect(dtmfEventCode('d')).toBe(15);
    expect(dtmfEventCode('x')).toBe(-1);
    expect(dtmfDigit(16)).toBe('');
  });
});

describe('DTMF sender (RFC 4733 §2.5.1)', () => {
  it('sends a marked start, updates, and three identical end packets', () => {
    const packets = dtmfPackets('5', 16000, { durationMs: 100, packetMs: 20 });
    const ev = new DtmfEvent();
    const seen = packets.map((p) => {
      parseDtmfInto(p.payload, 0, 4, ev);
      return [p.marker, p.timestamp, ev.event, ev.end, ev.duration];
    });
    expect(seen).toEqual([
      [true, 16000, 5, false, 160],
      [false, 16000, 5, false, 320],
      [false, 16000, 5, false, 480],
      [false, 16000, 5, false, 640],
      [false, 16000, 5, true, 800],
      [false, 16000, 5, true, 800],
      [false, 16000, 5, true, 800],
    ]);
  });

  it('refuses bad digits and impossible timings', () => {
    expect(() => dtmfPackets('x', 0)).toThrow(/not a DTMF digit/);
    expect(() => dtmfPackets('1', 0, { durationMs: 10, packetMs: 20 })).toThrow(RangeError);
    expect(() => dtmfPackets('1', 0, { volume: 64 })).toThrow(/range:0-63/);
    expect(() => dtmfPackets('1', 0, { durationMs: 2000, clockRateHz: 48000 })).toThrow(/max:65535/);
  });
});

describe('DTMF receiver (RFC 4733 §2.5.2)', () => {
  function feed(rx: DtmfReceiver, packets: Array<{ timestamp: number; payload: Uint8Array }>): string[] {
    const log: string[] = [];
    for (const p of packets) {
      const code = rx.receive(p.payload, 0, p.payload.length, p.timestamp);
      if (code === DtmfReceive.START) log.push(`start ${dtmfDigit(rx.event.event)}`);
      if (code === DtmfReceive.END) log.push(`end ${dtmfDigit(rx.event.event)} ${rx.event.duration}`);
    }
    return log;
  }

  it('reports each digit once despite the redundant end packets', () => {
    const rx = new DtmfReceiver();
    const packets = [...dtmfPackets('1', 1000), ...dtmfPackets('1', 2000), ...dtmfPackets('#', 3000)];
    expect(feed(rx, packets)).toEqual(['start 1', 'end 1 800', 'start 1', 'end 1 800', 'start #', 'end # 800']);
    expect(rx.pressed).toBe(false);
  });

  it('copes with a lost start, lost ends, duplicates and reordering', () => {
    const rnd = mulberry32(4733);
    const digits = '0123456789*#';
    const all: Array<{ timestamp: number; payload: Uint8Array }> = [];
    for (let i = 0; i < digits.length; i++) {
      const pkts = dtmfPackets(digits[i]!, 8000 * i + 0xfffff000); // crosses the 32-bit wrap
      pkts.shift(); // the marked first packet is lost
      pkts.splice(pkts.length - 2, 1); // one end packet lost
      pkts.push(pkts[1]!); // a duplicate update, late
      all.push(...pkts);
    }
    // Shuffle neighbours within a digit's packets only (the network reorders a little).
    for (let i = 0; i + 1 < all.length; i++) {
      if (all[i]!.timestamp === all[i + 1]!.timestamp && rnd() < 0.3) [all[i], all[i + 1]] = [all[i + 1]!, all[i]!];
    }
    const rx = new DtmfReceiver();
    const log = feed(rx, all);
    expect(log.filter((l) => l.startsWith('start')).map((l) => l.slice(6))).toEqual([...digits]);
    expect(log.filter((l) => l.startsWith('end'))).toHaveLength(digits.length);
  });

  it('ignores a late packet of an earlier digit and counts short payloads', () => {
    const rx = new DtmfReceiver();
    const a = dtmfPackets('1', 1000);
    const b = dtmfPackets('2', 2000);
    expect(feed(rx, [a[0]!, b[0]!, a[a.length - 1]!])).toEqual(['start 1', 'start 2']);
    expect(rx.pressed).toBe(true);
    expect(rx.receive(new Uint8Array(2), 0, 2, 3000)).toBe(DtmfReceive.INVALID);
    expect(DTMF_END_REPEATS).toBe(3);
  });
});
