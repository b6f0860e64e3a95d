import type { ActorContext, HostedActor } from '../Actor.ts';
import type { ActorConfig } from '../../protocol.ts';
import { createLocalAgent } from './LocalAgent.ts';

/**
 * One actor kind, `agent`, for every agent: `config.agent` chooses. The
 * `openai` agent's module (and the `openai` package) loads on first use, so
 * workers of local agents never pay for it.
 */
export async function createAgent(ctx: ActorContext, config: ActorConfig): Promise<HostedActor> {
  if (config['agent'] === 'pipeline') {
    const { createPipelineAgent } = await import('./pipeline/PipelineAgent.ts');
    return createPipelineAgent(ctx, config);
  }
  if (config['agent'] !== 'openai') return createLocalAgent(ctx, config);
  const { createOpenAIAgent } = await import('./OpenAIAgent.ts');
  return createOpenAIAgent(ctx, config);
}
