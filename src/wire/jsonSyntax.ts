/**
 * JSON parsing that says where a document goes wrong. V8's `JSON.parse`
 * messages name a position only for some errors (Node 20: `Unexpected token
 * '}', "{"a":}" is not valid JSON` has none), so on failure a small scanner
 * of the RFC 8259 grammar finds the first offending byte and what was
 * expected there. The scanner runs only after `JSON.parse` has failed, and it
 * is iterative so that deeply nested input cannot overflow the stack.
 */

export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; position: number; line: number; column: number };

export function parseJson(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const found = findSyntaxError(text);
    // The scanner and V8 agree on the grammar; should they ever not, V8's word stands.
    const { position, expected } = found ?? { position: 0, expected: (err as Error).message };
    const { line, column } = lineAndColumn(text, position);
    const at = position >= text.length ? 'end of input' : `${JSON.stringify(text[position])}`;
    return {
      ok: false,
      message: `${expected}, found ${at} at line ${line}, column ${column} (position ${position})`,
      position,
      line,
      column,
    };
  }
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

/**
 * The open containers, innermost last, so the scanner needs no recursion:
 * `[` or `{` before their first element, `]` or `}` (their closer) after it.
 */
type Frame = '[' | '{' | ']' | '}';

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findSyntaxError(text: string): { position: number; expected: string } | undefined {
  let i = 0;
  const stack: Frame[] = [];
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const fail = (expected: string): { position: number; expected: string } => ({ position: i, expected });

  /** Scans a string starting at its quote; returns an error or undefined. */
  const string = (): { position: number; expected: string } | undefined => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return fail('expected a closing \'"\' (control characters must be escaped)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return fail('expected four hex digits after \\u');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          return fail('expected an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        }
      } else {
        i++;
      }
    }
    return fail('expected a closing \'"\'');
  };

  const digits = (): number => {
    const from = i;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i - from;
  };

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 §6), failing at the first byte that cannot follow. */
  const number = (): { position: number; expected: string } | undefined => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (digits() === 0) return fail('expected a digit');
    if (text[i] === '.') {
      i++;
      if (digits() === 0) return fail("expected a digit after '.'");
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (digits() === 0) return fail('expected a digit in the exponent');
    }
    return undefined;
  };

  /** Scans one value; containers push a frame and return with `i` after the opener. */
  const value = (): { position: number; expected: string } | undefined => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      stack.push('{');
      return undefined;
    }
    if (c === '[') {
      i++;
      stack.push('[');
      return undefined;
    }
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return undefined;
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    return fail('expected a value');
  };

  /** Scans `"key" :` inside an object. */
  const member = (): { position: number; expected: string } | undefined => {
    ws();
    if (text[i] !== '"') return fail('expected a property name in double quotes');
    const bad = string();
    if (bad !== undefined) return bad;
    ws();
    if (text[i] !== ':') return fail("expected ':' after a property name");
    i++;
    return value();
  };

  let bad = value();
  while (bad === undefined && stack.length > 0) {
    ws();
    const top = stack[stack.length - 1]!;
    const close = top === '[' || top === ']' ? ']' : '}';
    const first = top === '[' || top === '{';
    if (text[i] === close) {
      i++;
      stack.pop();
      continue;
    }
    if (!first) {
      if (text[i] !== ',') {
        bad = fail(`expected ',' or '${close}'`);
        break;
      }
      i++;
    }
    stack[stack.length - 1] = close;
    bad = close === ']' ? value() : member();
  }
  if (bad !== undefined) return bad;
  ws();
  return i < text.length ? fail('expected the end of the document') : undefined;
}
