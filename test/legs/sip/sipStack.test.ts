import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { header } from '../../../src/wire/sipMessage.ts';
import { sipTarget } from '../../fuzz/targets/sip.ts';
import type { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { isResponse, sdpOffer, SipPeer, sipText } from '../../helpers/sipPeer.ts';
import { startSipRuntime } from '../../helpers/sipRuntime.ts';

/** T1 shortened (RFC 3261 Table 4 scales from it): 200 retransmissions at 40, 120, 280 ms… */
const T1_MS = 40;

async function sipBadInput(sup: Supervisor, reason?: string): Promise<number> {
  const metric = await sup.metrics.getSingleMetric('switchboard_bad_input_total')!.get();
  return metric.values.filter((v) => v.labels['source'] === 'sip' && (reason === undefined || v.labels['reason'] === reason)).reduce((a, v) => a + v.value, 0);
}

const until = async (what: string, ok: () => boolean, ms = 4000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

let seq = 0;
/** An out-of-dialog request of the peer's: its own Call-ID, a fresh branch. */
function request(peer: SipPeer, method: string, opts: { callId?: string; cseq?: number; branch?: string; toTag?: string; headers?: string[]; body?: string; user?: string } = {}): { text: string; callId: string; branch: string } {
  const callId = opts.callId ?? `c${++seq}@peer`;
  const branch = opts.branch ?? `z9hG4bK${seq}x${Math.random().toString(36).slice(2)}`;
  const text = sipText(
    `${method} sip:${opts.user ?? 'loopback'}@127.0.0.1 SIP/2.0`,
    [
      `Via: SIP/2.0/UDP ${peer.address}:${peer.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: "Ann Caller" <sip:ann@example.com>;tag=from${callId.length}`,
      `To: <sip:${opts.user ?? 'loopback'}@127.0.0.1>${opts.toTag !== undefined ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${opts.cseq ?? 1} ${method}`,
      `Contact: <sip:ann@${peer.address}:${peer.port}>`,
      ...(opts.body !== undefined ? ['Content-Type: application/sdp'] : []),
      ...(opts.headers ?? []),
    ],
    opts.body ?? '',
  );
  return { text, callId, branch };
}

describe('SIP stack over UDP (a raw peer against the real runtime)', () => {
  let rt: Awaited<ReturnType<typeof startSipRuntime>>;
  let peer: SipPeer;

  beforeAll(async () => {
    rt = await startSipRuntime({ portMin: 33_300, portMax: 33_340, maxCalls: 1, timers: { t1Ms: T1_MS, t2Ms: 4 * T1_MS }, sip: { invitesPerSecond: 5 } });
    peer = await SipPeer.open();
  }, 30_000);

  afterAll(async () => {
    peer?.close();
    await rt?.stop();
  });

  it('answers OPTIONS out of a dialog with 200 and what it allows (keep-alive, §11)', async () => {
    const r = request(peer, 'OPTIONS');
    peer.send(rt.port, r.text);
    const ok = await peer.next(isResponse(200, r.callId, 'OPTIONS'));
    expect(header(ok.headers, 'allow')).toContain('INVITE');
    expect(header(ok.headers, 'via')).toContain(`rport=${peer.port}`);
  });

  it('rings, answers with SDP, retransmits the 200 until the ACK, absorbs a retransmitted INVITE, holds, unholds, and ends on BYE', async () => {
    const inv = request(peer, 'INVITE', { body: sdpOffer(40_000), headers: ['X-Customer: 42', 'X-Trace: ä'] });
    peer.send(rt.port, inv.text);
    await peer.next(isResponse(100, inv.callId));
    await peer.next(isResponse(180, inv.callId));
    const ok = await peer.next(isResponse(200, inv.callId, 'INVITE'));
    const sdp = ok.body.toString();
    expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m);
    expect(sdp).toContain('a=sendrecv');
    const toTag = /;tag=([^;\s]+)/.exec(header(ok.headers, 'to')!)![1]!;
    // No ACK yet: timer G's doubling sends the 200 again (§13.3.1.4).
    await until('the 200 retransmitted twice', () => peer.all(isResponse(200, inv.callId, 'INVITE')).length >= 3, 2000);
    // The INVITE again (its branch unchanged) is a retransmission: the 200 once more, no second call.
    peer.send(rt.port, inv.text);
    await new Promise((r) => setTimeout(r, 50));
    expect(rt.sup.listCalls()).toHaveLength(1);
    peer.send(rt.port, request(peer, 'ACK', { callId: inv.callId, toTag }).text);
    await new Promise((r) => setTimeout(r, 6 * T1_MS));
    const after = peer.all(isResponse(200, inv.callId, 'INVITE')).length;
    await new Promise((r) => setTimeout(r, 8 * T1_MS));
    expect(peer.all(isResponse(200, inv.callId, 'INVITE')).length).toBe(after);

    const call = rt.sup.listCalls()[0]!;
    expect(call['sip']).toMatchObject({ callId: inv.callId, from: expect.stringContaining('Ann Caller'), to: '<sip:loopback@127.0.0.1>', headers: { 'x-customer': '42', 'x-trace': 'ä' } });

    // Hold (RFC 3264 §8.4): sendonly is answered recvonly; then back to sendrecv.
    const hold = request(peer, 'INVITE', { callId: inv.callId, toTag, cseq: 2, body: sdpOffer(40_000, '0 101', 'sendonly') });
    peer.send(rt.port, hold.text);
    expect((await peer.next((m) => m.kind === 'response' && m.status === 200 && m.cseq === 2)).body.toString()).toContain('a=recvonly');
    const unhold = request(peer, 'INVITE', { callId: inv.callId, toTag, cseq: 3, body: sdpOffer(40_000) });
    peer.send(rt.port, unhold.text);
    expect((await peer.next((m) => m.kind === 'response' && m.status === 200 && m.cseq === 3)).body.toString()).toContain('a=sendrecv');
    // A second call while this one is up: the runtime is full (maxCalls 1), so 503 with Retry-After.
    const busy = request(peer, 'INVITE', { body: sdpOffer(40_002) });
    peer.send(rt.port, busy.text);
    const full = await peer.next(isResponse(503, busy.callId));
    expect(Number(header(full.headers, 'retry-after'))).toBeGreaterThanOrEqual(1);
    peer.send(rt.port, request(peer, 'ACK', { callId: busy.callId, branch: busy.branch, toTag: 'x' }).text);

    const bye = request(peer, 'BYE', { callId: inv.callId, toTag, cseq: 4 });
    peer.send(rt.port, bye.text);
    await peer.next(isResponse(200, inv.callId, 'BYE'));
    await until('the call to end', () => rt.sup.getCall(call.id) === undefined);
    expect(rt.sup.status().endedCalls!.find((c) => c.id === call.id)?.reason).toBe('peer');
    // A BYE for a dialog that is gone: 481 (§15.1.2).
    peer.send(rt.port, request(peer, 'BYE', { callId: inv.callId, toTag, cseq: 5 }).text);
    await peer.next(isResponse(481, inv.callId, 'BYE'));
  });

  it('takes a CANCEL before the answer: 200 to it, 487 to the INVITE, and no call left (§9.2)', async () => {
    const inv = request(peer, 'INVITE', { body: sdpOffer(40_004) });
    peer.send(rt.port, inv.text);
    peer.send(rt.port, request(peer, 'CANCEL', { callId: inv.callId, branch: inv.branch }).text);
    await peer.next(isResponse(200, inv.callId, 'CANCEL'));
    await peer.next(isResponse(487, inv.callId, 'INVITE'));
    peer.send(rt.port, request(peer, 'ACK', { callId: inv.callId, branch: inv.branch, toTag: 'any' }).text);
    await until('no call left', () => rt.sup.listCalls().length === 0);
  });

  it('answers what it cannot take: 488 without SDP, 415 for another body, 420 for an unknown Require, 405, 400 for a malformed request', async () => {
    const noSdp = request(peer, 'INVITE');
    peer.send(rt.port, noSdp.text);
    await peer.next(isResponse(488, noSdp.callId));
    // The ACK of a final non-2xx is in the INVITE's transaction (its branch) and stops timer G (§17.1.1.3).
    peer.send(rt.port, request(peer, 'ACK', { callId: noSdp.callId, branch: noSdp.branch, toTag: 'any' }).text);
    const other = request(peer, 'INVITE', { body: 'hello', headers: ['Content-Type: text/plain'] });
    peer.send(rt.port, other.text.replace('Content-Type: application/sdp\r\n', ''));
    expect(header((await peer.next(isResponse(415, other.callId))).headers, 'accept')).toBe('application/sdp');
    peer.send(rt.port, request(peer, 'ACK', { callId: other.callId, branch: other.branch, toTag: 'any' }).text);
    const req = request(peer, 'OPTIONS', { headers: ['Require: nothingSupportsThis'] });
    peer.send(rt.port, req.text);
    expect(header((await peer.next(isResponse(420, req.callId))).headers, 'unsupported')).toBe('nothingSupportsThis');
    const reg = request(peer, 'REGISTER');
    peer.send(rt.port, reg.text);
    await peer.next(isResponse(405, reg.callId));
    const before = await sipBadInput(rt.sup);
    const mismatch = request(peer, 'OPTIONS');
    peer.send(rt.port, mismatch.text.replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    const bad = await peer.next(isResponse(400, mismatch.callId));
    expect(bad.kind === 'response' && bad.reason).toContain('CSeq method mismatch');
    // Bytes that are no message at all: dropped and counted, nothing sent back.
    const heard = peer.raw.length;
    for (const junk of ['\u0000\u0001garbage', 'INVITE sip:x SIP/2.0\r\n\r\n', 'é'.repeat(3000), '\r\n\r\n']) peer.send(rt.port, junk);
    await until('the junk counted', () => false, 150).catch(() => undefined);
    expect(await sipBadInput(rt.sup)).toBeGreaterThanOrEqual(before + 4);
    expect(peer.raw.slice(heard).map((b) => b.toString().split('\r\n').slice(0, 5).join(' | '))).toEqual([]);
  });

  it('speaks over TCP on the same port: a response on the connection; a stream without Content-Length is closed and counted (§18.3)', async () => {
    const conn = connect({ host: '127.0.0.1', port: rt.port });
    await once(conn, 'connect');
    let got = '';
    conn.on('data', (b: Buffer) => (got += b.toString()));
    const r = request(peer, 'OPTIONS');
    // CRLF keep-alives first (RFC 5626 §3.5.1), then the request; its Via says TCP.
    conn.write(`\r\n\r\n${r.text.replace('SIP/2.0/UDP', 'SIP/2.0/TCP')}`);
    await until('the 200 over TCP', () => got.startsWith('SIP/2.0 200 OK') && got.includes(r.callId));
    const before = await sipBadInput(rt.sup, 'stream framing');
    conn.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK1\r\n\r\n');
    await once(conn, 'close');
    expect(await sipBadInput(rt.sup, 'stream framing')).toBe(before + 1);
  });

  it('rate-limits a flood of INVITEs from one address while another caller still gets through', async () => {
    const before = await sipBadInput(rt.sup, 'invite flood');
    const flood = Array.from({ length: 40 }, () => request(peer, 'INVITE'));
    for (const f of flood) peer.send(rt.port, f.text);
    await until('the flood counted', () => false, 300).catch(() => undefined);
    const dropped = (await sipBadInput(rt.sup, 'invite flood')) - before;
    // 5 a second with a burst of 10: at most ~12 got an answer, the rest were dropped and counted.
    expect(dropped).toBeGreaterThanOrEqual(25);
    expect(flood.filter((f) => peer.all(isResponse(488, f.callId)).length > 0).length).toBe(40 - dropped);
    const other = await SipPeer.open('127.0.0.2');
    try {
      const r = request(other, 'INVITE');
      other.send(rt.port, r.text);
      await other.next(isResponse(488, r.callId));
    } finally {
      other.close();
    }
  });

  it('survives 3000 mutated RFC 4475 messages from one peer: each answered or dropped, none throws, OPTIONS still answered', async () => {
    const fuzzer = await SipPeer.open('127.0.0.3');
    try {
      const inputs = fc.sample(sipTarget.inputs, { numRuns: 3000, seed: 16 }) as Uint8Array[];
      for (let i = 0; i < inputs.length; i++) {
        fuzzer.send(rt.port, Buffer.from(inputs[i]!));
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5)); // the socket's buffer drains
      }
      const r = request(fuzzer, 'OPTIONS');
      fuzzer.send(rt.port, r.text);
      await fuzzer.next(isResponse(200, r.callId, 'OPTIONS'));
      expect(rt.logs.lines.filter((l) => l['level'] === 50)).toEqual([]);
    } finally {
      fuzzer.close();
    }
  });

  it('turns callers away with 503 and Retry-After while draining', async () => {
    const draining = rt.sup.drain(1000);
    const inv = request(peer, 'INVITE', { body: sdpOffer(40_006) });
    peer.send(rt.port, inv.text);
    const res = await peer.next(isResponse(503, inv.callId));
    expect(header(res.headers, 'retry-after')).toMatch(/^\d+$/);
    await draining;
  });
});
