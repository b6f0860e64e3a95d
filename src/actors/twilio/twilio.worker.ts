import { hostActors } from '../host.ts';
import { createTwilioLeg } from './TwilioLeg.ts';

hostActors({ twilio: createTwilioLeg });
