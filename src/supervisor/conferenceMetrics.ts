import { Gauge, type Registry } from 'prom-client';
import type { ConferenceInfo } from '../conferences/conferenceInfo.ts';

/** What the conference series read: the live conferences as /status shows them. */
export interface ConferenceSource {
  readonly conferences: { list(): ConferenceInfo[] };
}

/** Member figures summed over every member of every live conference. */
const MEMBER_SUMS = [
  ['framesIn', 'switchboard_conference_member_frames_in', 'Frames the mixers took from their members'],
  ['framesMissing', 'switchboard_conference_member_frames_missing', 'Mixes in which a member had no frame (its PLC output or silence went in)'],
  ['framesDropped', 'switchboard_conference_member_frames_dropped', "Members' frames dropped to keep their backlog short"],
  ['outOverflows', 'switchboard_conference_member_out_overflows', "Mixes a member's leg had no room for"],
] as const;

/**
 * The conferences' series. By default aggregates whose count does not depend
 * on the number of conferences (as the calls' are, callMetrics.ts): live
 * conferences and members, members talking, the longest mix, and each member
 * figure summed over the live conferences (a gauge: it goes down as
 * conferences end). With `perCallSeries`, each member's level and talk state
 * by conference and call as well (two series per member, at most 64 per
 * conference); per-member detail is always in /status.
 */
export function registerConferenceMetrics(registry: Registry, src: ConferenceSource, perCallSeries: boolean): void {
  let sample: ConferenceInfo[] | undefined;
  const conferences = (): ConferenceInfo[] => {
    if (sample === undefined) {
      sample = src.conferences.list();
      // One reading serves every collect() of a scrape (they run in one synchronous pass).
      queueMicrotask(() => (sample = undefined));
    }
    return sample;
  };
  const gauge = (name: string, help: string, value: (all: ConferenceInfo[]) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(conferences()));
      },
    });
  };
  const members = (all: ConferenceInfo[]): ConferenceInfo['members'] => all.flatMap((c) => c.members);

  gauge('switchboard_conferences_live', 'Live conferences', (all) => all.length);
  gauge('switchboard_conference_members', 'Members of the live conferences', (all) => members(all).length);
  gauge('switchboard_conference_members_talking', 'Members of the live conferences talking now (their VAD)', (all) => members(all).filter((m) => m.talking).length);
  gauge('switchboard_conference_mix_max_seconds', "The longest single mix of any live conference's mixer since it started", (all) => Math.max(0, ...all.map((c) => c.mixer.maxMixUs)) / 1e6);
  for (const [figure, name, help] of MEMBER_SUMS) {
    gauge(name, `${help}: summed over the members of the live conferences`, (all) => members(all).reduce((a, m) => a + m[figure], 0));
  }

  if (!perCallSeries) return;
  new Gauge({
    name: 'switchboard_conference_member_level_dbfs',
    help: "A conference member's level (dBFS) as its conference's mixer measures it, by conference and call",
    labelNames: ['conference', 'call'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of conferences()) for (const m of c.members) this.set({ conference: c.id, call: m.call }, m.levelDbfs);
    },
  });
  new Gauge({
    name: 'switchboard_conference_member_talking',
    help: 'A conference member talking now (1) or not (0), by conference and call',
    labelNames: ['conference', 'call'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of conferences()) for (const m of c.members) this.set({ conference: c.id, call: m.call }, m.talking ? 1 : 0);
    },
  });
}
