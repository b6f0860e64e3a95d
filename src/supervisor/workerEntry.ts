import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker entry. Built code runs `dist/**.worker.js` directly; source
 * code (tests, `tsx`) runs the `.ts` entry through tsx's loader, so tests
 * exercise the same files the daemon ships rather than a build output.
 * Node 20 does not apply `--import` loaders given in a worker's execArgv, so a
 * source worker starts from a two-line bootstrap that registers tsx in the
 * worker and then imports the entry.
 *
 * @param base the caller's `import.meta.url`
 * @param stem the entry's path relative to the caller, without extension
 */
export function workerEntry(base: string, stem: string): { url: URL; fromSource: boolean } {
  const fromSource = base.endsWith('.ts');
  return { url: new URL(`${stem}${fromSource ? '.ts' : '.js'}`, base), fromSource };
}

export function startWorker(base: string, stem: string, options: WorkerOptions = {}): Worker {
  const { url, fromSource } = workerEntry(base, stem);
  if (!fromSource) return new Worker(url, options);
  const tsxApi = pathToFileURL(
    createRequire(base).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs'),
  ).href;
  const bootstrap =
    `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); ` +
    `return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
