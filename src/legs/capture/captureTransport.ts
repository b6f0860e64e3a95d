import { resolve } from 'node:path';
import type { ActorConfig } from '../../protocol.ts';
import type { CallGraph, GraphEdge } from '../../calls/CallGraph.ts';
import { isRangeError, type Transport } from '../../calls/transports.ts';
import { parseCaptureSpec, parsePlaybackSpec } from '../../devices/deviceSpec.ts';
import { DEVICE_BLOCK_MS } from '../../devices/DeviceInput.ts';
import { PLAYBACK_LISTEN } from '../../actors/playback/kind.ts';
import { SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';
import { agentActorConfig, type AgentSettings } from '../../supervisor/agentConfig.ts';
import { RequestError, type CallRequest } from '../../supervisor/Runtime.ts';
import { quote } from '../../wire/text.ts';

/**
 * The `capture` call transport: a call whose caller is local audio — an
 * input device, a WAV file or a tone — and whose other end is a playback
 * actor (an output device, or nowhere):
 *
 * ```
 *   capture ──out──► agent ──out──► playback ──► speaker
 *      │               ▲               │
 *      │               └──── heard ────┘
 *      └──monitor (listen: caller | both)──►
 * ```
 *
 * `POST /v1/calls {transport:"capture", source, playback?, listen?, agent?,
 * rateHz?, blockMs?}`: `source` and `playback` as `--capture`/`--playback`
 * (src/devices/deviceSpec.ts; `source` may not be `none`), `listen` what the
 * speaker plays (`agent`, the default, `caller` or `both`). It is an ordinary
 * call: listed, hung up and reported like any other.
 *
 * With `conference` (or joined later through /v1/conferences/:id/members) the
 * mixer takes the agent's seat: the source is one member's voice and the
 * speaker plays the N−1 mix of the others. `source: "none"` is allowed only
 * with `conference`: a listener that sends silence and so plays the whole mix.
 */
export function captureTransport(opts: { agents: AgentSettings }): Transport {
  return {
    name: 'capture',
    async create(req: CallRequest, ctx) {
      const caller = callerConfig(req);
      const playback = playbackConfig(req, caller['rateHz'] as number, caller['blockMs'] as number);
      const agent = agentActorConfig(req['agent'], caller['rateHz'] as number, false, opts.agents);
      const edges: GraphEdge[] = [
        { from: ['caller', 'out'], to: ['agent', 'in'] },
        { from: ['agent', 'out'], to: ['playback', 'in'] },
        { from: ['playback', 'heard'], to: ['agent', 'heard'] },
      ];
      if (playback['listen'] !== 'agent') edges.push({ from: ['caller', 'monitor'], to: ['playback', 'caller'] });
      const graph: CallGraph = {
        nodes: { caller: { kind: 'capture', config: caller }, agent: { kind: 'agent', config: agent }, playback: { kind: 'playback', config: playback } },
        edges,
      };
      try {
        await ctx.build(graph);
      } catch (err) {
        // A name no device has, a file that is no WAV: the request's fault. A device that exists
        // and cannot run (busy, PortAudio missing) is this host's: a 503.
        if (err instanceof RequestError) throw err;
        if (isRangeError(err)) throw new RequestError(422, (err as Error).message);
        throw new RequestError(503, err instanceof Error ? err.message : String(err));
      }
      return { answer: { source: req['source'], playback: req['playback'] ?? 'none', listen: playback['listen'], rateHz: caller['rateHz'], agent: agent['agent'] } };
    },
  };
}

/** A listener's source is a tone of amplitude 0 (silence); its frequency only has to be valid at every rate. */
const LISTENER_TONE_HZ = 440;

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw new RequestError(422, err.message);
    throw err;
  }
}

function callerConfig(req: CallRequest): ActorConfig {
  const rateHz = req['rateHz'] ?? 16000;
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RequestError(422, `rateHz: expected one of ${SUPPORTED_RATES_HZ.join(', ')}, got ${quote(rateHz)}`);
  }
  const blockMs = req['blockMs'] ?? 20;
  if (!(DEVICE_BLOCK_MS as readonly unknown[]).includes(blockMs)) {
    throw new RequestError(422, `blockMs: expected one of ${DEVICE_BLOCK_MS.join(', ')}, got ${quote(blockMs)}`);
  }
  const spec = checked(() => parseCaptureSpec(req['source'], 'source'));
  switch (spec.kind) {
    case 'none':
      // A listener: it sends silence and its speaker plays the conference's mix (everyone but a silent self).
      if (typeof req['conference'] !== 'string') {
        throw new RequestError(422, 'source: a capture call needs a source (device:NAME, file:PATH.wav or tone:HZ); none only for a conference listener');
      }
      return { source: 'synthetic', toneHz: LISTENER_TONE_HZ, amplitude: 0, rateHz, blockMs };
    case 'device':
      return { source: 'device', device: spec.name, rateHz, blockMs };
    case 'file':
      return { source: 'wav', path: resolve(spec.path), rateHz, blockMs };
    case 'tone':
      return { source: 'synthetic', toneHz: spec.hz, rateHz, blockMs };
  }
}

function playbackConfig(req: CallRequest, rateHz: number, blockMs: number): ActorConfig {
  const spec = checked(() => parsePlaybackSpec(req['playback'] ?? 'none'));
  const listen = req['listen'] ?? 'agent';
  if (!(PLAYBACK_LISTEN as readonly unknown[]).includes(listen)) {
    throw new RequestError(422, `listen: expected one of ${PLAYBACK_LISTEN.join(', ')}, got ${quote(listen)}`);
  }
  const config: ActorConfig = { rateHz, blockMs, listen };
  if (spec.kind === 'device') config['device'] = spec.name;
  return config;
}
