import { hostActors } from '../host.ts';
import { createLocalAgent } from './LocalAgent.ts';

hostActors({ agent: createLocalAgent });
