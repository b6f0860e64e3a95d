/**
 * The delays that make the streams of a sync group play the same sender
 * instant at the same local instant — the inter-stream synchronization of
 * RFC 3550 §6.4.1 (an SR's NTP and RTP timestamps name one instant, so every
 * stream's samples map to a common wallclock), done as WebRTC's lip sync
 * does it: by holding more delay in the jitter buffers of the streams that
 * would play early, never by dropping audio.
 *
 * Each member's lag is when it plays a sample less when that sample was
 * taken. It splits into a part the network and the clocks fix (`netMs`: the
 * sample's earliest possible arrival less its sender wallclock, which is the
 * least one-way delay less the sender's clock offset) and the buffer's delay
 * as heard. A member without SRs (Twilio, a sender without wallclock) has no
 * wallclock for its samples: it falls back to arrival time, netMs = 0, as
 * though each sample were taken when the fastest of its packets came. An SR
 * wallclock says how the SR senders stand to each other, not to our clock
 * (a PBX's NTP time may be seconds off): in a group that mixes the two, the
 * SR members' net parts are taken relative to the least of them, so they are
 * aligned with each other and the earliest of them with the arrival-time
 * members, and no sender's clock offset turns into delay.
 *
 * The group plays at the largest lag any member needs for itself (its net
 * part plus its own jitter target), so no member's buffer is cut below what
 * its jitter needs: each member's sync delay is that lag less its own need.
 * The buffer reaches its target on a 20 ms grid with stretching (Playout.ts),
 * so the lag it ends up at can differ from the target by up to a frame; a
 * slow trim, integrated from each member's measured lag against the
 * group's, takes that residue out. Pure and allocation-light: runs at
 * control rate (SyncGroups.ts).
 */

/** What the plan reads of one member (from its jitter actor's and RTP leg's stats). */
export interface SyncMemberFigures {
  /** The last played packet's RTP timestamp, when its first sample plays (epoch ms), its delay as heard (ms). */
  playedRtpTimestamp: number;
  playedAtMs: number;
  playedDelayMs: number;
  /** The jitter target the stream needs for itself, ms. */
  ownTargetDelayMs: number;
  /** The sender wallclock (epoch ms) of the played sample by the stream's SRs; NaN without them. */
  playedWallclockMs: number;
  /** The sync delay the buffer holds now (the last plan it was given), ms. */
  syncDelayMs: number;
  /** How long its frames wait past the buffer before they are heard (a conference mixer's pick-up), ms; 0 or absent: none. */
  heardAfterMs?: number;
}

/** A member's plan state across passes. */
export interface SyncMemberPlan {
  /** Integrated correction, ms. */
  trimMs: number;
  /** The sync delay to hold, ms (the output). */
  delayMs: number;
  /** Measured lag (NaN before it plays), its net part, and whether it is mapped by SRs. */
  lagMs: number;
  netMs: number;
  mapped: boolean;
}

/** Residual lag differences smaller than this are left alone: the grid quantizes the delay held, so chasing them would hunt. */
export const TRIM_DEADBAND_MS = 6;
/** Share of a residual taken out per pass: half, so a pass that overshoots does not oscillate. */
export const TRIM_GAIN = 0.5;
/** The trim corrects quantization, a frame or two at most. */
export const TRIM_LIMIT_MS = 40;
/** A buffer within this of its target (own + sync) has got there: only then is its residual the grid's, not the way still to go. */
export const SETTLED_MS = 20;

export function newMemberPlan(): SyncMemberPlan {
  return { trimMs: 0, delayMs: 0, lagMs: Number.NaN, netMs: 0, mapped: false };
}

/**
 * One pass over a group: reads each member's figures (undefined: not
 * playing yet, left out) and updates its plan in place. Returns the lag
 * spread among the members that play (max − min, ms; 0 with fewer than two).
 */
