import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { legCall } from '../../src/calls/CallGraph.ts';
import { callMachine } from '../../src/calls/callMachine.ts';
import type { Transport } from '../../src/calls/transports.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullLegKind } from '../fixtures/nullKind.ts';

/**
 * A call is a graph declared as data, and its life a machine. A leg kind
 * is its actor kind (test/fixtures/nullKind.ts: nullLegKind, the worker in
 * test/fixtures/null.worker.ts) and a transport, here in four lines: nothing
 * else in the engine changes to add one.
 */
const nullLegTransport: Transport = {
  name: 'null-leg',
  async create(_req, ctx) {
    const leg = { kind: 'nullLeg', config: { peerEndsAfterTicks: 25 } };
    await ctx.build(legCall(leg, { codec: 'PCMU', rateHz: 8000 }, { agent: 'loopback', rateHz: 8000 }, { packets: true }));
    return { answer: { leg: 'null' } };
  },
};

describe('call lifecycle machine', () => {
  function machine() {
    let teardowns = 0;
    let finish = (): void => undefined;
    const actor = createActor(callMachine, {
      input: { teardown: () => new Promise<void>((resolve) => ((teardowns++, (finish = resolve)))) },
    });
    actor.start();
    return { actor, teardowns: () => teardowns, finish: () => finish() };
  }

  it('created → active → ending → ended, with the first reason; a second END changes nothing and tears down nothing more', async () => {
    const m = machine();
    expect(m.actor.getSnapshot().value).toBe('created');
    m.actor.send({ type: 'SET_UP' });
    expect(m.actor.getSnapshot().value).toBe('active');
    m.actor.send({ type: 'END', reason: 'peer', detail: 'the peer sent RTCP BYE' });
    m.actor.send({ type: 'END', reason: 'hangup', detail: 'hung up through the API' });
    expect(m.actor.getSnapshot().value).toBe('ending');
    m.finish();
    await expect.poll(() => m.actor.getSnapshot().status).toBe('done');
    expect(m.actor.getSnapshot().context).toMatchObject({ reason: 'peer', detail: 'the peer sent RTCP BYE' });
    expect(m.teardowns()).toBe(1);
  });

  it('an END while the call is being set up is kept, and ends the call as soon as it is set up', async () => {
    const m = machine();
    m.actor.send({ type: 'END', reason: 'peer', detail: 'the stream stopped' });
    expect(m.actor.getSnapshot().value).toBe('created');
    m.actor.send({ type: 'SET_UP' });
    expect(m.actor.getSnapshot().value).toBe('ending');
    m.finish();
    await expect.poll(() => m.actor.getSnapshot().status).toBe('done');
    expect(m.actor.getSnapshot().context.reason).toBe('peer');
  });

  it('a set-up that fails ends the call with setup-failed and no teardown', () => {
    const m = machine();
    m.actor.send({ type: 'FAILED', detail: 'no free RTP port pair' });
    expect(m.actor.getSnapshot().status).toBe('done');
    expect(m.actor.getSnapshot().context).toMatchObject({ reason: 'setup-failed', detail: 'no free RTP port pair' });
    expect(m.teardowns()).toBe(0);
  });
});

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

describe('a call graph built by the registry', () => {
  it('places each node, shares one ring per edge, and ends the call on the leg’s peer.ended event', async () => {
    const { log } = memoryLogger();
    sup = new Supervisor({ spareThreads: false,
      poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
      logLevel: 'warn',
      log,
      kinds: { jitter: jitterKind, agent: agentKind, nullLeg: nullLegKind },
      transports: [nullLegTransport],
    });
    await sup.start();
    const call = await sup.createCall({ transport: 'null-leg' });
    expect(call).toMatchObject({ transport: 'null-leg', state: 'active', leg: 'null' });
    const [leg, agent, jitter] = call.actors;
    expect([leg, agent, jitter].map((a) => a!.split('.')[0])).toEqual(['nullLeg', 'agent', 'jitter']);
    // One ring per edge, the same object at both ends.
    expect(sup.ringOf(leg!, 'packets')).toBe(sup.ringOf(jitter!, 'in'));
    expect(sup.ringOf(jitter!, 'out')).toBe(sup.ringOf(agent!, 'in'));
    expect(sup.ringOf(agent!, 'out')).toBe(sup.ringOf(leg!, 'in'));
    expect(sup.ringOf(leg!, 'heard')).toBe(sup.ringOf(agent!, 'heard'));
    // After half a second the leg says its peer is gone: the call ends by itself, with the reason.
    await expect.poll(() => sup!.getCall(call.id), { timeout: 5000 }).toBeUndefined();
    expect(sup.status().endedCalls).toContainEqual(expect.objectContaining({ id: call.id, reason: 'peer', detail: 'the peer sent RTCP BYE' }));
    expect(sup.status().actors).toEqual([]);
  });

  it('refuses a graph whose edge joins rings of different kinds, leaving nothing behind', async () => {
    const { log } = memoryLogger();
    const crossed: Transport = {
      name: 'crossed',
      async create(_req, ctx) {
        await ctx.build({
          nodes: { leg: { kind: 'nullLeg', config: {} }, agent: { kind: 'agent', config: { agent: 'loopback', rateHz: 8000 } } },
          edges: [{ from: ['leg', 'packets'], to: ['agent', 'in'] }],
        });
        return { answer: {} };
      },
    };
    sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log, kinds: { agent: agentKind, nullLeg: nullLegKind }, transports: [crossed] });
    await sup.start();
    await expect(sup.createCall({ transport: 'crossed' })).rejects.toThrow(/call graph: nullLeg\.packets \(packets\) cannot feed agent\.in \(pcm\)/);
    expect(sup.listCalls()).toEqual([]);
    expect(sup.status().actors).toEqual([]);
  });
});
