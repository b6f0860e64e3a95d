/**
 * `npm run bench [-- name…]`: runs bench/<name>.bench.ts (all of them when no
 * name is given), each printing its tables. Benchmarks run one after another
 * so they do not compete for the two cores.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n# ${name}`);
  const mod = (await import(new URL(`./${name}.bench.ts`, import.meta.url).href)) as {
    default: () => Promise<void> | void;
  };
  await mod.default();
}
