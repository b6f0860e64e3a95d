import { hostActors } from '../host.ts';
import { createAgent } from './createAgent.ts';

hostActors({ agent: createAgent });
