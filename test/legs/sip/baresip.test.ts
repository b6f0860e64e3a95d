import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, HAVE_BARESIP } from '../../helpers/baresip.ts';
import { fixturePath } from '../../helpers/fixtures.ts';
import { segmentedCorrelation } from '../../helpers/rtpPeer.ts';
import { startSipRuntime } from '../../helpers/sipRuntime.ts';
import type { CallInfo } from '../../../src/supervisor/Runtime.ts';
import { freeUdpPort } from '../../../src/load/freeUdpPort.ts';


const until = async (what: string, ok: () => boolean, ms = 8000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const events = (c: CallInfo | undefined): string[] => (c?.events ?? []).map((e) => e.name);

/**
 * 50 ms segments (as the other interop tests): the jitter buffer moves its
 * delay by whole pitch periods (accelerate / expand) while the peer's packets
 * jitter, so a longer segment spans a step and matches neither side of it.
 */
const SEGMENT = 400;
/** Each segment is found up to 600 ms later in what came back (the buffer's delay and both codecs' passes)… */
const MAX_LAG = 4800;
/**
 * …or up to 200 ms earlier: baresip's `-dec.wav` starts at the first packet it
 * hears and its `-enc.wav` at the first it sends, so what came back is
 * recorded from a round trip and a buffer's delay later and runs ahead.
 */
const HEARD_LEAD = 1600;

describe.skipIf(!HAVE_BARESIP)('SIP against baresip (a real user agent)', () => {
  let rt: Awaited<ReturnType<typeof startSipRuntime>>;
  const agents: Baresip[] = [];

  beforeAll(async () => {
    rt = await startSipRuntime({ portMin: 33_100, portMax: 33_140 });
  }, 30_000);

  afterAll(async () => {
    for (const b of agents) b.stop();
    await rt?.stop();
  });

  it('takes a call from baresip and hears back what it said; places one to baresip and hangs it up', async () => {
    const source = fixturePath('speech/synth-f-8k.wav');
    // Inbound: baresip dials the loopback agent and hangs up itself after 5 s.
    const caller = new Baresip({ port: await freeUdpPort(), rtpPorts: '33200-33220', source, seconds: 5, dial: `sip:loopback@127.0.0.1:${rt.port}` });
    agents.push(caller);
    // Outbound: the daemon calls a second baresip, which answers by itself; we hang up.
    const calleePort = await freeUdpPort();
    const callee = new Baresip({ port: calleePort, rtpPorts: '33240-33260', source, seconds: 12 });
    agents.push(callee);
    await new Promise((r) => setTimeout(r, 500)); // its listener up
    const out = await rt.sup.createCall({ transport: 'sip', to: `sip:bs@127.0.0.1:${calleePort}`, agent: 'loopback', headers: { 'X-Case': 'outbound' } });
    await until('the outbound answer', () => events(rt.sup.getCall(out.id)).includes('sip.answered'), 15_000).catch((err: Error) => {
      throw new Error(`${err.message} [events:${JSON.stringify(rt.sup.getCall(out.id)?.events)}, ended:${JSON.stringify(rt.sup.status().endedCalls)}]\n${callee.log.slice(0, 2000)}`);
    });
    expect(events(rt.sup.getCall(out.id))).toContain('sip.ringing');
    await until('the inbound call', () => rt.sup.listCalls().some((c) => c.id !== out.id));
    const inbound = rt.sup.listCalls().find((c) => c.id !== out.id)!;
    expect(inbound['sip']).toMatchObject({ to: expect.stringContaining('loopback@127.0.0.1') });
    expect(inbound['codec']).toBe('PCMU');

    await new Promise((r) => setTimeout(r, 3500));
    const hungUpAt = Date.now();
    await rt.sup.deleteCall(out.id);
    await until('baresip to see our BYE', () => /terminated/.test(callee.log), 3000);
    expect(Date.now() - hungUpAt).toBeLessThan(3000);

    await caller.exited;
    // Its BYE ended our side of the call.
    await until('the inbound call to end', () => rt.sup.getCall(inbound.id) === undefined);
    const ended = rt.sup.status().endedCalls!.find((c) => c.id === inbound.id)!;
    expect(ended.reason).toBe('peer');

    for (const ua of [caller, callee]) {
      const { sent, heard } = ua.recordings();
      expect(heard.length).toBeGreaterThan(2 * 8000);
      // Skip the first second (the buffer filling) and compare what it said with what came back.
      const corr = segmentedCorrelation(sent.subarray(8000, heard.length - MAX_LAG), heard.subarray(8000 - HEARD_LEAD), SEGMENT, MAX_LAG + HEARD_LEAD, 2);
      expect(corr).toBeGreaterThanOrEqual(0.9);
    }
  }, 30_000);
});
