import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The Dockerfile, checked for structure where no image builder runs: stages,
 * the unprivileged user, where each COPY reads from, and that the build
 * context (after .dockerignore) holds every source the build stage copies.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const text = readFileSync(`${ROOT}Dockerfile`, 'utf8');
/** Instructions with continuation lines joined and comments dropped. */
const instructions = text
  .replace(/\\\n(?:\s*#.*\n)*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest };
  });
const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

interface Stage {
  name: string;
  lines: typeof instructions;
}
const stages: Stage[] = [];
for (const i of instructions) {
  if (i.op === 'FROM') stages.push({ name: i.args[2] ?? String(stages.length), lines: [] });
  else stages.at(-1)?.lines.push(i);
}
const build = stages[0]!;
const runtime = stages.at(-1)!;

describe('Dockerfile', () => {
  it('builds in one stage and runs from another, on Node 20', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const from of instructions.filter((i) => i.op === 'FROM')) expect(from.args[0]).toMatch(/^node:20[-.]/);
  });

  it('installs with npm ci and builds the WASM and dist in the build stage; only production modules go on', () => {
    const runs = build.lines.filter((i) => i.op === 'RUN').map((i) => i.args.join(' '));
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
    // `npm run build` is build:wasm (asc) then build:ts (package.json).
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toContain('build:wasm');
    expect(runs.some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev'))).toBe(true);
    expect(runtime.lines.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args.join(' ')))).toBe(false);
  });

  it('runs as a user that is not root', () => {
    const users = runtime.lines.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    expect(users[0]!.args[0]).not.toMatch(/^(root|0)(:|$)/);
    // Nothing after USER switches back or needs root.
    expect(runtime.lines.slice(runtime.lines.indexOf(users[0]!)).some((i) => i.op === 'RUN')).toBe(false);
  });

  it('copies into the build stage only what exists and the build context keeps', () => {
    const copies = build.lines.filter((i) => i.op === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      expect(c.args.some((a) => a.startsWith('--from'))).toBe(false);
      for (const src of c.args.slice(0, -1).filter((a) => !a.startsWith('--'))) {
        expect(existsSync(`${ROOT}${src}`), src).toBe(true);
        expect(ignored.some((p) => p === src || src.startsWith(`${p}/`)), `${src} is in .dockerignore`).toBe(false);
      }
    }
    // What `switchboard start` loads from outside dist/: the release WASM (src/dsp/wasm.ts) and the bin script.
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'build']));
  });

  it('gives the runtime stage only build outputs the daemon loads, and starts the daemon', () => {
    const copies = runtime.lines.filter((i) => i.op === 'COPY');
    const sources = copies.map((c) => {
      expect(c.args[0]).toBe('--from=build');
      return c.args[1]!.replace(/^\/app\//, '');
    });
    expect(sources.sort()).toEqual(['bin', 'build/dsp.wasm', 'dist', 'node_modules', 'package.json']);
    // They exist after `npm run build` here too (the same layout as /app).
    for (const s of sources) expect(existsSync(`${ROOT}${s}`), s).toBe(true);
    const entry = runtime.lines.find((i) => i.op === 'ENTRYPOINT')!;
    expect(JSON.parse(entry.args.join(' '))).toEqual(['node', 'bin/switchboard.js']);
    const cmd = runtime.lines.find((i) => i.op === 'CMD')!;
    expect(JSON.parse(cmd.args.join(' '))).toEqual(['start']);
  });
});
