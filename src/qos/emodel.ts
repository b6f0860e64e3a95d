/**
 * Call quality from network figures: the E-model of ITU-T G.107 (06/2015)
 * reduced to the terms a media engine can measure — one-way delay, loss and
 * its burstiness, the codec's equipment impairment — with the default values
 * of G.107 Table 2 for everything else (send/receive loudness, room noise,
 * sidetone), which give R0 − Is = 93.2.
 *
 * Codec figures are ITU-T G.113 Appendix I's (Ie, Bpl with PLC); Opus has no
 * G.113 entry, so its row is an estimate from published listening tests at
 * VoIP bitrates (narrow-band E-model scale) and is marked as such.
 */

export type EModelCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16';

/** Equipment impairment Ie and packet-loss robustness Bpl per codec. */
export const CODEC_IMPAIRMENT: Readonly<Record<EModelCodec, { ie: number; bpl: number; source: string }>> = {
  PCMU: { ie: 0, bpl: 25.1, source: 'G.113 App. I, G.711 with Appendix I PLC' },
  PCMA: { ie: 0, bpl: 25.1, source: 'G.113 App. I, G.711 with Appendix I PLC' },
  L16: { ie: 0, bpl: 25.1, source: 'as G.711 (uncompressed, same PLC)' },
  // On the narrow-band scale a wideband codec is at least as good as G.711.
  G722: { ie: 0, bpl: 25.1, source: 'as G.711 on the narrow-band scale (G.107.1 would rate it higher)' },
  opus: { ie: 0, bpl: 20, source: 'estimate: VoIP mode ≥ 16 kbit/s with its own PLC' },
};

/** G.107 §7.1: R0 − Is with every default (Table 2). */
const R0_MINUS_IS = 93.2;

export interface EModelInput {
  /** Mouth-to-ear one-way delay, ms (network + jitter buffer + codec + processing). */
  oneWayDelayMs: number;
  /** Packet loss seen by the decoder after the jitter buffer, percent (0–100). */
  lossPct: number;
  /** Burst ratio (G.107 §7.7): 1 for random loss, > 1 for bursty loss. */
  burstRatio?: number;
  codec: EModelCodec;
  /** Advantage factor A (G.107 §7.7): 0 for wired, up to 10 for mobile. */
  advantage?: number;
}

/** Delay impairment Id for a pure one-way delay with echo well controlled (G.107 §7.5, Idd only). */
export function delayImpairment(ta: number): number {
  if (ta <= 100) return 0;
  // Idd of G.107 (7-29): X = log2(Ta/100), Idd = 25·{(1+X^6)^(1/6) − 3·(1+(X/3)^6)^(1/6) + 2}.
  const x = Math.log2(ta / 100);
  return 25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2);
}

/** Effective equipment impairment with loss (G.107 §7.6, (7-30)). */
export function effectiveEquipmentImpairment(ie: number, bpl: number, lossPct: number, burstRatio: number): number {
  const ppl = Math.min(100, Math.max(0, lossPct));
  return ie + ((95 - ie) * ppl) / (ppl / burstRatio + bpl);
}

/** The rating factor R, 0–100 (G.107 (7-1)). */
export function rFactor(input: EModelInput): number {
  const { ie, bpl } = CODEC_IMPAIRMENT[input.codec];
  const ieEff = effectiveEquipmentImpairment(ie, bpl, input.lossPct, Math.max(1, input.burstRatio ?? 1));
  const r = R0_MINUS_IS - delayImpairment(Math.max(0, input.oneWayDelayMs)) - ieEff + (input.advantage ?? 0);
  return Math.min(100, Math.max(0, r));
}

/** Estimated MOS (conversational quality, CQE) from R (G.107 Annex B, (B-4)). */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/**
 * Burst ratio (G.107 §7.6) from the loss fraction P and the mean burst length L:
 * for the two-state Markov loss model BurstR = 1/(p + q), with q = 1/L and
 * P = p/(p + q), which is L·(1 − P).
 */
export function burstRatio(lossFraction: number, meanBurstPackets: number): number {
  if (lossFraction <= 0 || meanBurstPackets <= 0) return 1;
  return Math.max(1, meanBurstPackets * (1 - lossFraction));
}
