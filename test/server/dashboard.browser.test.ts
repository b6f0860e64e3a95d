import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { TestPeer } from '../helpers/rtpPeer.ts';

/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core) against a real runtime and server with live RTP calls:
 * peers on 127.0.0.1 send a tone, the loopback agent returns it. The page
 * must draw workers and calls, change as the calls do, drop a call that is
 * hung up, log no errors and fetch nothing from another origin.
 */
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const PORT_MIN = 36_000 + 2 * ((process.pid * 23) % 1000);
const CALLS = 3;
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

let sup: Supervisor;
let http: HttpServer;
let base: string;
let browser: Browser;
let page: Page;
let sender: NodeJS.Timeout | undefined;
const peers: TestPeer[] = [];
const calls: string[] = [];
const consoleErrors: string[] = [];
/** The little of the DOM the functions run in the page touch (the project's types have no DOM). */
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly className: string;
  readonly textContent: string | null;
  readonly children: ArrayLike<PageElement>;
  checkVisibility(): boolean;
  querySelector(selector: string): PageElement | null;
}
declare const document: { querySelectorAll(selector: string): Iterable<PageElement> };
/** Set on the page by the test (page.evaluate): the call rows a person sees. */
declare function visibleRows(): PageElement[];
const foreignRequests: string[] = [];

/** The visible call rows: id and the text of each cell. */
function callRows(p: Page): Promise<Array<{ id: string; cells: Record<string, string> }>> {
  return p.evaluate(() =>
    visibleRows().map((r) => {
      const cells: Record<string, string> = {};
      for (const span of Array.from(r.children)) cells[span.className.split(' ')[0]!.slice(2)] = span.textContent ?? '';
      return { id: r.dataset['id'] ?? '', cells };
    }),
  );
}

