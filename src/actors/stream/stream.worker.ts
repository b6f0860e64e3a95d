import { hostActors } from '../host.ts';
import { createStreamLeg } from './StreamLeg.ts';

hostActors({ stream: createStreamLeg });
