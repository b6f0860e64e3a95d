import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FORCED_EXIT_CODE } from '../../src/cli/start.ts';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess.ts';

/**
 * `switchboard start` as a real child process (`node --import tsx`, the CLI
 * from source), driven over HTTP and with real signals.
 */

/** Port 0, one media worker, a 5 s drain deadline. */
const CONFIG = 'test/fixtures/config/daemon.json';
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Daemon extends DaemonProcess {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  base(): Promise<string>;
}

function daemon(args: string[], env: Record<string, string> = {}): Daemon {
  const d = spawnDaemon(args, env);
  const exited = once(d.child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    ...d,
    exited,
    base: async () => `http://127.0.0.1:${(await d.logged((l) => l.msg === 'listening', 'listening')).port}`,
  };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const messages = (d: Daemon) => d.lines.map((l) => l.msg);

describe('switchboard start', () => {
  it('serves; on SIGTERM it drains (no new calls, live ones may finish), stops, closes HTTP and exits 0', async () => {
    const d = daemon(['--config', CONFIG]);
    try {
      const base = await d.base();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const created = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_HEADERS, body: '{"transport":"synthetic"}' });
      expect(created.status).toBe(201);
      const call = (await created.json()) as { id: string };

      d.child.kill('SIGTERM');
      await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 5_000, interval: 25, message: 'readiness to drop' }).toBe(503);
      const refused = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_HEADERS, body: '{"transport":"synthetic"}' });
      expect(refused.status).toBe(503);
      // The live call is still served until it ends; hanging it up lets the drain finish early.
      expect((await fetch(`${base}/v1/calls/${call.id}`)).status).toBe(200);
      expect((await fetch(`${base}/v1/calls/${call.id}`, { method: 'DELETE' })).status).toBe(204);

      expect(await within(d.exited, 5_000, 'exit after the drain')).toEqual({ code: 0, signal: null });
      const order = ['signal received: draining, then stopping', 'draining', 'supervisor stopped', 'stopped'];
      const seen = messages(d).filter((m) => order.includes(String(m)));
      expect(seen).toEqual(order);
      expect(d.lines.at(-1)).toMatchObject({ msg: 'stopped', code: 0 });
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
      expect(d.stderr()).toBe('');
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it(`exits at once with ${FORCED_EXIT_CODE} on a second signal while draining`, async () => {
    const d = daemon(['--config', CONFIG, '--drain-deadline-ms', '60000']);
    try {
      const base = await d.base();
      const created = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_HEADERS, body: '{"transport":"synthetic"}' });
      expect(created.status).toBe(201);
      d.child.kill('SIGTERM');
      await d.logged((l) => l.msg === 'draining', 'the drain');
      d.child.kill('SIGINT');
      expect(await within(d.exited, 3_000, 'the forced exit')).toEqual({ code: FORCED_EXIT_CODE, signal: null });
      expect(messages(d)).toContain('second signal while stopping: exiting now');
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it('drains, then stops with exit code 1 after an uncaught exception on the main thread', async () => {
    const d = daemon(['--config', CONFIG]);
    try {
      const base = await d.base();
      d.child.kill('SIGUSR2');
      expect(await within(d.exited, 10_000, 'the stop')).toEqual({ code: 1, signal: null });
      const fatal = d.lines.find((l) => l.msg === 'uncaught exception on the main thread: draining, then stopping');
      expect(fatal).toMatchObject({ level: 60, err: { message: 'main-thread failure injected by a test (SIGUSR2)' } });
      expect(messages(d)).toContain('draining');
      expect(messages(d)).toContain('supervisor stopped');
      expect(d.lines.at(-1)).toMatchObject({ msg: 'stopped', code: 1 });
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it('exits 1 when its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    const d = daemon(['--config', CONFIG, '--port', String(port)]);
    try {
      expect(await within(d.exited, 20_000, 'the failed start')).toEqual({ code: 1, signal: null });
      const failed = d.lines.find((l) => l.msg === 'start-up failed');
      expect((failed?.err as { message?: string } | undefined)?.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`);
      expect(messages(d)).toContain('supervisor stopped');
    } finally {
      d.child.kill('SIGKILL');
      blocker.close();
    }
  });

  describe.concurrent('refuses to start (exit 2, the reason on stderr, nothing on stdout)', () => {
    const refused = async (args: string[], env: Record<string, string>, message: string | RegExp) => {
      const d = daemon(args, env);
      expect(await within(d.exited, 10_000, 'the refusal')).toEqual({ code: 2, signal: null });
      if (typeof message === 'string') expect(d.stderr()).toBe(`${message}\n`);
      else expect(d.stderr()).toMatch(message);
      expect(d.lines).toEqual([]);
    };

    it('a bad environment value', () =>
      refused(['--config', CONFIG], { SWITCHBOARD_PORT: 'abc' }, 'config: port: expected an integer 0–65535, got "abc" (from SWITCHBOARD_PORT)'));

    it('a bad flag', () =>
      refused(['--config', CONFIG, '--media-workers', 'many'], {}, 'config: mediaWorkers: expected an integer 1–256, got "many" (from --media-workers)'));

    it('a config file that is not JSON', () =>
      refused(['--config', 'test/fixtures/config/bad-json.json'], {}, /^config: test\/fixtures\/config\/bad-json\.json is not valid JSON: .* at line 4, column 1/));

    it('a non-loopback host without a control token', () =>
      refused(
        ['--config', CONFIG, '--host', '0.0.0.0'],
        {},
        'config: host: refusing to listen on 0.0.0.0, which is not a loopback address, without a control token; ' +
          'set one (SWITCHBOARD_CONTROL_TOKEN or --control-token) or listen on 127.0.0.1',
      ));

    it('a non-loopback host with a control token, but neither TWILIO_AUTH_TOKEN nor twilio.allowUnsigned', () =>
      refused(
        ['--config', CONFIG, '--host', '0.0.0.0', '--control-token', 'tok'],
        {},
        /^config: twilio\.allowUnsigned: refusing to take unsigned Twilio webhooks and Media Streams on 0\.0\.0\.0, .*set TWILIO_AUTH_TOKEN .*--twilio\.allow-unsigned\)\n$/,
      ));

    it('an RTP address this machine does not have', () =>
      refused(
        ['--config', CONFIG, '--rtp.bind-host', '8.8.8.8'],
        {},
        'config: rtp.bindHost: cannot bind UDP on "8.8.8.8" (from --rtp.bind-host): no such address on this machine (EADDRNOTAVAIL); expected an IP address of this machine',
      ));

    it('a tools file that is not there', () =>
      refused(
        ['--config', CONFIG],
        { SWITCHBOARD_OPENAI__TOOLS_FILE: 'test/fixtures/config/no-such-tools.json' },
        /^config: openai\.toolsFile: "test\/fixtures\/config\/no-such-tools\.json" \(from SWITCHBOARD_OPENAI__TOOLS_FILE\) cannot be read \[ENOENT/,
      ));
  });

  it('--help lists every option with its environment variable', async () => {
    const d = daemon(['--help']);
    expect(await within(d.exited, 10_000, 'help')).toEqual({ code: 0, signal: null });
    const help = d.lines.map((l) => l.raw).join('\n');
    expect(help).toMatch(/^usage: switchboard start \[options\]/);
    expect(help).toMatch(/--port +SWITCHBOARD_PORT +an integer 0–65535/);
    expect(help).toMatch(/--rtp\.port-min +SWITCHBOARD_RTP__PORT_MIN/);
    expect(help).toContain(`a second one exits at once (exit ${FORCED_EXIT_CODE})`);
  });
});
