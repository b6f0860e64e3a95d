import { hostActors } from '../host.ts';
import { createJitterActor } from './JitterActor.ts';

hostActors({ jitter: createJitterActor });
