import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAudio } from '../../src/cli/localAudio.ts';
import { DeviceCatalog } from '../../src/devices/DeviceCatalog.ts';
import { naudiodonMissing } from '../../src/devices/DeviceProcess.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { startDeviceSupervisor } from '../helpers/deviceSupervisor.ts';
import { makeAlsaDevices, type AlsaDevices } from '../helpers/alsaDevices.ts';
import { memoryLogger } from '../helpers/logger.ts';

/**
 * PortAudio that cannot load, for real: the device hosts find an ALSA
 * library that is not one (an empty libasound.so.2 first on
 * LD_LIBRARY_PATH), so naudiodon's binding fails to load in the child. The
 * scan says why in one line, and the daemon's capture call plays nowhere,
 * said in one line. (Where naudiodon itself is not installed the same lines
 * name that instead; then this file is skipped like the other device tests.)
 */
describe.skipIf(naudiodonMissing() !== undefined)('when PortAudio cannot load', () => {
  let alsa: AlsaDevices;
  let sup: Supervisor;
  const saved = process.env['LD_LIBRARY_PATH'];
  const { log, lines } = memoryLogger();

  beforeAll(async () => {
    alsa = makeAlsaDevices(new Int16Array(960));
    const broken = join(alsa.dir, 'lib');
    mkdirSync(broken);
    writeFileSync(join(broken, 'libasound.so.2'), '');
    // Set before the workers start: they, and the device hosts they spawn, take the environment then.
    process.env['ALSA_CONFIG_PATH'] = alsa.configPath;
    process.env['LD_LIBRARY_PATH'] = broken;
    sup = await startDeviceSupervisor({ log, poolSizes: { media: 1, network: 0, agent: 0, capture: 1 } });
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env['LD_LIBRARY_PATH'];
    else process.env['LD_LIBRARY_PATH'] = saved;
    await sup?.stop();
    alsa?.remove();
  });

  it('lists no devices and says why, and the capture call plays nowhere, said once', async () => {
    const status = await new DeviceCatalog().scan(log);
    expect(status).toMatchObject({ state: 'unavailable', devices: [], reason: expect.stringMatching(/^naudiodon could not be loaded .*\[.*libasound\.so\.2.*\]$/) });
    const call = await startLocalAudio(sup, { capture: 'tone:440', playback: 'device:sbplay', devices: { listen: 'agent', blockMs: 20 } }, log);
    expect(call).toMatchObject({ transport: 'capture', playback: 'none' });
    expect(sup.listCalls()).toHaveLength(1);
    const warned = lines.filter((l) => (l['level'] as number) >= 40);
    expect(warned).toEqual([
      expect.objectContaining({ msg: 'playback device unavailable: the capture call plays nowhere', reason: expect.stringMatching(/^playback: naudiodon could not be loaded/) }),
    ]);
    // A device source cannot fall back to anything: no call, one line.
    const none = await startLocalAudio(sup, { capture: 'device:sbrec', playback: 'none', devices: { listen: 'agent', blockMs: 20 } }, log);
    expect(none).toBeUndefined();
    expect(lines.filter((l) => (l['level'] as number) >= 40)).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({ msg: 'capture source device:sbrec unavailable: running without a capture call' });
    expect(sup.listCalls()).toHaveLength(1);
  });
});
