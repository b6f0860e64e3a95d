import { describe, expect, it } from 'vitest';
import { actorLogger, createLogger, formatPretty, RateLimitedLog, RATE_LIMIT_MAX_KEYS } from '../src/log.ts';
import { memoryLogger } from './helpers/logger.ts';

/** A pino destination that keeps the raw lines. */
function capture() {
  const out: string[] = [];
  return { out, destination: { write: (s: string) => void out.push(s) } };
}

describe('createLogger', () => {
  it('writes pino JSON lines at the configured level', () => {
    const { out, destination } = capture();
    const log = createLogger({ level: 'warn', pretty: false, destination });
    log.info('not shown');
    log.warn({ n: 1 }, 'shown');
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ level: 40, n: 1, msg: 'shown', pid: process.pid, time: expect.any(Number) });
  });

  it('tags an actor logger with the actor id', () => {
    const { out, destination } = capture();
    actorLogger(createLogger({ level: 'info', pretty: false, destination }), 'capture-3').info('tick');
    expect(JSON.parse(out[0]!)).toMatchObject({ actor: 'capture-3', msg: 'tick' });
  });

  it('formats lines for a terminal when pretty', () => {
    const { out, destination } = capture();
    const log = createLogger({ level: 'info', pretty: true, destination });
    log.info({ url: 'http://127.0.0.1:8080/', calls: 2, note: 'two words' }, 'listening');
    log.error({ err: new Error('boom') }, 'failed');
    const plain = out.join('').replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  listening {2}url=http:\/\/127\.0\.0\.1:8080\/ calls=2 note="two words"\n/);
    expect(plain).toMatch(/\n\d\d:\d\d:\d\d\.\d{3} ERROR failed\n {4}Error: boom\n {8}at /);
    expect(plain).not.toContain('pid=');
  });

  it('passes non-JSON lines through the pretty formatter unchanged', () => {
    expect(formatPretty('plain text', false)).toBe('plain text\n');
  });
});

describe('RateLimitedLog', () => {
  function limited(linesPerWindow = 3, windowMs = 10_000) {
    const { log, lines } = memoryLogger();
    let now = 0;
    const rl = new RateLimitedLog(log, { linesPerWindow, windowMs, now: () => now });
    return { rl, lines, advance: (ms: number) => (now += ms) };
  }

  it('writes the first lines of a key per window, then one summary with the count', () => {
    const { rl, lines, advance } = limited();
    const written = Array.from({ length: 10 }, (_, i) => rl.warn('rtp:bad_header', { i }, 'bad RTP header'));
    expect(written).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
    advance(10_000);
    expect(rl.warn('rtp:bad_header', { i: 10 }, 'bad RTP header')).toBe(true);
    expect(lines.slice(3)).toEqual([
      expect.objectContaining({ key: 'rtp:bad_header', suppressed: 7, msg: 'suppressed 7 more line(s) like the above' }),
      expect.objectContaining({ key: 'rtp:bad_header', i: 10 }),
    ]);
  });

  it('limits each key on its own', () => {
    const { rl, lines } = limited(1);
    rl.warn('a', {}, 'a');
    rl.warn('a', {}, 'a');
    rl.warn('b', {}, 'b');
    expect(lines.map((l) => l.msg)).toEqual(['a', 'b']);
  });

  it('sweep() writes summaries of ended windows; flush() writes all pending ones', () => {
    const { rl, lines, advance } = limited(1);
    for (let i = 0; i < 4; i++) rl.warn('a', {}, 'a');
    advance(5_000);
    for (let i = 0; i < 3; i++) rl.warn('b', {}, 'b');
    advance(5_000);
    rl.sweep();
    expect(lines.filter((l) => l.suppressed !== undefined).map((l) => [l.key, l.suppressed])).toEqual([['a', 3]]);
    rl.flush();
    expect(lines.filter((l) => l.suppressed !== undefined).map((l) => [l.key, l.suppressed])).toEqual([['a', 3], ['b', 2]]);
    rl.flush();
    expect(lines.filter((l) => l.suppressed !== undefined)).toHaveLength(2);
  });

  it('keeps a bounded number of keys however many distinct ones arrive', () => {
    const { rl, lines } = limited(1);
    for (let i = 0; i < RATE_LIMIT_MAX_KEYS + 50; i++) rl.warn(`k${i}`, {}, 'x');
    // Keys past the bound share one bucket, itself limited.
    expect(lines).toHaveLength(RATE_LIMIT_MAX_KEYS + 1);
    expect(lines.at(-1)).toMatchObject({ key: '(other)' });
  });
});
