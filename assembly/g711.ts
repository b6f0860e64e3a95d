// placeholder: filled in by the g711 kernel
export const g711Placeholder: i32 = 0;
