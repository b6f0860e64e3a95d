import { hostActors } from '../host.ts';
import { createJitterActor } from './JitterActor.ts';
import { createMixerActor } from '../mixer/MixerActor.ts';

/** A media worker (placement `kind`): jitter/PLC actors, and conference mixers (ActorKind `media`). */
hostActors({ jitter: createJitterActor, mixer: createMixerActor });
