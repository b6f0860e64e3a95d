import { describe, expect, it } from 'vitest';
import { insertInGroup, type Hosted } from '../../src/actors/tickOrder.ts';

const actor = { tick: () => 0, close: () => {} };
const h = (id: string, stage: number, group?: string): Hosted => ({ id, kind: id.split('.')[0]!, stage, group, actor });

describe('tick order on a worker', () => {
  it("puts a call's actors back to back in stage order, whatever order they are made in, calls in the order they came", () => {
    let list: Hosted[] = [];
    // The graph makes the leg first, then the agent, then the jitter actor (CallGraph's declaration order).
    for (const call of ['a', 'b', 'c']) {
      list = insertInGroup(list, h(`rtp.${call}`, 2, call));
      list = insertInGroup(list, h(`agent.${call}`, 1, call));
      list = insertInGroup(list, h(`jitter.${call}`, 0, call));
    }
    list = insertInGroup(list, h('capture.1', 0));
    // An actor re-created later (its worker restarted) joins its call's run, not the end.
    list = insertInGroup(list.filter((x) => x.id !== 'agent.b'), h('agent.b', 1, 'b'));
    expect(list.map((x) => x.id)).toEqual([
      'jitter.a', 'agent.a', 'rtp.a',
      'jitter.b', 'agent.b', 'rtp.b',
      'jitter.c', 'agent.c', 'rtp.c',
      'capture.1',
    ]);
  });

  it('keeps actors of one stage in the order they came, and ungrouped actors last in arrival order', () => {
    let list: Hosted[] = [];
    list = insertInGroup(list, h('x.1', 1));
    list = insertInGroup(list, h('jitter.1', 0, 'a'));
    list = insertInGroup(list, h('jitter.2', 0, 'a'));
    list = insertInGroup(list, h('x.2', 0));
    expect(list.map((x) => x.id)).toEqual(['x.1', 'jitter.1', 'jitter.2', 'x.2']);
  });
});
