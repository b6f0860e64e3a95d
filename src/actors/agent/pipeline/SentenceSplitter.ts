/**
 * Cuts the model's streamed text into sentences as it arrives, so speech can
 * start on the first complete sentence while the model still writes the rest.
 *
 * A sentence ends at `.`, `!`, `?` or `…` (also the CJK full stops) followed
 * by white space, or at a line break. A full stop after a single capital
 * letter or a known abbreviation ("Dr.", "e.g.") or between digits ("3.5")
 * does not end one. Text after the last boundary waits for more, or for
 * `flush` at the end of the reply. Control rate: allocates strings.
 */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'approx']);
const TERMINATORS = '.!?…。！？';
/** A sentence longer than this is cut at its last space, so a run-on reply still starts speaking. */
export const MAX_SENTENCE_CHARS = 400;

export class SentenceSplitter {
  #pending = '';

  /** Adds streamed text; returns the sentences it completed (trimmed, non-empty). */
  push(text: string): string[] {
    this.#pending += text;
    const out: string[] = [];
    let start = 0;
    const s = this.#pending;
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      let end = -1;
      if (i - start >= MAX_SENTENCE_CHARS) {
        // Checked first, so a run-on of anything (terminators too) still gets cut.
        const space = s.lastIndexOf(' ', i);
        end = space > start ? space : i;
      } else if (c === '\n') end = i;
      else if (TERMINATORS.includes(c)) {
        // Runs of terminators and closing quotes belong to the sentence ("Really?!", 'Yes."').
        // Bounded: a run longer than a sentence is cut as one (above) instead of waiting for its end.
        const limit = Math.min(s.length, start + MAX_SENTENCE_CHARS);
        let j = i + 1;
        while (j < limit && (TERMINATORS.includes(s[j]!) || `"')”’»`.includes(s[j]!))) j++;
        if (j >= s.length) break; // the next chunk decides
        const cjk = '。！？'.includes(c);
        if ((cjk || /\s/.test(s[j]!)) && !(c === '.' && this.#notAnEnd(s, start, i))) end = j - 1;
        i = j - 1;
      }
      if (end >= 0) {
        const sentence = s.slice(start, end + 1).trim();
        if (sentence !== '') out.push(sentence);
        start = end + 1;
        i = end;
      }
    }
    this.#pending = s.slice(start);
    return out;
  }

  /** The end of the reply: what is left is the last sentence (or nothing). */
  flush(): string | undefined {
    const rest = this.#pending.trim();
    this.#pending = '';
    return rest === '' ? undefined : rest;
  }

  reset(): void {
    this.#pending = '';
  }

  /** A full stop at `dot` after an abbreviation or a lone capital, or inside a number. */
  #notAnEnd(s: string, start: number, dot: number): boolean {
    const word = /([\p{L}.]+)$/u.exec(s.slice(start, dot))?.[1] ?? '';
    if (ABBREVIATIONS.has(word.toLowerCase())) return true;
    if (/^\p{Lu}$/u.test(word)) return true;
    return /\d$/.test(s.slice(start, dot)) && /^\d/.test(s.slice(dot + 1));
  }
}
