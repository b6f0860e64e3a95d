import { describe, expect, it } from 'vitest';
import { parseCaptureSpec, parsePlaybackSpec } from '../../src/devices/deviceSpec.ts';
import { findDevice } from '../../src/devices/findDevice.ts';
import { SampleFifo } from '../../src/devices/SampleFifo.ts';
import type { DeviceInfo } from '../../src/protocol.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('device specs (--capture, --playback)', () => {
  it('reads each form', () => {
    expect(parseCaptureSpec('device:USB Audio: mic (hw:1,0)')).toEqual({ kind: 'device', name: 'USB Audio: mic (hw:1,0)' });
    expect(parseCaptureSpec('file:/tmp/a.wav')).toEqual({ kind: 'file', path: '/tmp/a.wav' });
    expect(parseCaptureSpec('tone:440')).toEqual({ kind: 'tone', hz: 440 });
    expect(parseCaptureSpec('tone:997.5')).toEqual({ kind: 'tone', hz: 997.5 });
    expect(parseCaptureSpec('none')).toEqual({ kind: 'none' });
    expect(parsePlaybackSpec('device:sbplay')).toEqual({ kind: 'device', name: 'sbplay' });
    expect(parsePlaybackSpec('none')).toEqual({ kind: 'none' });
  });

  it('refuses malformed, hostile and wrong-typed specs with the forms it takes', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['', /expected device:NAME, file:PATH.wav, tone:HZ or none/],
      ['device:', /expected device:NAME/],
      [':x', /expected device:NAME/],
      ['mic', /expected device:NAME/],
      ['tone:abc', /tone:HZ takes 20–4000 Hz/],
      ['tone:-5', /tone:HZ takes 20–4000 Hz/],
      ['tone:1e9', /tone:HZ takes 20–4000 Hz/],
      ['tone:19', /tone:HZ takes 20–4000 Hz/],
      ['wav:/x', /expected device:NAME/],
      ['device:a\u0000b', /control characters/],
      ['device:a\nb', /control characters/],
      [`device:${'x'.repeat(5000)}`, /longer than 4096/],
      [42, /got number/],
      [null, /got object/],
      [['device:x'], /got object/],
    ];
    for (const [text, message] of bad) expect(() => parseCaptureSpec(text), String(text).slice(0, 20)).toThrow(message);
    expect(() => parsePlaybackSpec('file:/tmp/a.wav')).toThrow(/playback: expected device:NAME or none/);
    expect(() => parsePlaybackSpec('tone:440')).toThrow(RangeError);
    // Non-ASCII names are names (ALSA cards have them); only the device list decides.
    expect(parsePlaybackSpec('device:Haut-parleur ñ 🎧')).toEqual({ kind: 'device', name: 'Haut-parleur ñ 🎧' });
  });
});

describe('findDevice', () => {
  const dev = (id: number, name: string, inputs: number, outputs: number): DeviceInfo => ({
    id,
    name,
    hostApi: 'ALSA',
    maxInputChannels: inputs,
    maxOutputChannels: outputs,
    defaultSampleRate: 48000,
  });
  const list = [dev(0, 'HDA Intel PCH: ALC3246 Analog (hw:0,0)', 2, 2), dev(1, 'HDA Intel PCH: HDMI 0 (hw:0,3)', 0, 8), dev(2, 'default', 32, 32)];

  it('takes an exact name, else the one name containing it, in the direction asked', () => {
    expect(findDevice(list, 'default', 'input')).toBe(list[2]);
    expect(findDevice(list, 'alc3246', 'input')).toBe(list[0]);
    expect(findDevice(list, 'HDMI', 'output')).toBe(list[1]);
  });

  it('names the devices there are when none or several match', () => {
    expect(findDevice(list, 'HDMI', 'input')).toBe('no input device named "HDMI" [input devices: "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "default"]');
    expect(findDevice(list, 'HDA', 'output')).toMatch(/^output device name "HDA" is ambiguous \[matches: "HDA Intel PCH: ALC3246/);
    expect(findDevice([], 'x', 'output')).toBe('no output device named "x" [output devices: none]');
    expect(findDevice(list, '', 'output')).toMatch(/^no output device named ""/);
  });
});

describe('SampleFifo', () => {
  it('reassembles little-endian samples from chunks cut anywhere, odd bytes included', () => {
    const rand = mulberry32(7);
    const samples = new Int16Array(5000);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.floor(rand() * 65536) - 32768;
    const bytes = new Uint8Array(samples.buffer.slice(0));
    const fifo = new SampleFifo(8192);
    const got = new Int16Array(samples.length);
    const frame = new Int16Array(160);
    let at = 0;
    let taken = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, 1 + Math.floor(rand() * 701));
      fifo.push(bytes.subarray(at, at + n));
      at += n;
      while (fifo.take(frame, 160)) {
        got.set(frame, taken);
        taken += 160;
      }
    }
    expect(taken).toBe(4960);
    expect(fifo.length).toBe(40);
    expect(Array.from(got.subarray(0, taken))).toEqual(Array.from(samples.subarray(0, taken)));
  });

  it('counts what does not fit, and takes nothing when a frame is not all there', () => {
    const fifo = new SampleFifo(4);
    fifo.push(new Uint8Array([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]));
    expect(fifo.length).toBe(4);
    expect(fifo.dropped).toBe(2);
    const out = new Int16Array(8).fill(-1);
    expect(fifo.take(out, 5)).toBe(false);
    expect(out[0]).toBe(-1);
    expect(fifo.take(out, 4)).toBe(true);
    expect(Array.from(out.subarray(0, 4))).toEqual([1, 2, 3, 4]);
  });
});
