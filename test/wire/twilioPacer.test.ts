import { describe, expect, it } from 'vitest';
import {
  ECHO_CLEARED,
  ECHO_PLAYED,
  ECHO_UNKNOWN,
  PACER_IDLE,
  PACER_MARK,
  PACER_MEDIA,
  TwilioPacer,
  type TwilioPacerOptions,
} from '../../src/wire/twilioPacer.ts';

/** A pacer on a hand-driven clock, and a drain that records what it would send. */
function rig(options: TwilioPacerOptions = {}) {
  let now = 0;
  const pacer = new TwilioPacer({ clock: () => now, ...options });
  const out = new Uint8Array(160);
  const sent: Array<{ kind: 'media'; bytes: number[] } | { kind: 'mark'; name: string }> = [];
  const drain = (): void => {
    for (;;) {
      const action = pacer.next(out);
      if (action === PACER_IDLE) return;
      if (action === PACER_MEDIA) sent.push({ kind: 'media', bytes: [...out.subarray(0, pacer.lastCount)] });
      else sent.push({ kind: 'mark', name: pacer.lastMark });
    }
  };
  const tick = (ms: number): void => {
    now += ms;
    drain();
  };
  return { pacer, sent, drain, tick, advance: (ms: number) => (now += ms) };
}

const ramp = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i & 0xff);
const marks = (sent: ReturnType<typeof rig>['sent']): string[] =>
  sent.flatMap((s) => (s.kind === 'mark' ? [s.name] : []));

