/**
 * The Twilio Media Streams wire path per message: parsing an inbound `media`
 * message (JSON + base64 into a caller buffer), building an outbound one, and
 * the pacer's per-chunk work; Node's allocating Buffer base64 beside ours.
 */
import { buildTwilioMark, buildTwilioMedia, base64Decode, base64Encode, parseTwilioInbound } from '../src/wire/twilio.ts';
import { PACER_IDLE, TwilioPacer } from '../src/wire/twilioPacer.ts';
import { printTable, rate } from './table.ts';

export default function run(): void {
  const sid = 'MZ18ad3ab5a668481ce02b83e7395059f0';
  const codes = new Uint8Array(160).map((_, i) => (i * 37) & 0xff);
  const payload = Buffer.from(codes).toString('base64');
  const inbound = JSON.stringify({
    event: 'media',
    sequenceNumber: '1234',
    media: { track: 'inbound', chunk: '1233', timestamp: '24660', payload },
    streamSid: sid,
  });
  const out = new Uint8Array(4096);

  let now = 0;
  const pacer = new TwilioPacer({ clock: () => now, leadMs: 60 });
  const chunk = new Uint8Array(160);
  const pacerStep = (): void => {
    if (pacer.queuedMs() < 20) pacer.enqueue(codes);
    now += 20;
    while (pacer.next(chunk) !== PACER_IDLE);
    pacer.onMarkEcho(pacer.lastMark);
  };

  const rows = [
    { op: 'parse inbound media (JSON + base64 into buffer)', ops: rate(() => void parseTwilioInbound(inbound, out)) },
    { op: 'JSON.parse alone', ops: rate(() => void JSON.parse(inbound)) },
    { op: 'base64 decode 160 B into buffer', ops: rate(() => void base64Decode(payload, out)) },
    { op: 'Buffer.from(base64) 160 B (allocates)', ops: rate(() => void Buffer.from(payload, 'base64')) },
    { op: 'base64 encode 160 B', ops: rate(() => void base64Encode(codes, 160)) },
    { op: 'build outbound media', ops: rate(() => void buildTwilioMedia(sid, codes, 160)) },
    { op: 'build outbound mark', ops: rate(() => void buildTwilioMark(sid, 'sb17')) },
    { op: 'pacer: enqueue + chunk + mark + echo', ops: rate(pacerStep) },
  ];
  printTable(
    'Twilio wire path, one core (a call is 50 inbound + 50 outbound media messages/s)',
    rows.map((r) => ({ op: r.op, 'ops/s': Math.round(r.ops), 'µs/op': 1e6 / r.ops, 'calls/core': Math.round(r.ops / 50) })),
  );
}
