// Unmanaged allocation for per-stream state and per-stream I/O buffers.
// The host allocates once when a stream is created and frees when it ends;
// per-frame calls never allocate. Blocks come from the runtime's TLSF
// allocator (runtime "minimal"), so freeing is real and a daemon that opens
// and closes streams for months does not leak WebAssembly memory.

export function alloc(bytes: usize): usize {
  const ptr = heap.alloc(bytes);
  memory.fill(ptr, 0, bytes);
  return ptr;
}

export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
