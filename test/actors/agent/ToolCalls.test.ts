import { describe, expect, it } from 'vitest';
import { MAX_PENDING_TOOL_CALLS, MAX_TOOL_OUTPUT_CHARS, ToolCalls } from '../../../src/actors/agent/ToolCalls.ts';

describe('ToolCalls', () => {
  it('answers a waiting call once', () => {
    const t = new ToolCalls();
    t.called('call_1');
    expect(() => t.answer('call_1', '{"ok":true}')).not.toThrow();
    expect(() => t.answer('call_1', 'again')).toThrow(/no tool call "call_1" is waiting/);
  });

  it('refuses unknown calls and oversized output with RangeErrors, leaving the call waiting', () => {
    const t = new ToolCalls();
    t.called('c');
    expect(() => t.answer('other', 'x')).toThrow(RangeError);
    expect(() => t.answer('c', 'x'.repeat(MAX_TOOL_OUTPUT_CHARS + 1))).toThrow(/longer than/);
    expect(() => t.answer('c', '')).not.toThrow();
    expect(() => t.answer('c', '')).toThrow(RangeError);
  });

  it('remembers a bounded number of waiting calls, forgetting the oldest', () => {
    const t = new ToolCalls();
    for (let i = 0; i <= MAX_PENDING_TOOL_CALLS; i++) t.called(`c${i}`);
    expect(() => t.answer('c0', 'x')).toThrow(RangeError);
    expect(() => t.answer(`c${MAX_PENDING_TOOL_CALLS}`, 'x')).not.toThrow();
  });
});
