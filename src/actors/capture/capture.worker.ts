import { hostActors } from '../host.ts';
import { createCaptureActor } from './CaptureActor.ts';

hostActors({ capture: createCaptureActor });
