// placeholder: filled in by the mixer kernel
export const mixerPlaceholder: i32 = 0;
