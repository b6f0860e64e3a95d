/**
 * The waits of a FrameRing (FrameRing.ts) on its control words: the sleeping
 * side announces itself in CONSUMER_WAITING / PRODUCER_WAITING, and the other
 * side's `write` / `read` notifies only when that flag is set, so the
 * real-time path pays one load per frame and no syscall while nobody waits.
 */

import { Ctl } from './layout.ts';

export type WaitResult = 'ok' | 'timed-out';

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
/** `Atomics.waitAsync` is in Node 20 (V8) but in TypeScript's ES2024 library, not ES2023's. */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
}

/** Consumer, blocking: until a frame is ready or `timeoutMs` passes (FrameRing.waitSync). */
export function waitFrameSync(ctl: Int32Array, timeoutMs: number): WaitResult {
  const r = ctl[Ctl.READ_INDEX]!;
  if (Atomics.load(ctl, Ctl.WRITE_INDEX) !== r) return 'ok';
  // Announce the sleep before the last look: a producer storing WRITE_INDEX
  // after our flag store sees the flag and notifies; one storing before it
  // is caught by the load below. Atomics.wait then re-checks the word
  // atomically, so a notify between that load and the sleep is not lost.
  Atomics.store(ctl, Ctl.CONSUMER_WAITING, 1);
  let result: WaitResult = 'ok';
  if (Atomics.load(ctl, Ctl.WRITE_INDEX) === r) {
    result = Atomics.wait(ctl, Ctl.WRITE_INDEX, r, timeoutMs) === 'timed-out' ? 'timed-out' : 'ok';
  }
  Atomics.store(ctl, Ctl.CONSUMER_WAITING, 0);
  return result;
}

/** Consumer, without blocking: a promise for a frame or the timeout (FrameRing.waitForData). */
export function waitFrame(ctl: Int32Array, timeoutMs: number): Promise<WaitResult> {
  const r = ctl[Ctl.READ_INDEX]!;
  if (Atomics.load(ctl, Ctl.WRITE_INDEX) !== r) return Promise.resolve('ok');
  // The same announce-then-recheck handshake as waitFrameSync.
  Atomics.store(ctl, Ctl.CONSUMER_WAITING, 1);
  if (Atomics.load(ctl, Ctl.WRITE_INDEX) !== r) {
    Atomics.store(ctl, Ctl.CONSUMER_WAITING, 0);
    return Promise.resolve('ok');
  }
  const waited = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(ctl, Ctl.WRITE_INDEX, r, timeoutMs);
  if (!waited.async) {
    Atomics.store(ctl, Ctl.CONSUMER_WAITING, 0);
    return Promise.resolve(waited.value === 'timed-out' ? 'timed-out' : 'ok');
  }
  // A pending Atomics.waitAsync does not keep Node's event loop alive: a
  // worker awaiting data with nothing else to do would simply exit. A ref'd
  // timer holds the loop open for as long as the wait lasts, as a pending
  // socket read would.
  const hold = setInterval(noop, KEEP_ALIVE_MS);
  return waited.value.then((v) => {
    clearInterval(hold);
    Atomics.store(ctl, Ctl.CONSUMER_WAITING, 0);
    return v;
  });
}

/** Producer, blocking: until one of `slots` is free or `timeoutMs` passes (FrameRing.waitSpaceSync). */
export function waitSpaceSync(ctl: Int32Array, slots: number, timeoutMs: number): WaitResult {
  const w = ctl[Ctl.WRITE_INDEX]!;
  const full = (w - slots) | 0;
  if (Atomics.load(ctl, Ctl.READ_INDEX) !== full) return 'ok';
  // Mirror of waitFrameSync: announce, re-check, then sleep on READ_INDEX, whose
  // value must still be `w - slots` (the ring full) for the wait to start.
  Atomics.store(ctl, Ctl.PRODUCER_WAITING, 1);
  let result: WaitResult = 'ok';
  if (Atomics.load(ctl, Ctl.READ_INDEX) === full) {
    result = Atomics.wait(ctl, Ctl.READ_INDEX, full, timeoutMs) === 'timed-out' ? 'timed-out' : 'ok';
  }
  Atomics.store(ctl, Ctl.PRODUCER_WAITING, 0);
  return result;
}

/** Longer than any wait; the timer exists only to be pending. */
const KEEP_ALIVE_MS = 2 ** 30;
function noop(): void {}
