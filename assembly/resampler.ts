// placeholder: filled in by the resampler kernel
export const resamplerPlaceholder: i32 = 0;
