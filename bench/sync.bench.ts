/**
 * Stream synchronization's costs (src/sync/, src/wire/clockDrift.ts): the
 * clock-drift estimator on the packet path (every packet, and the Theil–Sen
 * fit over a full minute of blocks once a second), and the sync plan of a
 * 32-member conference at control rate (every SYNC_INTERVAL_MS). Each as
 * time per call and as a share of one core at its real rate: per stream for
 * the estimator (50 packets/s), per conference for the plan.
 */
import { BLOCKS, ClockDriftEstimator } from '../src/wire/clockDrift.ts';
import { newMemberPlan, planSyncDelays, type SyncMemberFigures } from '../src/sync/syncPlan.ts';
import { SYNC_INTERVAL_MS } from '../src/sync/SyncGroups.ts';
import { mulberry32 } from '../test/helpers/prng.ts';
import { bestRates, printTable } from './table.ts';

const PACKETS_PER_S = 50;
const MEMBERS = 32;

/** A stream 100 ppm fast with up to 30 ms of jitter, its estimator filled with a minute of blocks. */
function driftStream(): () => void {
  const est = new ClockDriftEstimator(8000);
  const rng = mulberry32(7);
  let k = 0;
  const step = (): void => {
    const arrivalMs = k * 20 * (1 - 100e-6) + rng() * 30;
    est.add(arrivalMs, (k * 160) >>> 0);
    k++;
  };
  for (let i = 0; i < (BLOCKS + 2) * PACKETS_PER_S; i++) step();
  return step;
}

/** One fit's worth of packets at once: the block close and its fit, timed alone. */
function driftFit(): () => void {
  const step = driftStream();
  return () => {
    for (let i = 0; i < PACKETS_PER_S; i++) step();
  };
}

function conferencePlan(): () => void {
  const rng = mulberry32(11);
  const figures: SyncMemberFigures[] = Array.from({ length: MEMBERS }, (_, i) => ({
    playedRtpTimestamp: 1000,
    playedAtMs: 1_760_000_000_000,
    playedDelayMs: 40 + rng() * 40,
    ownTargetDelayMs: 40 + rng() * 40,
    playedWallclockMs: i % 4 === 0 ? Number.NaN : 1_760_000_000_000 - 60 - rng() * 80,
    syncDelayMs: rng() * 30,
    heardAfterMs: rng() * 20,
  }));
  const plans = figures.map(() => newMemberPlan());
  return () => {
    planSyncDelays(figures, plans);
  };
}

export default function main(): void {
  const [perPacket, perSecond, plan] = bestRates([driftStream(), driftFit(), conferencePlan()]);
  const row = (what: string, perS: number, realRate: number, unit: string) => ({
    what,
    'µs per call': (1e6 / perS).toFixed(2),
    'calls per CPU-s': Math.round(perS),
    'real rate': `${realRate}/s ${unit}`,
    '% of a core': ((realRate / perS) * 100).toFixed(4),
  });
  printTable('stream sync: CPU per call, and as a share of one core at its real rate', [
    row('drift estimator, one packet (fit amortized)', perPacket!, PACKETS_PER_S, 'per stream'),
    row(`drift estimator, one second of packets incl. the ${BLOCKS}-block fit`, perSecond!, 1, 'per stream'),
    row(`sync plan, ${MEMBERS}-member conference`, plan!, 1000 / SYNC_INTERVAL_MS, 'per conference'),
  ]);
}
