/** The playout's tuning (Playout.ts): each figure with the reason for it. */

/** How far below target silence is padded with comfort noise (a whole frame moves the delay by 20 ms). */
export const STRETCH_MARGIN_MS = 10;
/** Half the pull grid: a silent frame is dropped (added) when the delay is a grid step above (below) the point held. */
export const HALF_FRAME_MS = 10;
/** Above this recent loss rate the target gets a floor for look-ahead (see `targetMs`). */
export const LOSS_HEADROOM_RATE = 0.02;
/**
 * While packets are being lost (and jitter is under a frame), the target is at
 * least minDelayMs + this: the packet after a loss of one or two frames is then
 * buffered, and the gap is interpolated (Concealer.concealBefore) rather than
 * extrapolated. On clean.wav, 5 seeds, 10% uniform / Gilbert-Elliott loss:
 * no headroom 3.42 / 3.22 PLCMOS, 20 ms 4.00 / 3.60, 40 ms 4.11 / 3.73, 60 ms
 * 4.12 / 3.58; with bursts interpolated pitch-synchronously (Concealer) 40 ms
 * gives 4.09 / 3.84 and 60 ms 4.15 / 3.88, for 20 ms more delay.
 */
export const LOSS_HEADROOM_MS = 40;
export const FRAME_MS = 20;
/** The grid point held is the one nearest target − this: a little more waiting, a little less delay. */
export const GRID_BIAS_MS = 5;
/**
 * After an outage, a backlog due more than this beyond the target is skipped
 * (its time was concealed already). Above the 300–500 ms of a delay spike:
 * the packets a spike held back are played (and accelerated away), not lost.
 */
export const BACKLOG_MS = 600;
/**
 * Acceleration starts this far above the grid point held, expansion just
 * below it: a packet is decided at the grid point whatever is queued, so the
 * band of the delay as heard lies above it.
 */
export const ACCELERATE_MARGIN_MS = 10;
/** Skipping a backlog stops at the packet due within this of the target. */
export const CATCH_UP_MS = 80;
/** Below this RMS (about −50 dBFS) a frame is silence for the drop/insert and DTX decisions. */
export const QUIET_RMS = 100;
/**
 * How far back a packet arriving during a concealment may take the playout:
 * 32 packets (640 ms) covers a delay spike, and keeps the sequence window of
 * the store (64) ahead of it.
 */
export const MAX_REWIND_PACKETS = 32;
/** Units (decode, conceal, …) one pull may run; drops in silence produce nothing, so more than one can be needed. */
export const MAX_UNITS_PER_PULL = 6;
/**
 * Missing packets one unit may give up against wait frames already played
 * (Playout `#produce`); each was waited for by a frame of its own, so more
 * than a couple in one unit only happens after a reanchor or rewind.
 */
export const MAX_GIVE_UPS_PER_UNIT = 4;
/** After a quiet frame, a missing packet is concealed for this many frames before the gap is taken for DTX (comfort noise). */
export const QUIET_CONCEAL_FRAMES = 1;
