/**
 * The run's progress line: on a terminal one line rewritten in place; to a
 * pipe or file a line every few seconds (no control characters in logs).
 */
const PLAIN_EVERY_MS = 5000;

export class ProgressLine {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #tty: boolean;
  #lastPlain = 0;
  #shown = false;

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  update(line: string): void {
    if (this.#tty) {
      const width = (this.#out.columns ?? 120) - 1;
      // \r back to the start, the line cut to the terminal's width, then erase to the end of the line.
      this.#out.write(`\r${line.slice(0, width)}\x1b[K`);
      this.#shown = true;
      return;
    }
    const now = Date.now();
    if (now - this.#lastPlain < PLAIN_EVERY_MS) return;
    this.#lastPlain = now;
    this.#out.write(`${line}\n`);
  }

  /** Ends the updating line, so what follows starts on its own. */
  end(): void {
    if (this.#tty && this.#shown) this.#out.write('\n');
    this.#shown = false;
  }
}
