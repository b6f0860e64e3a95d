import { hostActors } from '../host.ts';
import { createCaptureActor } from './CaptureActor.ts';
import { createPlaybackActor } from '../playback/PlaybackActor.ts';

// Device actors share this thread (ActorKind `host`): it owns the device pipes, and no call's tick waits on them.
hostActors({ capture: createCaptureActor, playback: createPlaybackActor });
