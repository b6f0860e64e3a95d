/**
 * The server event types of the Realtime API (GA), as the `openai` package
 * types them (`RealtimeServerEvent`). The agent acts on a few; the rest are
 * known and ignored. A type outside this list is counted (`unknownEvents`):
 * a newer API or a misbehaving peer, worth noticing but never a fault.
 * @see https://platform.openai.com/docs/api-reference/realtime-server-events
 */
const SERVER_EVENT_TYPES = new Set([
  'conversation.created', 'conversation.item.created', 'conversation.item.deleted',
  'conversation.item.input_audio_transcription.completed', 'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.failed', 'conversation.item.input_audio_transcription.segment',
  'conversation.item.retrieved', 'conversation.item.truncated', 'conversation.item.added', 'conversation.item.done',
  'error',
  'input_audio_buffer.cleared', 'input_audio_buffer.committed', 'input_audio_buffer.dtmf_event_received',
  'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.timeout_triggered',
  'rate_limits.updated',
  'response.created', 'response.done',
  'response.output_audio.delta', 'response.output_audio.done',
  'response.output_audio_transcript.delta', 'response.output_audio_transcript.done',
  'response.output_text.delta', 'response.output_text.done',
  'response.content_part.added', 'response.content_part.done',
  'response.function_call_arguments.delta', 'response.function_call_arguments.done',
  'response.output_item.added', 'response.output_item.done',
  'response.mcp_call_arguments.delta', 'response.mcp_call_arguments.done',
  'response.mcp_call.in_progress', 'response.mcp_call.completed', 'response.mcp_call.failed',
  'mcp_list_tools.in_progress', 'mcp_list_tools.completed', 'mcp_list_tools.failed',
  'session.created', 'session.updated',
  'output_audio_buffer.started', 'output_audio_buffer.stopped', 'output_audio_buffer.cleared',
]);

export function isKnownServerEvent(type: string): boolean {
  return SERVER_EVENT_TYPES.has(type);
}
