/**
 * The local audio a daemon runs with, as `--capture` and `--playback` (and a
 * capture call's `source` and `playback`) say it:
 *
 * | spec           | capture                         | playback              |
 * |----------------|---------------------------------|-----------------------|
 * | `device:NAME`  | a PortAudio input device        | a PortAudio output device |
 * | `file:PATH`    | a WAV file, looped              | —                     |
 * | `tone:HZ`      | a sine tone                     | —                     |
 * | `none`         | no capture call                 | played nowhere        |
 *
 * NAME is a device's name as /status lists it, or a part of it that only one
 * device's name contains.
 */
export type CaptureSpec = { kind: 'device'; name: string } | { kind: 'file'; path: string } | { kind: 'tone'; hz: number } | { kind: 'none' };
export type PlaybackSpec = { kind: 'device'; name: string } | { kind: 'none' };

/** Longest device name or path taken (PortAudio's names are far shorter; PATH_MAX is 4096). */
const MAX_SPEC_CHARS = 4096;

function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function split(text: unknown, what: string, forms: string): [string, string] | 'none' {
  if (typeof text !== 'string') throw new RangeError(`${what}: expected ${forms}, got ${typeof text}`);
  if (text === 'none') return 'none';
  if (text.length > MAX_SPEC_CHARS) throw new RangeError(`${what}: longer than ${MAX_SPEC_CHARS} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new RangeError(`${what}: control characters in ${shown(text)}`);
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw new RangeError(`${what}: expected ${forms}, got ${shown(text)}`);
  return [text.slice(0, colon), text.slice(colon + 1)];
}

const CAPTURE_FORMS = 'device:NAME, file:PATH.wav, tone:HZ or none';
const PLAYBACK_FORMS = 'device:NAME or none';

/** Parses a capture spec; a RangeError says what is wrong. `tone:HZ` takes 20–4000 Hz (below any call's Nyquist rate). */
export function parseCaptureSpec(text: unknown, what = 'capture'): CaptureSpec {
  const parts = split(text, what, CAPTURE_FORMS);
  if (parts === 'none') return { kind: 'none' };
  const [kind, value] = parts;
  switch (kind) {
    case 'device':
      return { kind: 'device', name: value };
    case 'file':
      return { kind: 'file', path: value };
    case 'tone': {
      const hz = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
      if (!(hz >= 20 && hz <= 4000)) throw new RangeError(`${what}: tone:HZ takes 20–4000 Hz, got ${shown(value)}`);
      return { kind: 'tone', hz };
    }
    default:
      throw new RangeError(`${what}: expected ${CAPTURE_FORMS}, got ${shown(text as string)}`);
  }
}

export function parsePlaybackSpec(text: unknown, what = 'playback'): PlaybackSpec {
  const parts = split(text, what, PLAYBACK_FORMS);
  if (parts === 'none') return { kind: 'none' };
  if (parts[0] !== 'device') throw new RangeError(`${what}: expected ${PLAYBACK_FORMS}, got ${shown(text as string)}`);
  return { kind: 'device', name: parts[1] };
}