describe.skipIf(!HAS_CHROMIUM)(`the dashboard in headless Chromium (skipped: no ${CHROMIUM}; CI installs it)`, () => {
  beforeAll(async () => {
    sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 1, placement: 'call', mediaWorkers: 1 })).sup;
    const config = loadConfig({ argv: ['--port', '0'], env: {}, cwd: fileURLToPath(new URL('../fixtures/config/', import.meta.url)) });
    // Samples four times a second: the page's changes are seen sooner, the test is shorter.
    http = createHttpServer(sup, config, memoryLogger().log, { dashboard: { sampleMs: 250 } });
    base = `http://127.0.0.1:${(await http.listen()).port}`;
    const legPorts: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const peer = await TestPeer.create();
      peers.push(peer);
      const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback' });
      calls.push(call.id);
      legPorts.push((call['rtp'] as { localPort: number }).localPort);
    }
    // A square-ish tone in µ-law, louder for each call in turn, one packet per 20 ms.
    let seq = 0;
    sender = setInterval(() => {
      for (let i = 0; i < peers.length; i++) {
        const payload = new Uint8Array(160);
        for (let k = 0; k < 160; k++) payload[k] = (k % 16 < 8 ? 0x00 : 0x80) | (0x40 + 0x10 * i);
        peers[i]!.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x7000 + i, csrc: [], paddingLength: 0, payload }), legPorts[i]!);
      }
      seq++;
    }, 20);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`)) foreignRequests.push(r.url());
    });
  }, 30_000);

  afterAll(async () => {
    clearInterval(sender);
    await browser?.close();
    await http?.close();
    await sup?.stop();
    for (const p of peers) p.close();
  });

  it('renders workers and live calls, their figures change, a hung-up call leaves the table; no errors, no other origins', async () => {
    await page.goto(`${base}/dashboard`);
    // What a person sees: rows the page keeps in its pool out of view must not show.
    await page.evaluate(() => {
      (globalThis as unknown as { visibleRows: () => PageElement[] }).visibleRows = () =>
        [...document.querySelectorAll('#spacer .row')].filter((r) => r.checkVisibility());
    });
    await page.waitForFunction((n) => visibleRows().length === n, CALLS, { timeout: 5_000 });
    const workers = await page.evaluate(() => [...document.querySelectorAll('#workers tr[data-id]')].map((r) => r.dataset['id']));
    expect(workers).toEqual(expect.arrayContaining(['call-0']));
    // Ready, or not with the reason (two shared cores can leave the call worker's ticks marked overloaded).
    expect(await page.locator('#daemon').textContent()).toMatch(/^running · (?:ready|not ready: .+)$/);
    expect(await page.locator('#charts .uplot').count()).toBe(3);

    const first = await callRows(page);
    expect(first.map((r) => r.id).sort()).toEqual([...calls].sort());
    // Figures from the jitter actors: a level once the tone plays, and a rating.
    await page.waitForFunction(() => visibleRows().every((r) => /dB$/.test(r.querySelector('.c-level em')?.textContent ?? '')), null, { timeout: 5_000 });
    const before = await callRows(page);
    await page.waitForTimeout(1_200);
    const after = await callRows(page);
    const row = (rows: typeof before) => rows.find((r) => r.id === calls[0])!.cells;
    expect(row(after)).not.toEqual(row(before));
    expect(row(after)['age']).not.toBe(row(before)['age']);
    // An E-model MOS (G.107: 1 to 4.5), and the tone's level, louder call by louder call (each sends 10 dB-ish more).
    const mos = Number(row(after)['mos']);
    expect(mos >= 1 && mos <= 4.5).toBe(true);
    const levels = calls.map((id) => Number.parseFloat(after.find((r) => r.id === id)!.cells['level']!));
    expect(levels[0]).toBeGreaterThan(levels[1]!);
    expect(levels[1]).toBeGreaterThan(levels[2]!);
    expect(row(after)['transport']).toBe('rtp');

    // Filter by id: one row.
    await page.fill('#filter', calls[1]!.slice(0, 13));
    await page.waitForFunction(() => visibleRows().length === 1, null, { timeout: 2_000 });
    expect((await callRows(page))[0]!.id).toBe(calls[1]);
    await page.fill('#filter', '');

    const hungUp = calls[2]!;
    const t0 = performance.now();
    await sup.deleteCall(hungUp);
    await page.waitForFunction((id) => !visibleRows().some((r) => r.dataset['id'] === id), hungUp, { timeout: 2_500 });
    expect(performance.now() - t0).toBeLessThan(2_500);
    expect((await callRows(page)).map((r) => r.id).sort()).toEqual([calls[0], calls[1]].sort());

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
    expect(existsSync(`${ARTIFACTS}dashboard.png`)).toBe(true);

    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  }, 20_000);

  it("shows a conference with each member's level and talk state, and drops it once deleted", async () => {
    const conference = (await sup.conferences.create({ rateHz: 8000 })).id;
    for (const call of [calls[0]!, calls[1]!]) await sup.conferences.addMember(conference, { call });
    const members = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#conferences tr[data-call]')].map((r) => ({
          call: r.dataset['call'] ?? '',
          cells: Array.from(r.children).map((c) => c.textContent ?? ''),
        })),
      );
    await page.waitForFunction(() => [...document.querySelectorAll('#conferences tr[data-call]')].length === 2, null, { timeout: 3_000 });
    expect(await page.locator('#conferences caption').textContent()).toBe(`conference ${conference} · 8 kHz · 2 members`);
    // Levels as the mixer measures them: the louder peer's member above the other's, both well above silence.
    await page.waitForFunction(
      () => [...document.querySelectorAll('#conferences tr[data-call]')].every((r) => Number.parseFloat(r.children[1]?.textContent ?? '') > -60),
      null,
      { timeout: 3_000 },
    );
    const rows = await members();
    const level = (id: string): number => Number.parseFloat(rows.find((r) => r.call === id)!.cells[1]!);
    expect(level(calls[0]!)).toBeGreaterThan(level(calls[1]!));
    expect(await page.locator('#conferences meter').count()).toBe(2);
    await sup.conferences.delete(conference);
    await page.waitForFunction(() => [...document.querySelectorAll('#conferences tr[data-call]')].length === 0, null, { timeout: 3_000 });
    expect(await page.locator('#conferences').textContent()).toBe('none');
    expect(consoleErrors).toEqual([]);
  }, 15_000);
});