export function planSyncDelays(figures: ReadonlyArray<SyncMemberFigures | undefined>, plans: SyncMemberPlan[]): number {
  let needMax = -Infinity;
  let lagMin = Infinity;
  let lagMax = -Infinity;
  let playing = 0;
  let mappedNetMin = Infinity;
  let mappedMinWait = 0;
  let unmapped = 0;
  for (let i = 0; i < figures.length; i++) {
    const f = figures[i];
    const p = plans[i]!;
    if (f === undefined || !Number.isFinite(f.playedAtMs) || !Number.isFinite(f.playedDelayMs)) {
      p.lagMs = Number.NaN;
      continue;
    }
    p.lagMs = 0; // playing: set below
    // What waits past the buffer is part of when a sample is heard, by wallclock or by arrival alike.
    const wait = waitOf(f);
    p.mapped = Number.isFinite(f.playedWallclockMs);
    p.netMs = p.mapped ? f.playedAtMs + wait - f.playedWallclockMs - f.playedDelayMs : wait;
    if (!p.mapped) unmapped++;
    else if (p.netMs < mappedNetMin) {
      mappedNetMin = p.netMs;
      mappedMinWait = wait;
    }
  }
  // Mixed group: the SR members relative to the earliest of them, which is placed as an arrival-time member would be (see above).
  const shift = unmapped > 0 && mappedNetMin < Infinity ? mappedNetMin - mappedMinWait : 0;
  for (let i = 0; i < figures.length; i++) {
    const f = figures[i];
    const p = plans[i]!;
    if (f === undefined || Number.isNaN(p.lagMs)) continue;
    if (p.mapped) p.netMs -= shift;
    p.lagMs = p.netMs + f.playedDelayMs;
    const need = p.netMs + f.ownTargetDelayMs;
    if (need > needMax) needMax = need;
    if (p.lagMs < lagMin) lagMin = p.lagMs;
    if (p.lagMs > lagMax) lagMax = p.lagMs;
    playing++;
  }
  if (playing < 2) {
    for (const p of plans) p.delayMs = 0;
    return 0;
  }
  // The residue is each buffer's miss: the delay it plays at less the delay it was asked for (own + sync), plus its trim.
  let missSum = 0;
  for (let i = 0; i < figures.length; i++) {
    const p = plans[i]!;
    if (!Number.isNaN(p.lagMs)) missSum += missOf(figures[i]!) + p.trimMs;
  }
  const missMean = missSum / playing;
  let least = Infinity;
  for (let i = 0; i < figures.length; i++) {
    const p = plans[i]!;
    if (Number.isNaN(p.lagMs)) continue;
    const f = figures[i]!;
    const miss = missOf(f);
    const residual = miss + p.trimMs - missMean;
    // Only a buffer that holds the delay last planned and got near it shows a residue, not the way still to go.
    const settled = Math.abs(f.syncDelayMs - p.delayMs) < 1 && Math.abs(miss) <= SETTLED_MS;
    if (settled && Math.abs(residual) > TRIM_DEADBAND_MS) {
      p.trimMs = Math.max(-TRIM_LIMIT_MS, Math.min(TRIM_LIMIT_MS, p.trimMs - TRIM_GAIN * residual));
    }
    p.delayMs = needMax - (p.netMs + f.ownTargetDelayMs) + p.trimMs;
    if (p.delayMs < least) least = p.delayMs;
  }
  // The trims move members against each other; the group as a whole is held no later than it must be.
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    p.delayMs = Number.isNaN(p.lagMs) ? 0 : p.delayMs - least;
  }
  return lagMax - lagMin;
}

function waitOf(f: SyncMemberFigures): number {
  const w = f.heardAfterMs;
  return w !== undefined && Number.isFinite(w) && w > 0 ? w : 0;
}

/** How far the buffer's delay as heard is from the delay it was asked to hold, ms. */
function missOf(f: SyncMemberFigures): number {
  return f.playedDelayMs - f.ownTargetDelayMs - f.syncDelayMs;
}
