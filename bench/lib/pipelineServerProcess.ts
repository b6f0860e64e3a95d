/**
 * The local STT/chat/TTS server in a process of its own, for the pipeline
 * benchmark: the callers' 20 ms pacing in the benchmark's process must not
 * delay the servers' responses (that delay would count as the engine's).
 * Options come as one JSON argument; the base URL goes to stdout.
 */
import { PipelineServer, type PipelineServerOptions } from '../../test/peers/PipelineServer.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as PipelineServerOptions & { transcript: string; answer: string };
const server = new PipelineServer({ ...o, transcribe: () => o.transcript, reply: () => o.answer });
await server.listen();
process.stdout.write(`${server.baseUrl()}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
