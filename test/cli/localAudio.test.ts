import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { naudiodonMissing } from '../../src/devices/DeviceProcess.ts';
import { makeAlsaDevices, type AlsaDevices } from '../helpers/alsaDevices.ts';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess.ts';
import { sine } from '../helpers/spectral.ts';

describe('--capture and --playback', () => {
  it('are validated with the configuration, naming the forms they take', () => {
    const load = (argv: string[]) => () => loadConfig({ argv, env: {}, cwd: process.cwd() });
    expect(load(['--capture', 'tone:440', '--playback', 'device:USB Speaker'])()).toMatchObject({ capture: 'tone:440', playback: 'device:USB Speaker' });
    expect(load([])()).toMatchObject({ capture: 'none', playback: 'none', devices: { listen: 'agent', blockMs: 20 } });
    expect(load(['--capture', 'microphone'])).toThrow(ConfigError);
    expect(load(['--capture', 'microphone'])).toThrow(/capture.*device:NAME, file:PATH\.wav, tone:HZ or none/);
    expect(load(['--playback', 'tone:440'])).toThrow(/playback.*device:NAME or none/);
    expect(load(['--devices.block-ms', '15'])).toThrow(/devices\.blockMs.*10 or 20/);
    expect(load(['--devices.listen', 'all'])).toThrow(/devices\.listen.*agent, caller or both/);
  });
});

/**
 * The daemon with a capture call, as `switchboard start` runs it: the
 * devices scanned (through PortAudio, on ALSA file plugins), an output device
 * that does not exist falling back in one line, and nothing of PortAudio's
 * or ALSA's own output on the daemon's stdout or stderr.
 */
describe.skipIf(naudiodonMissing() !== undefined)('switchboard start --capture tone:440 --playback device:nope', () => {
  let alsa: AlsaDevices;
  let daemon: DaemonProcess;
  let base = '';
  let captureCall = '';

  beforeAll(() => {
    alsa = makeAlsaDevices(sine(4800, 1000, 48_000, 8000));
    daemon = spawnDaemon(
      ['--port', '0', '--media-workers', '1', '--capture', 'tone:440', '--playback', 'device:nope', '--agent.default', 'loopback', '--drain-deadline-ms', '500'],
      // The system's ALSA configuration with the test devices as the user's ~/.asoundrc: PortAudio's
      // scan probes every card the system names, and ALSA prints dozens of lines about the missing ones.
      { HOME: alsa.dir },
    );
  });

  afterAll(async () => {
    if (daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await new Promise((r) => daemon.child.once('close', r));
    }
    alsa.remove();
  });

  it('scans the devices, runs the capture call playing nowhere, and says so in one line', async () => {
    const scanned = await daemon.logged((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('sound devices'), 'the device scan', 30_000);
    expect(scanned).toMatchObject({ msg: 'sound devices: 3 found', devices: ['sbplay', 'sbplay2', 'sbrec'] });
    const fallback = await daemon.logged((l) => l['msg'] === 'playback device unavailable: the capture call plays nowhere', 'the fallback', 30_000);
    expect(fallback).toMatchObject({ level: 40, playback: 'device:nope', reason: 'playback: no output device named "nope" [output devices: "sbplay", "sbplay2", "sbrec"]' });
    const started = await daemon.logged((l) => l['msg'] === 'capture call started', 'the capture call', 30_000);
    expect(started).toMatchObject({ capture: 'tone:440', playback: 'none' });
    const { port } = (await daemon.logged((l) => l['msg'] === 'listening', 'listening')) as { port: number };
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      devices: { state: string; devices: Array<{ name: string }> };
      calls: Array<{ id: string; transport: string; playback: string }>;
    };
    expect(status.devices.state).toBe('ready');
    expect(status.devices.devices.map((d) => d.name)).toEqual(['sbplay', 'sbplay2', 'sbrec']);
    expect(status.calls).toEqual([expect.objectContaining({ id: started['call'], transport: 'capture', playback: 'none' })]);
    base = `http://127.0.0.1:${port}`;
    captureCall = started['call'] as string;
  });

  it('takes a listener into a conference over HTTP, refuses hostile capture requests and counts them', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const conf = await post('/v1/conferences', {});
    expect(conf.status).toBe(201);
    const id = conf.json['id'] as string;
    const listener = await post('/v1/calls', { transport: 'capture', source: 'none', playback: 'device:sbplay', conference: id });
    expect(listener.status).toBe(201);
    const members = await post(`/v1/conferences/${id}/members`, { call: captureCall });
    expect(members.status).toBe(201);
    const info = (await (await fetch(`${base}/v1/conferences/${id}`)).json()) as { members: Array<{ call: string }> };
    expect(info.members.map((m) => m.call).sort()).toEqual([listener.json['id'], captureCall].sort());
    const refused: Array<[unknown, number]> = [
      [{ transport: 'capture', source: 'none', playback: 'device:sbplay' }, 422],
      [{ transport: 'capture', source: 'none', conference: 'ñ🎧' }, 404],
      [{ transport: 'capture', source: `device:${'é'.repeat(5000)}` }, 422],
      [{ transport: 'capture', source: 'tone:440', playback: ['device:sbplay'] }, 422],
      [{ transport: 'capture', source: 'device:sb\u0000rec' }, 422],
      [{ transport: 'capture', source: 'none', conference: id, rateHz: '16000' }, 422],
      ['{"transport":"capture","source":', 400],
    ];
    for (const [body, status] of refused) expect((await post('/v1/calls', body)).status, JSON.stringify(body).slice(0, 60)).toBe(status);
    expect((await post(`/v1/conferences/${id}/members`, { call: listener.json['id'] })).status).toBe(409);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_http_requests_total\{method="POST",route="\/v1\/calls",status="422"\} 5$/m);
    expect(metrics).toMatch(/^switchboard_http_requests_total\{method="POST",route="\/v1\/calls",status="404"\} 1$/m);
    const status = (await (await fetch(`${base}/status`)).json()) as { calls: unknown[]; conferences: unknown[] };
    expect([status.calls.length, status.conferences.length]).toEqual([2, 1]);
  });

  it('stops with nothing of PortAudio or ALSA on its output, and the fallback said once', async () => {
    daemon.child.kill('SIGTERM');
    await daemon.logged((l) => l['msg'] === 'stopped', 'the stop');
    await new Promise((r) => (daemon.child.exitCode !== null ? r(undefined) : daemon.child.once('close', r)));
    // PortAudio's banner and ALSA's complaints stay in the device hosts: every stdout line is the
    // daemon's JSON, stderr is empty, and the fallback was said once.
    expect(daemon.lines.filter((l) => 'raw' in l)).toEqual([]);
    expect(daemon.stderr()).toBe('');
    expect(daemon.lines.filter((l) => l['level'] === 40 && l['msg'] !== undefined && String(l['msg']).includes('unavailable'))).toHaveLength(1);
  });
});
