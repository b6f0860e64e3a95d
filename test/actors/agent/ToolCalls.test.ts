import { describe, expect, it } from 'vitest';
import { MAX_PENDING_TOOL_CALLS, MAX_TOOL_OUTPUT_CHARS, ToolCalls } from '../../../src/actors/agent/ToolCalls.ts';

describe('ToolCalls', () => {
  it('answers a waiting call once', () => {
    const t = new ToolCalls();
    t.called('call_1');
    expect(t.answer({ toolOutput: { callId: 'call_1', output: '{"ok":true}' } })).toEqual({ callId: 'call_1', output: '{"ok":true}' });
    expect(() => t.answer({ toolOutput: { callId: 'call_1', output: 'again' } })).toThrow(/no tool call "call_1" is waiting/);
  });

  it('refuses bad shapes, unknown calls and oversized output with RangeErrors', () => {
    const t = new ToolCalls();
    t.called('c');
    for (const bad of [{}, { toolOutput: null }, { toolOutput: [] }, { toolOutput: { callId: 'c' } }, { toolOutput: { callId: 1, output: 'x' } }]) {
      expect(() => t.answer(bad)).toThrow(RangeError);
    }
    expect(() => t.answer({ toolOutput: { callId: 'other', output: 'x' } })).toThrow(RangeError);
    expect(() => t.answer({ toolOutput: { callId: 'c', output: 'x'.repeat(MAX_TOOL_OUTPUT_CHARS + 1) } })).toThrow(/longer than/);
    expect(t.answer({ toolOutput: { callId: 'c', output: '' } }).callId).toBe('c');
  });

  it('remembers a bounded number of waiting calls, forgetting the oldest', () => {
    const t = new ToolCalls();
    for (let i = 0; i <= MAX_PENDING_TOOL_CALLS; i++) t.called(`c${i}`);
    expect(() => t.answer({ toolOutput: { callId: 'c0', output: 'x' } })).toThrow(RangeError);
    expect(t.answer({ toolOutput: { callId: `c${MAX_PENDING_TOOL_CALLS}`, output: 'x' } }).callId).toBe(`c${MAX_PENDING_TOOL_CALLS}`);
  });
});
