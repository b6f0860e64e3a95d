import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { STREAM_CODECS, type StreamCodecName } from '../wire/streamControl.ts';
import { WavFormatError, readWav, toMono, writeWav } from '../wire/wav.ts';
import { resample } from './convert.ts';
import { UsageError } from './main.ts';
import { StreamClient } from './StreamClient.ts';

const USAGE = `usage: switchboard stream URL --in speech.wav --out reply.wav [--codec opus|pcmu|pcma|g722|l16] [--rate HZ] [--agent NAME] [--tail-ms MS]

Plays a WAV file into a call over the raw audio stream (WS /v1/stream, subprotocol audio-stream-v1)
at real-time pace, and saves what comes back. URL is ws://host:port/v1/stream (or wss://).
  --codec     the stream's codec (default opus)
  --rate      the stream's rate (default: the codec's: 8000 for pcmu/pcma, 16000 for g722 and l16, 48000 for opus)
  --agent     the agent to talk to (the daemon's default otherwise)
  --tail-ms   how long to keep listening after the file has been sent (default 3000)
The control token, when the daemon has one, is read from SWITCHBOARD_CONTROL_TOKEN.`;

const DEFAULT_RATE_HZ: Readonly<Record<StreamCodecName, number>> = { opus: 48000, pcmu: 8000, pcma: 8000, g722: 16000, l16: 16000 };
export const TOKEN_ENV = 'SWITCHBOARD_CONTROL_TOKEN';

interface StreamArgs {
  url: string;
  inPath: string;
  outPath: string;
  codec: StreamCodecName;
  rateHz: number;
  agent: string | undefined;
  tailMs: number;
}

function parse(args: string[]): StreamArgs | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        in: { type: 'string' },
        out: { type: 'string' },
        codec: { type: 'string' },
        rate: { type: 'string' },
        agent: { type: 'string' },
        'tail-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return undefined;
  if (positionals.length !== 1) throw new UsageError(`expected one URL, got ${positionals.length} arguments\n\n${USAGE}`);
  const url = positionals[0]!;
  if (!/^wss?:\/\//.test(url)) throw new UsageError(`URL must start with ws:// or wss:// [got:"${url}"]`);
  if (values.in === undefined || values.out === undefined) throw new UsageError(`--in and --out are both needed\n\n${USAGE}`);
  const codec = values.codec ?? 'opus';
  if (!Object.hasOwn(STREAM_CODECS, codec)) throw new UsageError(`--codec must be one of ${Object.keys(STREAM_CODECS).join(', ')} [got:"${codec}"]`);
  const name = codec as StreamCodecName;
  return {
    url,
    inPath: values.in,
    outPath: values.out,
    codec: name,
    rateHz: wholeNumber('--rate', values.rate) ?? DEFAULT_RATE_HZ[name],
    agent: values.agent,
    tailMs: wholeNumber('--tail-ms', values['tail-ms']) ?? 3000,
  };
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag} needs a whole number [got:"${value}"]`);
  return Number(value);
}

/** `switchboard stream URL --in IN.wav --out OUT.wav [--codec C]`: the raw stream's reference client. */
export async function stream(args: string[]): Promise<number> {
  const a = parse(args);
  if (a === undefined) {
    console.log(USAGE);
    return 0;
  }
  let wav;
  try {
    wav = readWav(readFileSync(a.inPath));
  } catch (err) {
    const why = err instanceof WavFormatError ? err.message : (err as Error).message;
    throw new UsageError(`cannot read ${a.inPath}: ${why}`);
  }
  const mono = { rateHz: wav.rateHz, samples: toMono(wav) };
  const audio = mono.rateHz === a.rateHz ? mono : resample(mono, a.rateHz, a.outPath);
  const token = process.env[TOKEN_ENV];
  const client = new StreamClient({ url: a.url, codec: a.codec, rateHz: a.rateHz, ...(a.agent !== undefined ? { agent: a.agent } : {}), ...(token ? { token } : {}) });
  try {
    let callId: string;
    try {
      callId = await client.connect();
    } catch (err) {
      console.error(`switchboard stream: ${(err as Error).message}`);
      return 1;
    }
    console.log(`call ${callId}: sending ${(audio.samples.length / a.rateHz).toFixed(2)} s of ${a.codec} at ${a.rateHz} Hz`);
    await client.sendAudio(audio.samples);
    await new Promise((r) => setTimeout(r, a.tailMs));
    await client.stop();
  } finally {
    client.abort();
  }
  const heard = client.heard();
  try {
    writeFileSync(a.outPath, writeWav({ rateHz: a.rateHz, channels: 1, samples: heard }));
  } catch (err) {
    throw new UsageError(`cannot write ${a.outPath}: ${(err as Error).message}`);
  }
  console.log(`${a.outPath}: ${(heard.length / a.rateHz).toFixed(2)} s received (${client.framesReceived} frames, ${client.marksEchoed} marks echoed, ${client.clears} clears)`);
  return 0;
}
