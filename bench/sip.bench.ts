/**
 * SIP call set-up against an RTP call made over HTTP, on one daemon
 * (`switchboard start` in a child process, SIP on): how fast calls are set
 * up (INVITE → 200 OK with the SDP answer, against POST /v1/calls → 201),
 * and the daemon's CPU per call for setting it up and tearing it down (the
 * ACK and BYE, against DELETE), measured side by side in one run. Both
 * make the same call (an RTP leg, a jitter buffer, the loopback agent);
 * what differs is the signalling: RFC 3261 over UDP with SDP offer/answer
 * on the main thread, or a JSON request over HTTP.
 */
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { header } from '../src/wire/sipMessage.ts';
import { daemonRequest } from '../src/load/daemonHttp.ts';
import { startDaemonChild, type DaemonChild } from '../src/load/daemonChild.ts';
import { isResponse, sdpOffer, SipPeer, sipText } from '../test/helpers/sipPeer.ts';
import { printTable } from './table.ts';
import { freeUdpPort } from '../src/load/freeUdpPort.ts';

const CALLS = 200;
/** Calls being set up at once (a trunk's burst). */
const CONCURRENCY = 10;
const WARM_UP_CALLS = 20;
const CLOCK_TICKS_PER_S = 100;

/** The daemon's user + system CPU seconds so far (/proc/PID/stat fields 14 and 15). */
function cpuS(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}


interface Flavour {
  name: string;
  /** Sets a call up; resolves with how to end it. */
  setUp(i: number): Promise<() => Promise<void>>;
}

function sipFlavour(peer: SipPeer, sipPort: number, mediaPort: number): Flavour {
  let serial = 0;
  return {
    name: 'SIP INVITE → 200 (UDP)',
    async setUp(i) {
      const tag = `${i}x${(serial++).toString(36)}`;
      const callId = `bench${tag}@peer`;
      const base = (method: string, cseq: number, branch: string, toTag?: string): string[] => [
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch};rport`,
        'Max-Forwards: 70',
        'From: <sip:bench@127.0.0.1>;tag=b1',
        `To: <sip:loopback@127.0.0.1>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:bench@127.0.0.1:${peer.port}>`,
      ];
      const uri = `sip:loopback@127.0.0.1:${sipPort}`;
      peer.send(sipPort, sipText(`INVITE ${uri} SIP/2.0`, [...base('INVITE', 1, `z9hG4bKi${tag}`), 'Content-Type: application/sdp'], sdpOffer(mediaPort, '0')));
      const ok = await peer.next(isResponse(200, callId, 'INVITE'), 10_000);
      const toTag = /;tag=([^;\s]+)/.exec(header(ok.headers, 'to')!)![1]!;
      peer.send(sipPort, sipText(`ACK ${uri} SIP/2.0`, base('ACK', 1, `z9hG4bKa${tag}`, toTag)));
      return async () => {
        peer.send(sipPort, sipText(`BYE ${uri} SIP/2.0`, base('BYE', 2, `z9hG4bKb${tag}`, toTag)));
        await peer.next(isResponse(200, callId, 'BYE'), 10_000);
        // Forget this call's messages: the peer's list is scanned per wait.
        peer.received.splice(0, peer.received.length, ...peer.received.filter((m) => m.callId !== callId));
      };
    },
  };
}

function httpFlavour(baseUrl: string, mediaPort: number): Flavour {
  return {
    name: 'RTP POST /v1/calls → 201 (HTTP)',
    async setUp() {
      const res = await daemonRequest(baseUrl, 'POST', '/v1/calls', { body: { transport: 'rtp', remote: `127.0.0.1:${mediaPort}`, codec: 'PCMU', agent: 'loopback' } });
      const id = (res.json as { id?: string } | null)?.id;
      if (res.status !== 201 || id === undefined) throw new Error(`POST /v1/calls: ${res.status}`);
      return async () => {
        const del = await daemonRequest(baseUrl, 'DELETE', `/v1/calls/${id}`);
        if (del.status !== 204) throw new Error(`DELETE: ${del.status}`);
      };
    },
  };
}

/** `count` calls, CONCURRENCY at a time: each set up, then ended; set-up times and the daemon's CPU. */
async function measure(daemon: DaemonChild, f: Flavour, count: number) {
  const setupMs: number[] = [];
  const cpu0 = cpuS(daemon.pid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        const end = await f.setUp(i);
        setupMs.push(performance.now() - s);
        await end();
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuS(daemon.pid) - cpu0;
  return { wallS, cpu, setupMs };
}

export default async function main(): Promise<void> {
  const sipPort = await freeUdpPort();
  const daemon = await startDaemonChild(CONCURRENCY * 2, 7, ['--sip.enabled', '--sip.port', String(sipPort), '--sip.invites-per-second', '100000']);
  // Where both kinds of call send their RTP: a socket that reads and drops.
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  sink.on('message', () => undefined);
  const peer = await SipPeer.open();
  try {
    const flavours = [sipFlavour(peer, sipPort, sink.address().port), httpFlavour(daemon.baseUrl, sink.address().port)];
    for (const f of flavours) await measure(daemon, f, WARM_UP_CALLS);
    const rows = [];
    // Interleaved halves, so a change in the machine's load falls on both alike.
    const totals = new Map(flavours.map((f) => [f.name, { wallS: 0, cpu: 0, ms: [] as number[] }]));
    for (let round = 0; round < 2; round++) {
      for (const f of flavours) {
        const m = await measure(daemon, f, CALLS / 2);
        const t = totals.get(f.name)!;
        t.wallS += m.wallS;
        t.cpu += m.cpu;
        t.ms.push(...m.setupMs);
      }
    }
    for (const f of flavours) {
      const t = totals.get(f.name)!;
      t.ms.sort((a, b) => a - b);
      const q = (p: number): number => t.ms[Math.min(t.ms.length - 1, Math.floor(p * t.ms.length))]!;
      rows.push({
        signalling: f.name,
        calls: CALLS,
        'set-up + end /s': Number((CALLS / t.wallS).toFixed(1)),
        'set-up p50 ms': Number(q(0.5).toFixed(1)),
        'set-up p99 ms': Number(q(0.99).toFixed(1)),
        'daemon CPU ms/call': Number(((1000 * t.cpu) / CALLS).toFixed(1)),
      });
    }
    const [sip, http] = rows;
    printTable(`Call set-up: ${CALLS} calls, ${CONCURRENCY} at a time, each set up then ended (loopback agent, PCMU); one daemon, side by side`, rows);
    printTable('SIP against HTTP', [
      {
        'set-up rate ×': Number((sip!['set-up + end /s'] / http!['set-up + end /s']).toFixed(2)),
        'p50 set-up ×': Number((sip!['set-up p50 ms'] / http!['set-up p50 ms']).toFixed(2)),
        'CPU per call ×': Number((sip!['daemon CPU ms/call'] / http!['daemon CPU ms/call']).toFixed(2)),
      },
    ]);
  } finally {
    peer.close();
    sink.close();
    await daemon.stop();
  }
}
