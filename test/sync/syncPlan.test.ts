import { describe, expect, it } from 'vitest';
import { newMemberPlan, planSyncDelays, TRIM_LIMIT_MS, type SyncMemberFigures } from '../../src/sync/syncPlan.ts';

const NOW = 1_760_000_000_000;

/**
 * A member whose sender's clock is `aheadMs` ahead of ours, whose packets
 * take at least `netDelayMs`, and whose buffer holds `ownTargetMs` plus the
 * sync delay it was given (as heard, exactly: a buffer that got there).
 */
function member(o: { netDelayMs: number; aheadMs: number; ownTargetMs: number; syncDelayMs: number; mapped?: boolean }): SyncMemberFigures {
  const playedDelayMs = o.ownTargetMs + o.syncDelayMs;
  const playedAtMs = NOW;
  // The sample playing now was taken netDelay + delay ago, by the sender's clock that reads aheadMs more.
  const takenAtMs = playedAtMs - o.netDelayMs - playedDelayMs + o.aheadMs;
  return {
    playedRtpTimestamp: 1234,
    playedAtMs,
    playedDelayMs,
    ownTargetDelayMs: o.ownTargetMs,
    syncDelayMs: o.syncDelayMs,
    playedWallclockMs: o.mapped === false ? Number.NaN : takenAtMs,
  };
}

describe('planSyncDelays', () => {
  it('delays the members that would play early by exactly their lead; the latest members get none', () => {
    const plans = [newMemberPlan(), newMemberPlan(), newMemberPlan()];
    const spread = planSyncDelays(
      [
        member({ netDelayMs: 10, aheadMs: 300, ownTargetMs: 40, syncDelayMs: 0 }),
        member({ netDelayMs: 70, aheadMs: 300, ownTargetMs: 40, syncDelayMs: 0 }),
        member({ netDelayMs: 10, aheadMs: 300, ownTargetMs: 100, syncDelayMs: 0 }),
      ],
      plans,
    );
    expect(spread).toBeCloseTo(60, 6);
    // Needs: 10 + 40, 70 + 40, 10 + 100: the group plays at 110 ms.
    expect(plans.map((p) => Math.round(p.delayMs))).toEqual([60, 0, 0]);
    // Once they hold those delays, every member's lag is the same.
    planSyncDelays(
      [
        member({ netDelayMs: 10, aheadMs: 300, ownTargetMs: 40, syncDelayMs: 60 }),
        member({ netDelayMs: 70, aheadMs: 300, ownTargetMs: 40, syncDelayMs: 0 }),
        member({ netDelayMs: 10, aheadMs: 300, ownTargetMs: 100, syncDelayMs: 0 }),
      ],
      plans,
    );
    const lags = plans.map((p) => p.lagMs);
    expect(Math.max(...lags) - Math.min(...lags)).toBeCloseTo(0, 6);
    expect(plans.every((p) => p.mapped)).toBe(true);
  });

  it('places a member without SRs by arrival time, and leaves out one that does not play yet', () => {
    const plans = [newMemberPlan(), newMemberPlan(), newMemberPlan()];
    planSyncDelays(
      [member({ netDelayMs: 0, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 0 }), member({ netDelayMs: 999, aheadMs: 0, ownTargetMs: 80, syncDelayMs: 0, mapped: false }), undefined],
      plans,
    );
    expect(plans[1]!.mapped).toBe(false);
    expect(plans[1]!.netMs).toBe(0);
    expect(plans.map((p) => p.delayMs)).toEqual([40, 0, 0]);
    expect(plans[2]!.lagMs).toBeNaN();
  });

  it('aligns SR members with each other and not with their clock offset when the group also has arrival-time members', () => {
    const plans = [newMemberPlan(), newMemberPlan(), newMemberPlan()];
    // Two SR senders whose wallclocks read 250 ms ahead of ours (one 60 ms further away), one member without SRs.
    const figs = (d: number[]): SyncMemberFigures[] => [
      member({ netDelayMs: 5, aheadMs: 250, ownTargetMs: 40, syncDelayMs: d[0]! }),
      member({ netDelayMs: 65, aheadMs: 250, ownTargetMs: 40, syncDelayMs: d[1]! }),
      member({ netDelayMs: 5, aheadMs: 0, ownTargetMs: 40, syncDelayMs: d[2]!, mapped: false }),
    ];
    planSyncDelays(figs([0, 0, 0]), plans);
    // The near SR member waits 60 ms for the far one, and the offset costs no one delay: the far one (the latest) gets none.
    expect(plans.map((p) => Math.round(p.delayMs))).toEqual([60, 0, 60]);
    expect(plans.map((p) => p.mapped)).toEqual([true, true, false]);
    planSyncDelays(figs(plans.map((p) => p.delayMs)), plans);
    expect(Math.abs(plans[0]!.lagMs - plans[1]!.lagMs)).toBeLessThan(1e-6);
  });

  it('counts what a member waits past its buffer (a conference mixer picking its frames up later), with SRs or by arrival', () => {
    for (const mapped of [true, false]) {
      const plans = [newMemberPlan(), newMemberPlan()];
      planSyncDelays(
        [
          member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 0, mapped }),
          { ...member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 0, mapped }), heardAfterMs: 15 },
        ],
        plans,
      );
      expect(plans.map((p) => Math.round(p.delayMs))).toEqual([15, 0]);
      expect(plans[1]!.lagMs - plans[0]!.lagMs).toBeCloseTo(15, 6);
    }
  });

  it('takes out what the buffer grid leaves, within bounds, and gives a lone member nothing', () => {
    const plans = [newMemberPlan(), newMemberPlan()];
    // Both settled at their plan (0, 0) but one plays 18 ms later than it was asked to (a grid point away).
    const figs = (s0: number, s1: number): SyncMemberFigures[] => [
      member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: s0 }),
      { ...member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: s1 }), playedDelayMs: 58 + s1, playedWallclockMs: NOW - 10 - 58 - s1 },
    ];
    planSyncDelays(figs(0, 0), plans);
    expect(plans[0]!.delayMs).toBeGreaterThan(0); // the early one waits
    expect(plans[1]!.delayMs).toBe(0);
    for (let i = 0; i < 50; i++) planSyncDelays(figs(plans[0]!.delayMs, plans[1]!.delayMs), plans);
    expect(Math.abs(plans[0]!.trimMs)).toBeLessThanOrEqual(TRIM_LIMIT_MS);
    const solo = [newMemberPlan()];
    expect(planSyncDelays([member({ netDelayMs: 5, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 30 })], solo)).toBe(0);
    expect(solo[0]!.delayMs).toBe(0);
  });

  it('ignores members with non-finite figures (a hostile or broken stats slot)', () => {
    const plans = [newMemberPlan(), newMemberPlan()];
    const bad = { ...member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 0 }), playedDelayMs: Number.NaN };
    expect(planSyncDelays([bad, member({ netDelayMs: 10, aheadMs: 0, ownTargetMs: 40, syncDelayMs: 0 })], plans)).toBe(0);
    expect(plans.map((p) => p.delayMs)).toEqual([0, 0]);
  });
});
