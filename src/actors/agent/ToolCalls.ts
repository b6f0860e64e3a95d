/** Tool calls a session keeps waiting for their output at most; the oldest is forgotten beyond it. */
export const MAX_PENDING_TOOL_CALLS = 64;
/** The longest tool output accepted, in characters. */
export const MAX_TOOL_OUTPUT_CHARS = 64 * 1024;

/**
 * The model's function calls that still wait for their output, and the
 * check of an answer to one (control time: it may throw a RangeError, which
 * the supervisor turns into a 422 for the HTTP client).
 */
export class ToolCalls {
  readonly #pending = new Set<string>();

  /** A `response.function_call_arguments.done` arrived with this `call_id`. */
  called(callId: string): void {
    this.#pending.add(callId);
    if (this.#pending.size > MAX_PENDING_TOOL_CALLS) this.#pending.delete(this.#pending.values().next().value!);
  }

  /** Checks an answer to the call `callId` against the calls waiting and takes the call off the list. */
  answer(callId: string, output: string): void {
    if (output.length > MAX_TOOL_OUTPUT_CHARS) throw new RangeError(`openai: tool output longer than ${MAX_TOOL_OUTPUT_CHARS} characters`);
    if (!this.#pending.has(callId)) throw new RangeError(`openai: no tool call "${callId}" is waiting for output`);
    this.#pending.delete(callId);
  }
}
