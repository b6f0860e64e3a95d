/**
 * `switchboard <command> …`: the command line's dispatcher. Each command lives
 * in its own module and returns an exit code; errors meant for the user are
 * `UsageError`s, printed without a stack.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: {
    summary: 'start            run the daemon (HTTP control API, workers); --help for its options',
    load: async () => (await import('./start.ts')).start,
  },
  load: {
    summary: 'load             run N synthetic calls against a daemon and report latency, loss, MOS and cost; --help for its options',
    load: async () => (await import('./load.ts')).load,
  },
  chaos: {
    summary: 'chaos            calls under load while workers are crashed, hung and killed at random; --help for its options',
    load: async () => (await import('./chaos.ts')).chaos,
  },
  soak: {
    summary: 'soak             keep N calls churning for M minutes and watch the daemon for leaks; --help for its options',
    load: async () => (await import('./soak.ts')).soak,
  },
  convert: {
    summary: 'convert IN OUT   convert audio between WAV, .ulaw, .alaw, .g722, .l16 and Ogg .opus',
    load: async () => (await import('./convert.ts')).convert,
  },
  stream: {
    summary: 'stream URL       play a WAV into a call over the raw audio stream and save the reply (--in, --out, --codec)',
    load: async () => (await import('./stream.ts')).stream,
  },
  call: {
    summary: 'call             place a Twilio call connected to this engine (--to, --from); --help for its options',
    load: async () => (await import('./call.ts')).call,
  },
  drain: {
    summary: 'drain            stop a running daemon taking calls; --wait until its calls have ended (the Kubernetes preStop hook)',
    load: async () => (await import('./drain.ts')).drain,
  },
};

function usage(): string {
  return ['usage: switchboard <command> [options]', '', 'commands:']
    .concat(Object.values(COMMANDS).map((c) => `  ${c.summary}`))
    .join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    console.error(`switchboard: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`switchboard ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
