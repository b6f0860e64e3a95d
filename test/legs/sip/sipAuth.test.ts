import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerChallenge, readCredentials } from '../../../src/wire/sipDigest.ts';
import { header, headerLines, serializeSip, type SipMessage, type SipRequest } from '../../../src/wire/sipMessage.ts';
import { isResponse, sdpOffer, SipPeer, sipText } from '../../helpers/sipPeer.ts';
import { startSipRuntime } from '../../helpers/sipRuntime.ts';

const until = async (what: string, ok: () => boolean, ms = 4000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function invite(peer: SipPeer, callId: string, cseq: number, body: string, extra: string[] = []): string {
  return sipText(
    'INVITE sip:loopback@127.0.0.1 SIP/2.0',
    [
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${callId}${cseq};rport`,
      'Max-Forwards: 70',
      'From: <sip:pbx@example.com>;tag=p1',
      'To: <sip:loopback@127.0.0.1>',
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} INVITE`,
      `Contact: <sip:pbx@127.0.0.1:${peer.port}>`,
      'Content-Type: application/sdp',
      ...extra,
    ],
    body,
  );
}

/** A response of the peer's to a request it received (§8.2.6). */
function reply(req: SipRequest, status: string, extra: Array<[string, string]> = [], body = ''): Buffer {
  const copy = (n: string): Array<[string, string]> => headerLines(req.headers, n).map((v) => [n, v]);
  const to = header(req.headers, 'to')!;
  return serializeSip(
    `SIP/2.0 ${status}`,
    [...copy('via'), ...copy('from'), ['to', to.includes('tag=') || status.startsWith('100') ? to : `${to};tag=callee`], ...copy('call-id'), ...copy('cseq'), ...extra],
    body,
  );
}

describe('SIP digest authentication, SDES-SRTP, and outbound failures', () => {
  let rt: Awaited<ReturnType<typeof startSipRuntime>>;
  let peer: SipPeer;
  let registrar: SipPeer;

  beforeAll(async () => {
    registrar = await SipPeer.open();
    rt = await startSipRuntime({
      portMin: 33_400,
      portMax: 33_440,
      timers: { t1Ms: 40, t2Ms: 160 },
      tls: { cert: fileURLToPath(new URL('../../peers/tls/localhost.crt', import.meta.url)), key: fileURLToPath(new URL('../../peers/tls/localhost.key', import.meta.url)) },
      sip: {
        authUsers: 'pbx:s3cret',
        authRealm: 'sb.test',
        trunk: { username: 'us', password: 'trunkpw' },
        register: { registrar: `sip:127.0.0.1:${registrar.port}`, user: 'line1', expiresS: 600 },
      },
    });
    peer = await SipPeer.open();
  }, 30_000);

  afterAll(async () => {
    peer?.close();
    registrar?.close();
    await rt?.stop();
  });

  it('registers (answering the registrar’s challenge with sip.trunk) and refreshes before the granted expiry (RFC 3261 §10.2)', async () => {
    const isRegister = (cseq?: number) => (m: SipMessage) => m.kind === 'request' && m.method === 'REGISTER' && (cseq === undefined || m.cseq === cseq);
    const first = (await registrar.next(isRegister())) as SipRequest;
    expect(header(first.headers, 'expires')).toBe('600');
    expect(header(first.headers, 'contact')).toMatch(/^<sip:line1@127\.0\.0\.1:\d+>$/);
    registrar.send(rt.port, reply(first, '401 Unauthorized', [['www-authenticate', 'Digest realm="reg", nonce="r1", algorithm=MD5']]));
    const second = (await registrar.next(isRegister(first.cseq + 1))) as SipRequest;
    expect(second.callId).toBe(first.callId);
    expect(readCredentials(header(second.headers, 'authorization')!)).toMatchObject({ username: 'us', realm: 'reg', nonce: 'r1', uri: `sip:127.0.0.1:${registrar.port}` });
    // Granted for 2 s only: the refresh comes halfway through.
    registrar.send(rt.port, reply(second, '200 OK', [['contact', `${header(second.headers, 'contact')!};expires=2`]]));
    await until('registered', () => rt.sip.registration()?.state === 'registered');
    expect(rt.sip.registration()?.grantedS).toBe(2);
    const t0 = Date.now();
    const refresh = (await registrar.next(isRegister(second.cseq + 1), 3000)) as SipRequest;
    expect(Date.now() - t0).toBeGreaterThan(500);
    expect(refresh.callId).toBe(first.callId);
    registrar.send(rt.port, reply(refresh, '200 OK', [['expires', '600']]));
    await until('the refresh granted', () => rt.sip.registration()?.grantedS === 600);
  });

  it('answers over TLS on sip.tlsPort (RFC 3261 §26.2), the response on the same connection', async () => {
    const ca = readFileSync(fileURLToPath(new URL('../../peers/tls/localhost.crt', import.meta.url)));
    const conn = connect({ host: '127.0.0.1', port: rt.tlsPort!, ca, servername: 'localhost' });
    await once(conn, 'secureConnect');
    let got = '';
    conn.on('data', (b: Buffer) => (got += b.toString()));
    conn.write(sipText('OPTIONS sip:loopback@127.0.0.1 SIP/2.0', ['Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKtls1', 'Max-Forwards: 70', 'From: <sip:pbx@example.com>;tag=t', 'To: <sip:loopback@127.0.0.1>', 'Call-ID: tls1', 'CSeq: 1 OPTIONS']));
    await until('the 200 over TLS', () => got.startsWith('SIP/2.0 200 OK') && got.includes('Call-ID: tls1'));
    conn.destroy();
  });

  it('challenges an INVITE (SHA-256 first, then MD5: RFC 8760 §2.4), refuses a wrong password, takes the right one', async () => {
    peer.send(rt.port, invite(peer, 'auth1', 1, sdpOffer(41_000)));
    const challenge = await peer.next(isResponse(401, 'auth1'));
    const offers = headerLines(challenge.headers, 'www-authenticate');
    expect(offers.map((c) => /algorithm=([\w-]+)/.exec(c)![1])).toEqual(['SHA-256', 'MD5']);
    peer.send(rt.port, `ACK sip:loopback@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKauth11\r\nFrom: <sip:pbx@example.com>;tag=p1\r\nTo: <sip:loopback@127.0.0.1>;tag=x\r\nCall-ID: auth1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`);
    const uri = 'sip:loopback@127.0.0.1';
    const wrong = answerChallenge(offers[1]!, 'INVITE', uri, 'pbx', 'guess', 'c0ffee')!;
    peer.send(rt.port, invite(peer, 'auth1', 2, sdpOffer(41_000), [`Authorization: ${wrong}`]));
    await peer.next((m) => m.kind === 'response' && m.status === 401 && m.cseq === 2);
    const right = answerChallenge(offers[0]!, 'INVITE', uri, 'pbx', 's3cret', 'c0ffee')!;
    expect(readCredentials(right)?.algorithm).toBe('SHA-256');
    // Through a proxy that stays on the path (Record-Route, §16.6 step 4; `lr`: RFC 3261 loose routing).
    const rr = `<sip:127.0.0.1:${peer.port};lr;proxy=1>`;
    peer.send(rt.port, invite(peer, 'auth1', 3, sdpOffer(41_000), [`Authorization: ${right}`, `Record-Route: ${rr}`]));
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200 && m.callId === 'auth1' && m.cseq === 3);
    expect(headerLines(ok.headers, 'record-route')).toEqual([rr]);
    await until('the call', () => rt.sup.listCalls().length === 1);
    const id = rt.sup.listCalls()[0]!.id;
    await rt.sup.deleteCall(id);
    // Our hang-up is a BYE to the peer (§15.1.1).
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === 'auth1');
    // In the dialog (§12.2.1.1): the peer's Contact as Request-URI, the route set as Route, our CSeq, both tags.
    expect(bye.kind === 'request' && bye.uri).toBe(`sip:pbx@127.0.0.1:${peer.port}`);
    expect(headerLines(bye.headers, 'route')).toEqual([rr]);
    expect(header(bye.headers, 'to')).toContain('tag=p1');
    expect(header(bye.headers, 'from')).toMatch(/;tag=\w+/);
    peer.send(rt.port, reply(bye as SipRequest, '200 OK'));
  });

  it('answers RTP/SAVP with a=crypto of its own (SDES, RFC 4568 §6.1) and refuses SAVP without a usable crypto line', async () => {
    const key = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
    const savp = sdpOffer(41_002, '0', 'sendrecv', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${key}`]).replace('RTP/AVP', 'RTP/SAVP');
    // Credentials need a nonce of the daemon's: take the challenge first.
    peer.send(rt.port, invite(peer, 'srtp1', 1, savp));
    const ch = header((await peer.next(isResponse(401, 'srtp1'))).headers, 'www-authenticate')!;
    const cred = answerChallenge(ch, 'INVITE', 'sip:loopback@127.0.0.1', 'pbx', 's3cret', 'ab')!;
    peer.send(rt.port, invite(peer, 'srtp1', 2, savp, [`Authorization: ${cred}`]));
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200 && m.callId === 'srtp1');
    const answer = ok.body.toString();
    expect(answer).toMatch(/^m=audio \d+ RTP\/SAVP 0\r$/m);
    const crypto = /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)/m.exec(answer);
    expect(crypto?.[1]).toHaveLength(40);
    expect(crypto?.[1]).not.toBe(key.slice(7));
    await until('the call', () => rt.sup.listCalls().length === 1);
    await rt.sup.deleteCall(rt.sup.listCalls()[0]!.id);
    const noKey = sdpOffer(41_004, '0').replace('RTP/AVP', 'RTP/SAVP');
    peer.send(rt.port, invite(peer, 'srtp2', 1, noKey, [`Authorization: ${cred}`]));
    expect(header((await peer.next(isResponse(488, 'srtp2'))).headers, 'warning')).toContain('crypto');
  });

  it('places a call that the far end challenges (answered with sip.trunk) and then rejects busy: sip.busy with the code', async () => {
    const out = await rt.sup.createCall({ transport: 'sip', to: `sip:bob@127.0.0.1:${peer.port}`, agent: 'loopback', headers: { 'X-Case': 'busy' } });
    const first = (await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && header(m.headers, 'authorization') === undefined)) as SipRequest;
    expect(header(first.headers, 'x-case')).toBe('busy');
    expect(first.body.toString()).toMatch(/^m=audio \d+ RTP\/AVP 0 8 9 111 101\r$/m);
    peer.send(rt.port, reply(first, '100 Trying'));
    peer.send(rt.port, reply(first, '407 Proxy Authentication Required', [['proxy-authenticate', 'Digest realm="carrier", nonce="n0nce", algorithm=MD5, qop="auth"']]));
    const second = (await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && header(m.headers, 'proxy-authorization') !== undefined)) as SipRequest;
    const cred = readCredentials(header(second.headers, 'proxy-authorization')!)!;
    expect(cred).toMatchObject({ username: 'us', realm: 'carrier', nonce: 'n0nce', qop: 'auth' });
    expect(second.cseq).toBe(first.cseq + 1);
    peer.send(rt.port, reply(second, '180 Ringing'));
    await until('sip.ringing', () => (rt.sup.getCall(out.id)?.events ?? []).some((e) => e.name === 'sip.ringing'));
    peer.send(rt.port, reply(second, '486 Busy Here'));
    await until('the call to end', () => rt.sup.getCall(out.id) === undefined);
    expect(rt.sup.status().endedCalls!.find((c) => c.id === out.id)?.detail).toContain('SIP 486 Busy Here');
    // The 401/407 was acknowledged in its transaction too.
    expect(peer.all((m) => m.kind === 'request' && m.method === 'ACK' && m.cseq === first.cseq)).toHaveLength(1);
    // The 486 is acknowledged in its transaction (§17.1.1.3).
    await peer.next((m) => m.kind === 'request' && m.method === 'ACK' && m.cseq === second.cseq);
  });
});
