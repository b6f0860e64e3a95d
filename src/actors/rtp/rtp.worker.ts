import { hostActors } from '../host.ts';
import { createRtpLeg } from './RtpLeg.ts';

hostActors({ rtp: createRtpLeg });
