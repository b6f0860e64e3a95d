import { Gauge, Histogram, type Registry } from 'prom-client';
import { mosFromR } from '../qos/emodel.ts';
import type { ActorStatus, CallInfo } from './Runtime.ts';

/** What the call series read of the supervisor, once per scrape. */
export interface CallSource {
  listCalls(): CallInfo[];
  callQos(callId: string): Record<string, Record<string, number>>;
  actorStatuses(): ActorStatus[];
}

/** One live call as a scrape sees it. */
interface CallSample {
  id: string;
  transport: string;
  state: CallInfo['state'];
  qos: Record<string, Record<string, number>>;
  /** The jitter actor's stats (all of them, not only its QoS names), when the call has one. */
  jitter: Readonly<Record<string, number>> | undefined;
}

const CALL_STATES: readonly CallInfo['state'][] = ['active', 'ending', 'ended'];

/**
 * The lower bounds of the G.109 speech-quality categories (R = 50, 60, 70, 80,
 * 90: poor, low, medium, high, best) as MOS through G.107 Annex B (B-4), so
 * `le="3.597"` counts the calls rated low or worse ("many users
 * dissatisfied").
 */
const MOS_BUCKETS = [1.5, 2, ...[50, 60, 70, 80, 90].map((r) => Math.round(mosFromR(r) * 1000) / 1000)];
/** Seconds: one 20 ms frame up to the one-way budget of G.114 and past it. */
const DELAY_BUCKETS = [0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1];
const JITTER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2];
/** Round trips: G.114's 150 ms one way is 0.3 s. */
const RTT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1];
/**
 * `le="0"` counts the loss-free calls; the steps are fine below 5 %, where each
 * percent costs G.711 about 3.6 R points (G.107 Ie,eff with G.113's Bpl 25.1).
 */
const RATIO_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5];
/** Sender clocks against ours, |ppm|: a good crystal is within 20, a cheap one 100, past 500 is broken or not a clock. */
const DRIFT_BUCKETS = [5, 10, 20, 50, 100, 200, 500, 1000];
/** Sender wallclocks against ours, |s|: NTP-synced hosts within 10 ms, a free-running one off by seconds or more. */
const OFFSET_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 10, 60, 3600];

const nonNegative = (v: number | undefined): number | undefined => (v !== undefined && v >= 0 ? v : undefined);

/** The per-call figures the histograms spread over the live calls (each from what the call's QoS in /status holds). */
const CALL_FIGURES: ReadonlyArray<{ name: string; help: string; buckets: number[]; of(c: CallSample): number | undefined }> = [
  {
    name: 'switchboard_call_mos',
    help: "E-model MOS of each call (the call's rating in /status)",
    buckets: MOS_BUCKETS,
    of: (c) => c.qos['call']?.['mos'],
  },
  {
    name: 'switchboard_call_buffer_delay_seconds',
    help: "Delay each call's jitter buffer plays at",
    buckets: DELAY_BUCKETS,
    of: (c) => seconds(nonNegative(c.qos['jitter']?.['currentDelayMs'])),
  },
  {
    name: 'switchboard_call_jitter_seconds',
    help: 'Interarrival jitter of each inbound stream (RFC 3550 §6.4.1)',
    buckets: JITTER_BUCKETS,
    of: (c) => seconds(nonNegative(c.qos['jitter']?.['jitterMs'])),
  },
  {
    name: 'switchboard_call_loss_ratio',
    help: "Share of each call's packets its decoder lacked (lost or too late), as rated by the E-model",
    buckets: RATIO_BUCKETS,
    of: (c) => {
      const pct = c.qos['call']?.['lossPct'];
      return pct === undefined ? undefined : pct / 100;
    },
  },
  {
    name: 'switchboard_call_concealment_ratio',
    help: "Share of each call's played samples that were concealed (webrtc-stats concealedSamples / totalSamplesReceived)",
    buckets: RATIO_BUCKETS,
    of: (c) => {
      const total = c.jitter?.['totalSamplesReceived'] ?? 0;
      return total > 0 ? (c.jitter?.['concealedSamples'] ?? 0) / total : undefined;
    },
  },
  {
    name: 'switchboard_call_clock_drift_ppm',
    help: "Magnitude of each RTP call's sender clock drift against ours (from its packets' arrivals, once fitted)",
    buckets: DRIFT_BUCKETS,
    of: (c) => {
      const ppm = c.qos['rtp']?.['clockDriftPpm'];
      return ppm !== undefined && Number.isFinite(ppm) ? Math.abs(ppm) : undefined;
    },
  },
  {
    name: 'switchboard_call_clock_offset_seconds',
    help: "Magnitude of each RTP call's sender wallclock less ours, by its SRs (RFC 3550 §6.4.1) less the least one-way delay",
    buckets: OFFSET_BUCKETS,
    of: (c) => {
      const ms = c.qos['rtp']?.['clockOffsetMs'];
      return ms !== undefined && Number.isFinite(ms) ? Math.abs(ms) / 1000 : undefined;
    },
  },
  {
    name: 'switchboard_call_rtt_seconds',
    help: "Round-trip time of each call's leg, where RTCP has measured it",
    buckets: RTT_BUCKETS,
    // The leg's slot holds 0 until the first RTCP report from the peer (then the measured RTT,
    // -1 while no report echoes our SR), so only a positive value is a measurement.
    of: (c) => {
      const rtt = c.qos['rtp']?.['rttMs'];
      return rtt !== undefined && rtt > 0 ? rtt / 1000 : undefined;
    },
  },
];

