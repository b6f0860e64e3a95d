import { HttpError } from './errors.ts';

/** A query string that does not say what the route takes: 400, counted as bad input. */
export function badQuery(message: string): HttpError {
  return new HttpError(400, 'bad_query', message, { badInput: true });
}

/** Refuses a query with other parameters than `allowed`, or one given twice: a mistyped link should say so, not be ignored. */
export function checkQuery(url: URL, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of url.searchParams.keys()) {
    if (!allowed.includes(name)) {
      throw badQuery(
        `unknown query parameter ${JSON.stringify(name.slice(0, 40))} on ${url.pathname}` +
          (allowed.length === 0 ? ' (it takes none)' : ` (it takes: ${allowed.join(', ')})`),
      );
    }
    if (seen.has(name)) throw badQuery(`query parameter "${name}" given twice`);
    seen.add(name);
  }
}

