import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The peers stand for the other side of a call (Twilio, OpenAI), so they must
 * not run the engine's code: a mistake shared by both sides passes every
 * test. Follows each peer module's relative imports all the way down.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PEERS = resolve(ROOT, 'test/peers');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every project file a module reaches through relative imports, itself included. */
function reach(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) reach(resolve(dirname(file), spec), seen);
  }
  return seen;
}

describe('test peers', () => {
  const modules = readdirSync(PEERS).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it('are there to check', () => {
    expect(modules).toEqual(expect.arrayContaining(['TwilioClient.ts', 'RealtimeServer.ts', 'TwilioRestServer.ts']));
  });

  it.each(modules)('%s reaches nothing of the engine (src/) nor of the test helpers', (name) => {
    const reached = [...reach(resolve(PEERS, name))].map((f) => relative(ROOT, f));
    expect(reached.filter((f) => !f.startsWith('test/peers/'))).toEqual([]);
  });
});
