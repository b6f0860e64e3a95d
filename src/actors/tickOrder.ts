import type { HostedActor } from './Actor.ts';

/** An actor as its worker holds it. */
export interface Hosted {
  readonly id: string;
  readonly kind: string;
  readonly stage: number;
  readonly group: string | undefined;
  readonly actor: HostedActor;
}

/**
 * `list` with `h` in its place: a grouped actor (a call's) inside its group's
 * run of actors, after those of its stage or an earlier one — producers
 * before consumers, and a call's actors back to back, so what one writes the
 * next reads microseconds later rather than after every other call's turn
 * (a tick of 500 calls takes milliseconds). Anything else goes last.
 */
export function insertInGroup(list: readonly Hosted[], h: Hosted): Hosted[] {
  let end = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (h.group !== undefined && list[i]!.group === h.group) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) return [...list, h];
  let at = end;
  while (at > 0 && list[at - 1]!.group === h.group && list[at - 1]!.stage > h.stage) at--;
  return [...list.slice(0, at), h, ...list.slice(at)];
}