describe('TwilioPacer', () => {
  it('sends 160-byte chunks in order, each followed by a mark', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000 });
    expect(pacer.enqueue(ramp(480))).toBe(480);
    drain();
    expect(sent.map((s) => s.kind)).toEqual(['media', 'mark', 'media', 'mark', 'media', 'mark']);
    const bytes = sent.flatMap((s) => (s.kind === 'media' ? s.bytes : []));
    expect(bytes).toEqual([...ramp(480)]);
    expect(new Set(marks(sent)).size).toBe(3);
  });

  it('paces at real time once the lead is full', () => {
    const { pacer, sent, drain, tick } = rig({ leadMs: 60 });
    pacer.enqueue(new Uint8Array(160 * 50));
    drain();
    // The lead: 60 ms, three chunks, go at once.
    expect(sent.filter((s) => s.kind === 'media')).toHaveLength(3);
    for (let t = 0; t < 40; t++) tick(20);
    expect(sent.filter((s) => s.kind === 'media')).toHaveLength(43);
    expect(pacer.queuedMs()).toBe(47 * 20 - 40 * 20);
  });

  it('holds a trailing partial chunk until more audio or flush', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000 });
    pacer.enqueue(ramp(200));
    drain();
    expect(sent.filter((s) => s.kind === 'media')).toHaveLength(1);
    expect(pacer.queuedMs()).toBe(5);
    pacer.flush();
    drain();
    const last = sent.filter((s) => s.kind === 'media').at(-1)!;
    expect(last.kind === 'media' && last.bytes.length).toBe(40);
    expect(pacer.queuedMs()).toBe(0);
  });

  it('counts heard audio only from echoed marks, in order', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000 });
    pacer.enqueue(new Uint8Array(160 * 5));
    drain();
    const names = marks(sent);
    expect(pacer.sentMs()).toBe(100);
    expect(pacer.heardMs()).toBe(0);
    expect(pacer.onMarkEcho(names[1]!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs()).toBe(40);
    // Twilio echoes in order: the first mark was retired with the second.
    expect(pacer.onMarkEcho(names[0]!)).toBe(ECHO_UNKNOWN);
    expect(pacer.outstandingMarks()).toBe(3);
    expect(pacer.onMarkEcho('not-ours')).toBe(ECHO_UNKNOWN);
    expect(pacer.onMarkEcho(names[4]!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs()).toBe(100);
    expect(pacer.outstandingMarks()).toBe(0);
  });

  it('on clear drops the queue and ignores the echoes of the pending marks', () => {
    const { pacer, sent, drain, tick } = rig({ leadMs: 60 });
    pacer.enqueue(new Uint8Array(160 * 50)); // 1 s
    drain();
    for (let t = 0; t < 10; t++) tick(20); // 13 chunks sent
    const names = marks(sent);
    expect(names).toHaveLength(13);
    pacer.onMarkEcho(names[9]!); // the caller heard 200 ms
    expect(pacer.heardMs()).toBe(200);
    const unheardSent = pacer.sentMs() - pacer.heardMs();
    expect(unheardSent).toBe(60);
    expect(pacer.clear()).toBe(1000 - 260);
    expect(pacer.queuedMs()).toBe(0);
    expect(pacer.droppedMs()).toBe(740);
    expect(pacer.clearSettled()).toBe(false);
    pacer.fence(); // the clear went out
    expect(pacer.clearSettled()).toBe(false);
    // Twilio answers clear by echoing every pending mark at once.
    for (const n of names.slice(10)) expect(pacer.onMarkEcho(n)).toBe(ECHO_CLEARED);
    expect(pacer.heardMs()).toBe(200);
    expect(pacer.clearSettled()).toBe(true);
    tick(20);
    expect(sent.length).toBe(26); // nothing more to send
  });

  it('counts an echo read before the fence as heard, and only marks from before the clear as cleared', () => {
    const { pacer, sent, drain, tick } = rig({ leadMs: 60 });
    pacer.enqueue(new Uint8Array(160 * 50));
    drain();
    for (let t = 0; t < 10; t++) tick(20);
    const before = marks(sent);
    pacer.clear();
    // An echo Twilio sent before it saw the clear: a real playout.
    expect(pacer.onMarkEcho(before[10]!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs()).toBe(220);
    // New audio after the clear, its marks sent behind the clear.
    pacer.enqueue(new Uint8Array(160 * 2));
    drain();
    const after = marks(sent).slice(before.length);
    expect(after).toHaveLength(2);
    pacer.fence();
    for (const n of before.slice(11)) expect(pacer.onMarkEcho(n)).toBe(ECHO_CLEARED);
    expect(pacer.clearSettled()).toBe(true);
    expect(pacer.heardMs()).toBe(220);
    expect(pacer.onMarkEcho(after[1]!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs()).toBe(pacer.positionMs());
  });

  it('counts what played between the newest echo and the clear, to the nearest mark and never past what was sent', () => {
    const heardAfterFence = (sinceEchoMs: number): number => {
      const { pacer, sent, drain, tick } = rig({ leadMs: 60 });
      pacer.enqueue(new Uint8Array(160 * 50));
      drain();
      for (let t = 0; t < 10; t++) tick(20); // 13 chunks sent: marks at 20 … 260 ms
      pacer.onMarkEcho(marks(sent)[9]!); // heard 200 ms
      pacer.clear();
      pacer.fence(sinceEchoMs);
      for (const n of marks(sent).slice(10)) expect(pacer.onMarkEcho(n)).toBe(ECHO_CLEARED);
      expect(pacer.clearSettled()).toBe(true);
      return pacer.heardMs();
    };
    // The echo of 220 was in flight and a quarter ms of the next chunk played.
    expect(heardAfterFence(20.25)).toBe(220);
    expect(heardAfterFence(29)).toBe(220);
    expect(heardAfterFence(31)).toBe(240);
    expect(heardAfterFence(9)).toBe(200);
    expect(heardAfterFence(Number.NaN)).toBe(200);
    expect(heardAfterFence(5000)).toBe(260); // Twilio had nothing beyond 260
  });

  it('does not extrapolate into a talkspurt that began after the newest echo', () => {
    const { pacer, sent, drain, advance } = rig({ leadMs: 60 });
    pacer.enqueue(new Uint8Array(160 * 2));
    drain();
    advance(40);
    for (const n of marks(sent)) pacer.onMarkEcho(n);
    expect(pacer.heardMs()).toBe(40);
    advance(1000); // silence: Twilio's buffer ran dry
    pacer.enqueue(new Uint8Array(160 * 10));
    drain(); // the new reply's first chunks; none echoed yet
    advance(5);
    pacer.clear();
    pacer.fence(1005); // the newest echo is a second old, but the reply began 5 ms ago
    expect(pacer.heardMs()).toBe(40);
  });

  it('places a reply after a clear beyond everything dropped', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000 });
    pacer.enqueue(new Uint8Array(160 * 4));
    drain();
    pacer.clear();
    const replyAt = pacer.positionMs();
    expect(replyAt).toBe(80);
    pacer.enqueue(new Uint8Array(160 * 2));
    drain();
    const names = marks(sent);
    expect(pacer.onMarkEcho(names.at(-1)!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs() - replyAt).toBe(40);
  });

  it('marks every n-th chunk and always the last one', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000, markEveryChunks: 4 });
    pacer.enqueue(new Uint8Array(160 * 10));
    drain();
    expect(sent.map((s) => s.kind[1]).join('')).toBe('eeeeaeeeeaeea');
  });

  it('refuses audio beyond its capacity and skips marks beyond maxMarks', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000, capacityMs: 100, maxMarks: 2 });
    expect(pacer.enqueue(new Uint8Array(2000))).toBe(800);
    drain();
    expect(sent.filter((s) => s.kind === 'media')).toHaveLength(5);
    expect(marks(sent)).toHaveLength(2);
    expect(pacer.marksSkipped()).toBe(3);
    expect(pacer.onMarkEcho(marks(sent)[1]!)).toBe(ECHO_PLAYED);
    expect(pacer.heardMs()).toBe(40);
  });

  it('is idle with nothing queued and reuses mark names as a ring', () => {
    const { pacer, sent, drain } = rig({ leadMs: 1000, maxMarks: 3 });
    drain();
    expect(sent).toHaveLength(0);
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) {
      pacer.enqueue(new Uint8Array(160));
      drain();
      const name = marks(sent).at(-1)!;
      seen.push(name);
      expect(pacer.onMarkEcho(name)).toBe(ECHO_PLAYED);
    }
    expect(new Set(seen).size).toBe(3);
    expect(pacer.heardMs()).toBe(140);
  });

  it('restarts pacing after the queue ran dry', () => {
    const { pacer, sent, drain, advance } = rig({ leadMs: 40 });
    pacer.enqueue(new Uint8Array(160 * 2));
    drain();
    advance(1000);
    pacer.enqueue(new Uint8Array(160 * 4));
    drain();
    // After silence, Twilio's buffer is empty: the full lead goes again.
    expect(sent.filter((s) => s.kind === 'media')).toHaveLength(4);
    expect(PACER_MARK).toBe(2);
  });
});
