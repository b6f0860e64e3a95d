/**
 * The engine's call graph, declared once and held here: which part of `src/`
 * may import which. Read from the source files' import lines, so a new
 * import across a boundary fails here rather than growing into a tangle.
 *
 * - `src/frames/` holds the contracts of shared memory between threads (the
 *   rings, their views, the heartbeat block, the clocks): it imports nothing
 *   else of the engine, so both sides of every contract can import it.
 * - Actors run on worker threads: nothing they load is main-thread code
 *   (supervision, server, calls, legs' main-thread sides).
 * - Configuration is read before anything serves HTTP: it loads no HTTP code.
 * - The main thread is split: the server (`src/server/`, HTTP and WebSocket
 *   routes) and the supervision (`src/supervisor/`: workers, placement,
 *   restarts). Supervision imports no server code and no leg; only its
 *   composition root (`createRuntime.ts`) puts the legs in. The server knows
 *   the runtime through its interface (`Runtime.ts`) alone.
 * - Each leg's main-thread side is one folder (`src/legs/<leg>/`: transport,
 *   sockets, webhook routes) beside its actor (`src/actors/<leg>/`).
 * - The main thread's supervisor, server, calls, legs and command line know
 *   actors only by their descriptors (`ALLOWED_FROM_MAIN`), never by their internals.
 * - `src/wire/` (formats and protocols) sits below actors and supervisor alike.
 * - The load driver (`src/load/`) is a client of the daemon, which it reaches over HTTP,
 *   UDP and WebSockets only: it loads no server, supervision, leg, call, actor or
 *   configuration code, except the helper that starts a worker thread from source or build.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the main thread may import from `src/actors/`, each with the reason it must. */
const ALLOWED_FROM_MAIN: ReadonlyArray<[RegExp, string]> = [
  [/^src\/actors\/registry\.ts$/, 'the list of actor kinds'],
  [/^src\/actors\/ActorKind\.ts$/, 'the descriptor type'],
  [/^src\/actors\/[a-z]+\/kind\.ts$/, "a kind's descriptor: pool, rings, stats, its call-facing constants"],
  [/^src\/actors\/rtp\/RtpLegConfig\.ts$/, 'the RTP leg configuration the RTP transport validates a call request against'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

const STATIC = /^\s*(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm;
const BARE = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The files of this repository one source file imports, as paths from the root (packages and node: left out). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(STATIC), ...text.matchAll(BARE), ...text.matchAll(DYNAMIC)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).split('\\').join('/'));
}

const FILES = sourceFiles('src');
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/** Every file reachable from `from`, with the import chain that reaches it. */
function reachable(from: readonly string[]): Map<string, string[]> {
  const chains = new Map<string, string[]>(from.map((f) => [f, [f]]));
  const queue = [...from];
  while (queue.length > 0) {
    const f = queue.shift()!;
    for (const g of GRAPH.get(f) ?? []) {
      if (chains.has(g)) continue;
      chains.set(g, [...chains.get(f)!, g]);
      queue.push(g);
    }
  }
  return chains;
}

const under = (dir: string) => (f: string) => f.startsWith(`${dir}/`);
const inDirs = (...dirs: string[]) => FILES.filter((f) => dirs.some((d) => under(d)(f) || f === `${d}.ts`));

/** "a → b" for each direct import from `files` that `bad` picks out. */
function directImports(files: readonly string[], bad: (target: string) => boolean): string[] {
  return files.flatMap((f) => GRAPH.get(f)!.filter(bad).map((t) => `${f} → ${t}`));
}

/** The chain to each file reachable from `files` that `bad` picks out. */
function reachedChains(files: readonly string[], bad: (target: string) => boolean): string[] {
  return [...reachable(files)].filter(([f]) => bad(f)).map(([, chain]) => chain.join(' → '));
}

describe('import rules', () => {
  it('reads the import lines it judges (a check that sees nothing would pass anything)', () => {
    expect(FILES.filter(under('src/actors')).length).toBeGreaterThan(40);
    expect(GRAPH.get('src/actors/host.ts')).toContain('src/frames/FrameRing.ts');
    // A multi-line import list, a type-only import and a dynamic import.
    expect(GRAPH.get('src/actors/host.ts')).toContain('src/protocol.ts');
    expect(GRAPH.get('src/supervisor/ActorRecord.ts')).toContain('src/actors/ActorKind.ts');
    expect(GRAPH.get('src/cli/main.ts')).toContain('src/cli/start.ts');
    for (const targets of GRAPH.values()) for (const t of targets) expect(FILES, `an import of a missing file: ${t}`).toContain(t);
  });

  it('frames, the contracts of shared memory, import nothing of the engine above them', () => {
    expect(directImports(inDirs('src/frames'), (t) => !under('src/frames')(t))).toEqual([]);
  });

  it('actors load no main-thread code, directly or through anything they import', () => {
    const mainThread = (t: string) => ['src/supervisor', 'src/server', 'src/legs', 'src/calls'].some((d) => under(d)(t));
    expect(reachedChains(inDirs('src/actors'), mainThread)).toEqual([]);
  });

  it('configuration loads no HTTP code, directly or through anything it imports', () => {
    expect(reachedChains(inDirs('src/config'), under('src/server'))).toEqual([]);
  });

  it('supervision imports no server code and no leg (only its composition root puts the legs in)', () => {
    const supervision = inDirs('src/supervisor').filter((f) => f !== 'src/supervisor/createRuntime.ts');
    expect(directImports(supervision, (t) => under('src/server')(t) || under('src/legs')(t))).toEqual([]);
  });

  it('the server knows the runtime only through its interface', () => {
    expect(directImports(inDirs('src/server'), (t) => under('src/supervisor')(t) && t !== 'src/supervisor/Runtime.ts')).toEqual([]);
  });

  it('the main thread knows actors only by their descriptors', () => {
    const allowed = (t: string) => ALLOWED_FROM_MAIN.some(([re]) => re.test(t));
    expect(directImports(inDirs('src/supervisor', 'src/server', 'src/legs', 'src/calls', 'src/cli'), (t) => under('src/actors')(t) && !allowed(t))).toEqual([]);
  });

  it('the load driver loads none of the daemon beyond the worker starter, directly or through anything it imports', () => {
    const daemon = (t: string) =>
      (['src/server', 'src/supervisor', 'src/legs', 'src/calls', 'src/actors', 'src/config'].some((d) => under(d)(t)) || t === 'src/config.ts') &&
      t !== 'src/supervisor/workerEntry.ts';
    expect(inDirs('src/load').length).toBeGreaterThan(10);
    expect(reachedChains(inDirs('src/load'), daemon)).toEqual([]);
  });

  it('wire formats sit below actors, supervisor, server, legs, calls and configuration', () => {
    const above = (t: string) => ['src/actors', 'src/supervisor', 'src/server', 'src/legs', 'src/calls', 'src/config'].some((d) => under(d)(t)) || t === 'src/config.ts';
    expect(directImports(inDirs('src/wire'), above)).toEqual([]);
  });
});
