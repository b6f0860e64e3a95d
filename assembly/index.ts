// The DSP core: every kernel is one file; this module only re-exports them.
// Kernels work on raw pointers into this instance's memory (no managed
// objects on the per-frame path), so the host sees plain numeric exports.
export * from './memory';
export * from './g711';
export * from './g722';
export * from './resampler';
export * from './mixer';
export * from './level';
export * from './vad';
export * from './plc';
export * from './pitch';
export * from './timeStretch';
