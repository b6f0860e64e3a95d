import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameFlags, FrameRing } from '../../src/frames/FrameRing.ts';
import { madeStamp } from '../../src/frames/epochClock.ts';
import { EDGES } from '../../src/frames/edges.ts';
import { HEADER_EVERY_MS, RecordingFile } from '../../src/recording/RecordingFile.ts';
import { readWav } from '../../src/wire/wav.ts';

/**
 * The recording writer's file on real rings and real files: channels placed
 * by their stamps and ticks, gaps the rings dropped as silence without
 * shifting a channel, the header kept valid while writing, a full disk an
 * error rather than a throw.
 */

const RATE = 8000;
const SPF = 160;
const dir = mkdtempSync(join(tmpdir(), 'recording-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (): string => join(dir, `r${n++}.wav`);

/** A tap ring at 8 kHz, as the registry makes one (callEdge('record', 8000)). */
const ring = (): FrameRing => FrameRing.create(EDGES.record.slots, SPF);

/** A frame whose every sample says which channel and frame it is: channel·1000 + frame. */
function frame(channel: number, index: number): Int16Array {
  return new Int16Array(SPF).fill(channel * 1000 + index);
}

/** A tap's write (actors/RecordTap.ts): the tick index as sequence, the made stamp for `ms` on the shared clock as timestamp. */
function tap(r: FrameRing, tick: number, ms: number, samples: Int16Array): boolean {
  return r.write(samples, SPF, tick, madeStamp(ms), RATE, FrameFlags.SPEECH);
}

/** The value of each frame of a channel in the file (the first sample of every 20 ms). */
function framesOf(file: string, channel: number): number[] {
  const wav = readWav(new Uint8Array(readFileSync(file)));
  const out: number[] = [];
  for (let f = 0; f * SPF * wav.channels < wav.samples.length; f++) out.push(wav.samples[f * SPF * wav.channels + channel]!);
  return out;
}

describe('RecordingFile', () => {
  it('places a channel that starts later by its stamp, then every frame by its tick', () => {
    const caller = ring();
    const agent = ring();
    const file = path();
    const rec = new RecordingFile(file, [caller, agent], RATE);
    const t0 = 1_000_000;
    // The agent's tap started three ticks after the caller's (its actor was made later), on another tick count.
    for (let i = 0; i < 10; i++) tap(caller, 500 + i, t0 + 20 * i + 0.3, frame(1, i));
    for (let i = 0; i < 7; i++) tap(agent, 90 + i, t0 + 20 * (i + 3) + 1.7, frame(2, i + 3));
    rec.drain(0);
    const figures = rec.close(1);
    expect(figures).toMatchObject({ frames: 10, droppedFrames: 0, lateFrames: 0, badFrames: 0 });
    expect(framesOf(file, 0)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
    expect(framesOf(file, 1)).toEqual([0, 0, 0, 2003, 2004, 2005, 2006, 2007, 2008, 2009]);
  });

  it('writes frames a full ring dropped as silence, counted, and keeps the channels aligned after them', () => {
    const caller = ring();
    const agent = ring();
    const file = path();
    const rec = new RecordingFile(file, [caller, agent], RATE);
    // 200 ticks with the writer stalled: each 128-slot ring keeps the first 128 frames, the rest are dropped.
    for (let i = 0; i < 200; i++) {
      tap(caller, i, 20 * i, frame(1, i % 1000));
      tap(agent, i, 20 * i + 2, frame(2, i % 1000));
    }
    rec.drain(0);
    for (let i = 200; i < 210; i++) {
      tap(caller, i, 20 * i, frame(1, i));
      tap(agent, i, 20 * i + 2, frame(2, i));
    }
    const figures = rec.close(1);
    expect(figures.droppedFrames).toBe(2 * 72);
    expect(figures.frames).toBe(210);
    const left = framesOf(file, 0);
    const right = framesOf(file, 1);
    expect(left.slice(126, 130)).toEqual([1126, 1127, 0, 0]);
    expect(left.slice(198, 203)).toEqual([0, 0, 1200, 1201, 1202]);
    for (let f = 0; f < 210; f++) expect(right[f]! === 0 ? 0 : right[f]! - 1000).toBe(left[f]!);
  });

  it('keeps the header valid while writing: a reader sees what the last header write covered', () => {
    const caller = ring();
    const file = path();
    const rec = new RecordingFile(file, [caller], RATE);
    for (let i = 0; i < 50; i++) tap(caller, i, 20 * i, frame(1, i));
    rec.drain(HEADER_EVERY_MS);
    // Written after the header's last update, as a process killed now would leave them: not declared yet.
    for (let i = 50; i < 60; i++) tap(caller, i, 20 * i, frame(1, i));
    rec.drain(HEADER_EVERY_MS + 100);
    const cut = readWav(new Uint8Array(readFileSync(file)));
    expect(cut.samples.length).toBe(50 * SPF);
    expect(cut.samples[49 * SPF]).toBe(1049);
    rec.drain(2 * HEADER_EVERY_MS + 1);
    expect(readWav(new Uint8Array(readFileSync(file))).samples.length).toBe(60 * SPF);
    rec.close(3 * HEADER_EVERY_MS);
  });

  it('counts frames of another rate or length and skips them', () => {
    const caller = ring();
    const file = path();
    const rec = new RecordingFile(file, [caller], RATE);
    tap(caller, 0, 0, frame(1, 0));
    caller.write(frame(1, 1), 80, 1, madeStamp(20), RATE, 0);
    caller.write(frame(1, 2), SPF, 2, madeStamp(40), 16000, 0);
    tap(caller, 3, 60, frame(1, 3));
    const figures = rec.close(0);
    expect(figures.badFrames).toBe(2);
    expect(framesOf(file, 0)).toEqual([1000, 0, 0, 1003]);
  });

  it('reports a full disk (ENOSPC) when the file cannot take even its header', () => {
    expect(() => new RecordingFile('/dev/full', [ring()], RATE, { open: () => openSync('/dev/full', 'w') })).toThrow(
      expect.objectContaining({ code: 'ENOSPC' }),
    );
  });

  it('refuses a file that exists and a rate without whole 20 ms frames', () => {
    const file = path();
    new RecordingFile(file, [ring()], RATE).close(0);
    expect(() => new RecordingFile(file, [ring()], RATE)).toThrow(/EEXIST/);
    expect(() => new RecordingFile(path(), [ring()], 11025)).toThrow(RangeError);
  });
});
