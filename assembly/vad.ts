// placeholder: filled in by the vad kernel
export const vadPlaceholder: i32 = 0;
