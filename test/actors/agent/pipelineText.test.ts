import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePipelineAgentConfig } from '../../../src/actors/agent/pipeline/PipelineAgentConfig.ts';
import { MAX_SENTENCE_CHARS, SentenceSplitter } from '../../../src/actors/agent/pipeline/SentenceSplitter.ts';
import { cutAtWord } from '../../../src/actors/agent/pipeline/SpokenSentences.ts';

/** Streams `text` through a splitter in the given pieces; the sentences, then what flush left. */
function split(pieces: string[]): string[] {
  const s = new SentenceSplitter();
  const out = pieces.flatMap((p) => s.push(p));
  const rest = s.flush();
  return rest === undefined ? out : [...out, rest];
}

/** `text` cut at the given places (sorted, deduplicated). */
function pieces(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
  const out: string[] = [];
  let from = 0;
  for (const c of at) {
    out.push(text.slice(from, c));
    from = c;
  }
  out.push(text.slice(from));
  return out;
}

const squash = (t: string): string => t.replace(/\s+/g, '');

describe('SentenceSplitter', () => {
  it('ends sentences at terminators followed by space or a line break, not after abbreviations, initials or inside numbers', () => {
    expect(split(['Hello there. How are', ' you? Fine!\nNext'])).toEqual(['Hello there.', 'How are you?', 'Fine!', 'Next']);
    expect(split(['Dr. Smith paid 3.5 dollars, e.g. a tip. J. R. agreed.'])).toEqual(['Dr. Smith paid 3.5 dollars, e.g. a tip.', 'J. R. agreed.']);
    expect(split(['Really?!" she said. ', '好的。谢谢！'])).toEqual(['Really?!"', 'she said.', '好的。', '谢谢！']);
  });

  it('gives the same sentences however the stream is cut, loses and adds no text, and never holds more than a sentence', () => {
    const text = fc.stringMatching(/^[A-Za-z .!?\n…"3]{0,600}$/);
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 12 }), (t, cuts) => {
        const whole = split([t]);
        const streamed = split(pieces(t, cuts));
        expect(streamed).toEqual(whole);
        expect(squash(whole.join(''))).toBe(squash(t));
        for (const s of whole) expect(s.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('cuts run-ons of anything, terminators included, at the sentence bound, in linear time', () => {
    for (const unit of ['word ', '!', '.', 'x', '?" ']) {
      const s = new SentenceSplitter();
      let out = 0;
      let chars = 0;
      // 200 KB in 20-character pieces: a quadratic rescan would take minutes.
      for (let i = 0; i < 10_000; i++) {
        const piece = unit.repeat(Math.ceil(20 / unit.length)).slice(0, 20);
        for (const sentence of s.push(piece)) {
          expect(sentence.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS + 1);
          out++;
          chars += sentence.length;
        }
      }
      expect(out, unit).toBeGreaterThan(400);
      expect(chars + (s.flush()?.length ?? 0)).toBeGreaterThan(190_000 * (unit.trim().length / unit.length));
    }
  });
});

describe('cutAtWord', () => {
  it('cuts at the word boundary nearest the share heard', () => {
    expect(cutAtWord('Then a second one follows it now.', 0.5)).toBe('Then a second one');
    expect(cutAtWord('Then a second one follows it now.', 0)).toBe('');
    expect(cutAtWord('Then a second one follows it now.', 1)).toBe('Then a second one follows it now.');
    expect(cutAtWord('Unbreakable', 0.4)).toBe('');
    expect(cutAtWord('Unbreakable', 0.6)).toBe('Unbreakable');
  });

  it('always returns a prefix of whole words, longer as more is heard', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8}){0,12}$/), fc.double({ min: -1, max: 2, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), (t, share, more) => {
        const cut = cutAtWord(t, share);
        expect(t.startsWith(cut)).toBe(true);
        expect(cut === '' || cut === t || t[cut.length] === ' ').toBe(true);
        expect(cutAtWord(t, share + more).length).toBeGreaterThanOrEqual(cut.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parsePipelineAgentConfig', () => {
  const good = {
    agent: 'pipeline',
    rateHz: 16000,
    pipeline: {
      hangoverMs: 500,
      timeoutMs: 5000,
      stt: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'whisper-1' },
      llm: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'm', instructions: '' },
      tts: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'tts-1', voice: 'alloy' },
    },
  };
  type Patch = (c: any) => void;
  const bad: Array<[string, Patch, RegExp]> = [
    ['rate', (c) => (c.rateHz = 11025), /rateHz must be one of/],
    ['no section', (c) => delete c.pipeline, /missing the pipeline section/],
    ['section an array', (c) => (c.pipeline = []), /missing the pipeline section/],
    ['stage not an object', (c) => (c.pipeline.stt = 'x'), /stt must be an object \[got:string\]/],
    ['hangover text', (c) => (c.pipeline.hangoverMs = '500'), /hangoverMs must be an integer 20–5000 \[got:500\]/],
    ['hangover huge', (c) => (c.pipeline.hangoverMs = 1e12), /hangoverMs must be an integer/],
    ['timeout fraction', (c) => (c.pipeline.timeoutMs = 100.5), /timeoutMs must be an integer/],
    ['timeout NaN', (c) => (c.pipeline.timeoutMs = Number.NaN), /timeoutMs must be an integer/],
    ['base URL not a URL', (c) => (c.pipeline.llm.baseUrl = 'not a url'), /llm\.baseUrl must be an http\(s\) URL/],
    ['base URL file:', (c) => (c.pipeline.tts.baseUrl = 'file:///etc/passwd'), /tts\.baseUrl must be an http\(s\) URL/],
    ['base URL long', (c) => (c.pipeline.stt.baseUrl = `ftp://${'é'.repeat(10_000)}`), /stt\.baseUrl must be an http\(s\) URL \[got:.{1,80}\]$/],
    ['model empty', (c) => (c.pipeline.stt.model = ''), /stt\.model must be a non-empty string/],
    ['key a number', (c) => (c.pipeline.llm.apiKey = 42), /llm\.apiKey must be a non-empty string \[got:number\]/],
    ['voice missing', (c) => delete c.pipeline.tts.voice, /tts\.voice must be a non-empty string \[got:undefined\]/],
    ['tools an object', (c) => (c.pipeline.llm.tools = {}), /llm\.tools must be an array/],
    ['stream a string', (c) => (c.pipeline.stt.stream = 'yes'), /stt\.stream must be a boolean/],
  ];
  it.each(bad)('refuses %s with a RangeError naming the field', (_name, patch, message) => {
    const c = structuredClone(good);
    patch(c);
    expect(() => parsePipelineAgentConfig(c)).toThrow(RangeError);
    expect(() => parsePipelineAgentConfig(c)).toThrow(message);
  });

  it('takes a good configuration', () => {
    expect(parsePipelineAgentConfig(good)).toMatchObject({ rateHz: 16000, hangoverMs: 500, stt: { stream: false }, llm: { tools: [] } });
  });
});
