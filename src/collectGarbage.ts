import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full collection on this thread, on purpose. Rings are SharedArrayBuffers
 * whose memory is outside the JavaScript heap: when a burst of calls ends,
 * their dead rings hold hundreds of MB that V8 has no reason to look at
 * until the heap itself grows — which an idle thread's never does. The
 * supervisor calls this (and asks each worker to) after many actors went,
 * so memory returns once a spike is over. Never on the frame path.
 *
 * `gc` is exposed by setting V8's flag at run time and reading it from a
 * fresh context (the flag only applies to contexts created after it).
 */
let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
