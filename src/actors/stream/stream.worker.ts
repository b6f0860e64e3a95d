import { opusWasm } from '../../dsp/opusWasm.ts';
import { hostActors } from '../host.ts';
import { createStreamLeg } from './StreamLeg.ts';

// libopus compiled and instantiated at boot, before heartbeats count: compiling it inside the
// first Opus stream's creation blocks this thread for hundreds of milliseconds on a busy machine.
opusWasm();
hostActors({ stream: createStreamLeg });
