// placeholder: filled in by the g722 kernel
export const g722Placeholder: i32 = 0;
