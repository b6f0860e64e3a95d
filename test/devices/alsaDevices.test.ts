import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceNotFoundError, listDevices, naudiodonMissing } from '../../src/devices/DeviceProcess.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { startDeviceSupervisor } from '../helpers/deviceSupervisor.ts';
import { makeAlsaDevices, type AlsaDevices } from '../helpers/alsaDevices.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { within } from '../helpers/poll.ts';
import { fitTone, sine } from '../helpers/spectral.ts';

/**
 * The PortAudio path for real, without a sound card: naudiodon in its device
 * host processes opens ALSA `file` plugins (test/helpers/alsaDevices.ts),
 * which read and write plain files as fast as they are asked. Skipped only
 * where naudiodon (an optional dependency) is not installed.
 */
const missing = naudiodonMissing();
const CALLER_HZ = 1000;
const CALLER_AMPLITUDE = 8000;

/** The device host processes this process started (their command lines name the device they opened). */
function deviceHosts(): Array<{ pid: number; args: string }> {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no such process
  }
  return out
    .split('\n')
    .filter((l) => l.includes('deviceHost'))
    .map((l) => ({ pid: Number(l.trim().split(/\s+/)[0]), args: l }));
}

describe.skipIf(missing !== undefined)('capture and playback on PortAudio devices (ALSA file plugins)', () => {
  let alsa: AlsaDevices;
  let sup: Supervisor;
  const { log } = memoryLogger();

  beforeAll(async () => {
    // 0.6 s of a 1 kHz tone at 48 kHz, then the device gives silence.
    alsa = makeAlsaDevices(sine(28_800, CALLER_HZ, 48_000, CALLER_AMPLITUDE));
    process.env['ALSA_CONFIG_PATH'] = alsa.configPath;
    sup = await startDeviceSupervisor({ log });
  });

  afterAll(async () => {
    await sup?.stop();
    alsa?.remove();
  });

  it('lists the devices, and names them when asked for one that is not there', async () => {
    const devices = await listDevices();
    expect(devices.map((d) => d.name)).toEqual(['sbplay', 'sbplay2', 'sbrec', 'default']);
    const err = await sup.createCall({ transport: 'capture', source: 'device:nope' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, message: 'capture: no input device named "nope" [input devices: "sbplay", "sbplay2", "sbrec", "default"]' });
    expect(new DeviceNotFoundError('x').name).toBe('RangeError');
  });

  it('captures a file-fed device and plays caller and agent mixed into the file device, paced by the frame clock', async () => {
    const t0 = performance.now();
    const call = await sup.createCall({ transport: 'capture', source: 'device:sbrec', playback: 'device:sbplay', listen: 'both', agent: 'tone', rateHz: 16000, blockMs: 10 });
    const [captureId, agentId, playbackId] = call.actors as [string, string, string];
    let capture: Float64Array;
    let playbackIn = 0;
    let agentOut = 0;
    try {
      await expect.poll(() => sup.actorStats(playbackId)?.values[1] ?? 0, within(10_000, 'frames played')).toBeGreaterThanOrEqual(60);
      capture = Float64Array.from(sup.actorStats(captureId)!.values);
      // In steady state every frame the agent sends is taken by the playback actor, one a tick.
      const p0 = sup.actorStats(playbackId)!.values[0]!;
      const a0 = sup.actorStats(agentId)!.values[1]!;
      await new Promise((r) => setTimeout(r, 400));
      playbackIn = sup.actorStats(playbackId)!.values[0]! - p0;
      agentOut = sup.actorStats(agentId)!.values[1]! - a0;
    } finally {
      expect(await sup.deleteCall(call.id)).toBe(true);
    }
    // The file device is read as the frame clock takes it: nothing read ahead is lost.
    expect(capture[6]).toBe(0);
    const t1 = performance.now();
    await expect.poll(() => deviceHosts().length, within(5000, 'device hosts gone')).toBe(0);
    const out = alsa.played('sbplay');
    // Paced: the device got about as much audio as wall time passed while it was open, not the
    // seconds' worth per second the file plugin would take unpaced.
    const playedS = out.length / 48_000;
    expect(playedS).toBeGreaterThan(0.9);
    expect(playedS).toBeLessThan(((t1 - t0) / 1000) * 1.2);
    // The caller's tone (48 kHz device → 16 kHz call → 48 kHz device) and the tone agent's
    // 440 Hz (8000 peak at 16 kHz), both in the half second after the caller's tone starts,
    // fitted per 20 ms block: a frame the agent's thread was late with shifts its tone's phase
    // (counted in the agent's ring, not lost), which a fit over the whole span would average away.
    // Where the caller's tone begins (the agent's starts with the call, before the capture primes).
    let start = -1;
    for (let i = 0; i + 960 <= out.length && start < 0; i += 240) if (fitTone(out, CALLER_HZ, 48_000, i, i + 960).amplitude > CALLER_AMPLITUDE / 2) start = i;
    expect(start).toBeGreaterThanOrEqual(0);
    const blocks = 25;
    const level = (hz: number, amplitude: number) => {
      const fits: number[] = [];
      for (let k = 0; k < blocks; k++) fits.push(fitTone(out, hz, 48_000, start + 2400 + k * 960, start + 2400 + (k + 1) * 960).amplitude);
      const sorted = [...fits].sort((x, y) => x - y);
      return { median: sorted[blocks >> 1]! / amplitude, full: fits.filter((f) => Math.abs(f / amplitude - 1) < 0.1).length };
    };
    const caller = level(CALLER_HZ, CALLER_AMPLITUDE);
    const agent = level(440, 8000);
    const why = `capture underruns: ${capture![3]}, caller ${JSON.stringify(caller)}, agent ${JSON.stringify(agent)}`;
    expect(caller.median, why).toBeCloseTo(1, 1);
    expect(agent.median, why).toBeCloseTo(1, 1);
    // On a machine this loaded a block or two may miss a late frame; more is a fault.
    expect(caller.full, why).toBeGreaterThanOrEqual(blocks - 3);
    expect(agent.full, why).toBeGreaterThanOrEqual(blocks - 3);
    expect(agentOut).toBeGreaterThan(10);
    expect(Math.abs(agentOut - playbackIn)).toBeLessThanOrEqual(3);
  });

  it('refuses bad capture calls with what is wrong, and leaves no actor or process behind', async () => {
    const notWav = join(alsa.dir, 'not.wav');
    writeFileSync(notWav, 'RIFF\u0000\u0000garbage, not a wave');
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ source: 'device:sbrec', playback: 'device:ñope 🎧' }, 422, /^playback: no output device named "ñope 🎧" \[output devices: "sbplay", "sbplay2", "sbrec", "default"\]$/],
      [{ source: `file:${notWav}` }, 422, /^capture: ".*not\.wav" is not a readable WAV file \[/],
      [{ source: 'file:/nonexistent/x.wav' }, 422, /not a readable WAV file \[ENOENT/],
      [{ source: 'none' }, 422, /a capture call needs a source/],
      [{ source: 'tone:440', blockMs: 15 }, 422, /^blockMs: expected one of 10, 20, got 15$/],
      [{ source: 'tone:440', listen: 'everything' }, 422, /^listen: expected one of agent, caller, both/],
      [{ source: 'tone:440', rateHz: 44100 }, 422, /^rateHz: expected one of 8000, 16000, 24000, 48000/],
      [{ source: 'tone:440', playback: 'file:/tmp/x.wav' }, 422, /^playback: expected device:NAME or none/],
      [{ source: { device: 'sbrec' } }, 422, /^source: expected .* got object$/],
    ];
    for (const [req, status, message] of cases) {
      const err = await sup.createCall({ transport: 'capture', ...req }).catch((e: unknown) => e);
      expect(err, JSON.stringify(req)).toMatchObject({ status, message: expect.stringMatching(message) });
    }
    expect(sup.listCalls()).toEqual([]);
    expect(sup.actorStatuses()).toEqual([]);
    await expect.poll(() => deviceHosts().length, within(5000, 'device hosts gone')).toBe(0);
    expect(sup.readiness().ready).toBe(true);
  });

  it('a device that fails mid-call: the input ends its call, the output leaves the call playing to nowhere', async () => {
    const call = await sup.createCall({ transport: 'capture', source: 'device:sbrec', playback: 'device:sbplay2' });
    const playbackId = (call.actors as string[])[2]!;
    const hosts = deviceHosts();
    const output = hosts.find((h) => h.args.includes('sbplay2'))!;
    process.kill(output.pid, 'SIGKILL');
    await expect.poll(() => sup.getCall(call.id)?.events?.map((e) => e.name), within(5000, 'device.failed')).toContain('device.failed');
    expect(sup.getCall(call.id)!.events!.find((e) => e.name === 'device.failed')!.data['reason']).toMatch(/^playback device "sbplay2" failed: the device host ended \[SIGKILL\]$/);
    const played = sup.actorStats(playbackId)!.values;
    expect(played[3]).toBe(1); // deviceFailed
    const inAgent = played[0]!;
    await expect.poll(() => sup.actorStats(playbackId)!.values[0]!, within(2000, 'agent frames still taken')).toBeGreaterThan(inAgent + 5);
    expect(sup.getCall(call.id)!.state).toBe('active');

    const input = hosts.find((h) => h.args.includes('sbrec'))!;
    process.kill(input.pid, 'SIGKILL');
    await expect.poll(() => sup.getCall(call.id), within(5000, 'the call ended')).toBeUndefined();
    const ended = sup.status().endedCalls!.find((c) => c.id === call.id)!;
    expect(ended).toMatchObject({ reason: 'peer', detail: 'capture device "sbrec" failed: the device host ended [SIGKILL]' });
    expect(sup.readiness().ready).toBe(true);
    await expect.poll(() => deviceHosts().length, within(5000, 'device hosts gone')).toBe(0);
  });
});
