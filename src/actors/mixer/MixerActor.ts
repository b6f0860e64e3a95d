import type { ActorCommand, ActorConfig, MixerMemberConfig } from '../../protocol.ts';
import { FrameMeta, FrameRing } from '../../frames/FrameRing.ts';
import { epochMs, madeStamp } from '../../frames/epochClock.ts';
import { commandRefused, type ActorContext, type HostedActor } from '../Actor.ts';
import { ConferenceMixer } from './ConferenceMixer.ts';
import { MAX_MEMBERS, MIXER_STATS, memberStatIndex } from './kind.ts';
import { parseMixerConfig } from './mixerConfig.ts';

/**
 * Frames a member's ring may hold beyond its alignment delay. The member's
 * worker and this one tick on their own clocks (a frame of phase), and a
 * loaded machine delays either by a frame or two now and then: a backlog
 * above SETTLED_LAG_FRAMES is let drain by itself for LAG_PATIENCE_TICKS,
 * and only then the oldest frame is dropped, one per tick, so a stall once
 * does not leave the member heard late for the rest of the call and a burst
 * costs no audio. Beyond MAX_LAG_FRAMES frames are dropped at once.
 */
export const SETTLED_LAG_FRAMES = 2;
export const LAG_PATIENCE_TICKS = 25;
export const MAX_LAG_FRAMES = 8;
/** Mix-minus frames a member's leg may leave unread before the mixer stops adding more (its worker is down or stalled). */
export const MAX_OUT_BACKLOG = 4;

const stat = (name: (typeof MIXER_STATS)[number]): number => MIXER_STATS.indexOf(name);
const S_MEMBERS = stat('members');
const S_RATE = stat('rateHz');
const S_TICKS = stat('ticks');
const S_MIX_US = stat('mixUs');
const S_MAX_MIX_US = stat('maxMixUs');
const S_DOMINANT = stat('dominantSlot');
const S_COMMANDS = stat('commands');

/**
 * The mixer actor: a ConferenceMixer between its members' rings. Each tick it
 * takes one frame from each member's jitter/PLC ring (none there: silence,
 * and nobody waits), mixes, and puts each member's mix-minus on its leg's
 * ring. Members come and go by command (src/protocol.ts `member.*`), applied
 * between ticks; once `member.leave` returns, the mixer no longer touches
 * that member's rings, so its call may hand them back to its agent.
 */
export function createMixerActor(ctx: ActorContext, config: ActorConfig): HostedActor {
  const cfg = parseMixerConfig(config);
  const mixer = new ConferenceMixer({ maxMembers: MAX_MEMBERS, minRateHz: cfg.rateHz, ducking: cfg.ducking });
  const inRings = new Array<FrameRing | undefined>(MAX_MEMBERS).fill(undefined);
  const outRings = new Array<FrameRing | undefined>(MAX_MEMBERS).fill(undefined);
  const meta = new FrameMeta();
  const stats = ctx.stats;
  /** Ticks in a row each member's ring held more than SETTLED_LAG_FRAMES beyond its delay. */
  const lagTicks = new Uint16Array(MAX_MEMBERS);
  let frameSeq = 0;

  const attach = (m: MixerMemberConfig, input: FrameRing | undefined, output: FrameRing | undefined): void => {
    if (input === undefined || output === undefined) throw new RangeError(`mixer: member at slot ${m.slot} needs an in ring and an out ring`);
    const spf = (m.rateHz * 20) / 1000;
    if (input.maxSamples < spf || output.maxSamples < spf) {
      throw new RangeError(`mixer: member at slot ${m.slot}: its rings hold ${Math.min(input.maxSamples, output.maxSamples)} samples, a frame is ${spf}`);
    }
    mixer.join(m);
    inRings[m.slot] = input;
    outRings[m.slot] = output;
  };
  try {
    for (const m of cfg.members) attach(m, ctx.rings[`in.${m.slot}`], ctx.rings[`out.${m.slot}`]);
  } catch (err) {
    mixer.destroy();
    throw err;
  }

  /** One member's frame from its ring, keeping `delayFrames` in it and no more than MAX_LAG_FRAMES beyond. */
  const take = (slot: number): void => {
    const m = mixer.member(slot);
    const ring = inRings[slot];
    if (m === undefined || ring === undefined) return;
    const delay = m.settings.delayFrames;
    let avail = ring.available();
    lagTicks[slot] = avail > delay + SETTLED_LAG_FRAMES ? lagTicks[slot]! + 1 : 0;
    const keep = lagTicks[slot]! > LAG_PATIENCE_TICKS ? avail - 1 : delay + MAX_LAG_FRAMES;
    for (; avail > keep; avail--) {
      ring.read(m.input, meta);
      stats[memberStatIndex(slot, 'framesDropped')]++;
    }
    m.present = avail > delay && ring.read(m.input, meta) && meta.sampleCount === m.samplesPerFrame;
    stats[memberStatIndex(slot, m.present ? 'framesIn' : 'framesMissing')]++;
  };

  const give = (slot: number, now: number): void => {
    const m = mixer.member(slot);
    const ring = outRings[slot];
    if (m === undefined || ring === undefined) return;
    if (ring.available() >= MAX_OUT_BACKLOG || !ring.writeStamped(m.output, m.samplesPerFrame, frameSeq, (frameSeq * m.samplesPerFrame) >>> 0, m.settings.rateHz, 0, madeStamp(now), 0, 0)) {
      stats[memberStatIndex(slot, 'outOverflows')]++;
    }
    stats[memberStatIndex(slot, 'levelDbfs')] = m.levelDbfs;
    stats[memberStatIndex(slot, 'talking')] = m.talking ? 1 : 0;
    stats[memberStatIndex(slot, 'duckDb')] = mixer.duckDb(slot);
  };

  return {
    tick(): number {
      const t0 = performance.now();
      for (let s = 0; s < MAX_MEMBERS; s++) take(s);
      mixer.mix();
      const now = epochMs();
      let members = 0;
      for (let s = 0; s < MAX_MEMBERS; s++) {
        if (outRings[s] === undefined) continue;
        give(s, now);
        members++;
      }
      frameSeq = (frameSeq + 1) >>> 0;
      const us = Math.round((performance.now() - t0) * 1000);
      stats[S_MEMBERS] = members;
      stats[S_RATE] = mixer.rateHz;
      stats[S_TICKS]++;
      stats[S_MIX_US] = us;
      if (us > stats[S_MAX_MIX_US]!) stats[S_MAX_MIX_US] = us;
      stats[S_DOMINANT] = mixer.dominant;
      return members;
    },
    command(command: ActorCommand): void {
      switch (command.type) {
        case 'member.join':
          attach(command.member, FrameRing.attach(command.in), FrameRing.attach(command.out));
          break;
        case 'member.update':
          mixer.update(command.member);
          break;
        case 'member.leave':
          if (!Number.isInteger(command.slot) || command.slot < 0 || command.slot >= MAX_MEMBERS) throw new RangeError(`mixer: no slot ${command.slot}`);
          mixer.leave(command.slot);
          inRings[command.slot] = undefined;
          outRings[command.slot] = undefined;
          break;
        default:
          throw commandRefused('mixer', command);
      }
      stats[S_COMMANDS]++;
    },
    close(): void {
      mixer.destroy();
    },
  };
}
