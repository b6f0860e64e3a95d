import { parentPort } from 'node:worker_threads';
import { CallerThread } from './CallerThread.ts';
import type { FromCallerThread, ToCallerThread } from './loadProtocol.ts';

/**
 * A load driver's caller thread: runs the callers the main thread gives it
 * (CallerThread) and reports each call's figures as it ends.
 */
const port = parentPort!;
const post = (m: FromCallerThread): void => {
  // A call's latency bins move to the main thread rather than being copied.
  port.postMessage(m, m.type === 'call' && m.latencyBins.byteLength > 0 ? [m.latencyBins.buffer as ArrayBuffer] : []);
};

let thread: CallerThread | undefined;
port.on('message', (m: ToCallerThread) => {
  if (m.type === 'start') {
    thread = new CallerThread(m.thread, m.callers, m.run, post);
    thread.start().catch((err: unknown) => post({ type: 'fatal', message: (err as Error).message }));
  } else {
    void thread?.stop();
  }
});