/** Milliseconds to seconds, Prometheus's base unit. */
function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

function takeSample(src: CallSource): CallSample[] {
  const jitterStats = new Map<string, Readonly<Record<string, number>>>();
  for (const a of src.actorStatuses()) if (a.kind === 'jitter') jitterStats.set(a.id, a.stats);
  return src.listCalls().map((call) => {
    const jitterActor = call.actors.find((id) => jitterStats.has(id));
    return {
      id: call.id,
      transport: call.transport,
      state: call.state,
      qos: src.callQos(call.id),
      jitter: jitterActor === undefined ? undefined : jitterStats.get(jitterActor),
    };
  });
}

/** Adds `value` to the series of these label values (in the gauge's label order). */
type Add = (value: number, ...labelValues: string[]) => void;

/**
 * A gauge of sums whose label sets stay once seen, at 0 while nothing adds to
 * them: a dashboard sees continuous series, and their number is bounded by
 * the label domains (transports, actor kinds, figures), never by the number
 * of calls. Sums are taken in a plain map and set once per series: a
 * prom-client update per call and figure costs more than the whole scrape
 * should.
 */
function sumGauge(registry: Registry, name: string, help: string, labelNames: readonly string[], fill: (add: Add) => void): void {
  const seen = new Map<string, Record<string, string>>();
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const totals = new Map<string, number>();
      fill((value, ...labelValues) => {
        if (!Number.isFinite(value)) return;
        const key = labelValues.join('\0');
        if (!seen.has(key)) seen.set(key, Object.fromEntries(labelNames.map((l, i) => [l, labelValues[i]!])));
        totals.set(key, (totals.get(key) ?? 0) + value);
      });
      for (const [key, labels] of seen) this.set(labels, totals.get(key) ?? 0);
    },
  });
}

/**
 * The calls' series. By default they are aggregates whose count does not
 * depend on the number of calls: live calls by transport and state, each QoS
 * figure summed by transport, actor kind and figure, and histograms of the
 * quality figures across the live calls. With `perCallSeries`, one gauge per
 * call, actor kind and figure as well (one label set per figure of every
 * call: about 30 per call).
 *
 * The histograms are gauge histograms (OpenMetrics GaugeHistogram, typed
 * `histogram` in the Prometheus text format as client_python does): each
 * scrape counts the calls live then, so buckets go down as calls end. Use
 * them without rate(): `histogram_quantile(0.1, sum by (le)
 * (switchboard_call_mos_bucket))` is the MOS the worst tenth of live calls
 * is below.
 */
export function registerCallMetrics(registry: Registry, src: CallSource, perCallSeries: boolean): void {
  let sample: CallSample[] | undefined;
  const transports = new Set<string>();
  const calls = (): CallSample[] => {
    if (sample === undefined) {
      sample = takeSample(src);
      for (const c of sample) transports.add(c.transport);
      // prom-client runs every collect() of a scrape in one synchronous pass before its first
      // await, so one reading of the calls serves them all and is dropped right after.
      queueMicrotask(() => (sample = undefined));
    }
    return sample;
  };

  sumGauge(registry, 'switchboard_calls_live', 'Live calls by transport and state', ['transport', 'state'], (add) => {
    for (const c of calls()) for (const state of CALL_STATES) add(state === c.state ? 1 : 0, c.transport, state);
  });
  sumGauge(
    registry,
    'switchboard_calls_qos',
    'Sum over live calls of each call QoS figure (as in /status), by transport, actor kind and figure; a mean is this over switchboard_calls_live',
    ['transport', 'kind', 'figure'],
    (add) => {
      for (const c of calls()) {
        for (const [kind, figures] of Object.entries(c.qos)) {
          for (const [figure, value] of Object.entries(figures)) add(value, c.transport, kind, figure);
        }
      }
    },
  );

  for (const f of CALL_FIGURES) {
    new Histogram<'transport'>({
      name: f.name,
      help: `${f.help}: live calls at scrape time, by transport (a gauge histogram: no rate())`,
      labelNames: ['transport'],
      buckets: f.buckets,
      registers: [registry],
      collect() {
        const live = calls();
        this.reset();
        for (const transport of transports) this.zero({ transport });
        for (const c of live) {
          const v = f.of(c);
          if (v !== undefined && Number.isFinite(v)) this.observe({ transport: c.transport }, v);
        }
      },
    });
  }

  if (!perCallSeries) return;
  new Gauge({
    name: 'switchboard_call_qos',
    help: 'Live call quality figures (jitter, loss, RTT, concealment, R-factor, MOS, …) by call, actor kind and figure',
    labelNames: ['call', 'transport', 'kind', 'figure'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const call of calls()) {
        for (const [kind, figures] of Object.entries(call.qos)) {
          for (const [figure, value] of Object.entries(figures)) {
            this.set({ call: call.id, transport: call.transport, kind, figure }, value);
          }
        }
      }
    },
  });
}
