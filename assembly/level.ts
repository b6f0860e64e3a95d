// placeholder: filled in by the level kernel
export const levelPlaceholder: i32 = 0;
