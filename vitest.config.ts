import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other: everything else first (files in
 * parallel), then the load and timing-sensitive tests alone, so a hundred
 * real-time calls do not compete for two cores with the rest of the suite.
 */
const LOAD_TESTS = [
  'test/integration/twilioLoad.test.ts',
  'test/integration/memorySpike.test.ts',
  // Echo similarity through the jitter buffer is checked against another talker's: under a
  // contended suite the buffer time-stretches more and the margin shrinks, so it runs alone.
  'test/integration/twilioCall.test.ts',
  // The Realtime test server's pacing is checked against the wall clock (a 1 s reply at 2× in
  // 450 ms): two contended cores can hold a timer back past the bound.
  'test/peers/RealtimeServer.test.ts',
  // Starves a worker with busy processes on one core: alone, so it slows nothing else.
  'test/supervisor/starvation.test.ts',
  // A daemon process under call churn, its resources counted before and after.
  'test/soak/soak.test.ts',
  'test/actors/rtp/RtpLegRestart.test.ts',
  // 32 RTP peers with their tones and a crashed member worker, every frame counted.
  'test/conferences/conference.test.ts',
  // baresip's recordings are compared with what it sent (≥ 0.9): its packets jitter on contended
  // cores, the jitter buffer time-stretches more, and the margin shrinks, as for twilioCall.
  'test/legs/sip/baresip.test.ts',
];

/**
 * Pure unit tests (parsers, DSP kernels, rings, models): no supervisor, no
 * daemon, no process-wide settings. They share one module cache
 * (`isolate: false`) instead of loading the source graph again per file.
 */
const UNIT_TESTS = [
  'test/wire/**/*.test.ts',
  'test/dsp/**/*.test.ts',
  'test/frames/**/*.test.ts',
  'test/qos/**/*.test.ts',
  // Not JitterActor.test.ts: it starts worker threads.
  'test/actors/jitter/{DelayManager,InboundLevel,JitterBuffer,PacketDecoder,PacketStore,SampleQueue,clockDrift,delayPeaks,lateness,properties}.test.ts',
  'test/bench/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/sync/syncPlan.test.ts',
  'test/load/LatencyAligner.test.ts',
  'test/load/impairments.test.ts',
  'test/load/options.test.ts',
  'test/fuzz/properties.test.ts',
  'test/peers/g711.test.ts',
  'test/peers/independence.test.ts',
  'test/security/audit.test.ts',
  'test/deploy/dockerfile.test.ts',
  'test/config.test.ts',
  'test/log.test.ts',
];

export default defineConfig({
  test: {
    // Worker-thread tests spawn their own threads; forks keep them isolated.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT_TESTS, isolate: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...LOAD_TESTS, ...UNIT_TESTS], sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'load', include: LOAD_TESTS, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
