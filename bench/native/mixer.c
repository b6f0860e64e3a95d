/*
 * The conference mixer kernel of assembly/mixer.ts in plain C, for
 * `npm run bench -- conference` to build with `gcc -O3 -march=native` and
 * time beside the WebAssembly one: the same f32 operations in the same order
 * (a weighted f32 sum per sample, then every member's limit(sum - g_i * x_i)
 * and the full mix, rounded half to even and saturated to int16), laid out
 * the same way (channels of `stride` samples). The compiler vectorizes it
 * for the host's widest SIMD.
 *
 * Usage: mixer MEMBERS SAMPLES_PER_FRAME MILLISECONDS
 * Prints the mix-minus-one calls per second of CPU time.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define KNEE 16384.0f
#define HEADROOM (32768.0f - KNEE)
#define HEADROOM_SQUARED (HEADROOM * HEADROOM)

static inline int16_t limit_to_i16(float x) {
  float a = fabsf(x);
  float over = a - KNEE;
  over = over > 0.0f ? over : 0.0f;
  float bent = HEADROOM - HEADROOM_SQUARED / (over + HEADROOM);
  float y = (a < KNEE ? a : KNEE) + bent;
  y = copysignf(y, x);
  float r = rintf(y); /* half to even in the default rounding mode */
  if (r > 32767.0f) r = 32767.0f;
  if (r < -32768.0f) r = -32768.0f;
  return (int16_t)r;
}

static void mix_minus_one(int n, int stride, const float *gains, const int16_t *inputs, int16_t *outputs,
                          int16_t *mix, float *sum) {
  for (int k = 0; k < stride; k++) sum[k] = 0.0f;
  for (int i = 0; i < n; i++) {
    const int16_t *x = inputs + (size_t)i * stride;
    float g = gains[i];
    for (int k = 0; k < stride; k++) sum[k] += (float)x[k] * g;
  }
  for (int k = 0; k < stride; k++) mix[k] = limit_to_i16(sum[k]);
  for (int i = 0; i < n; i++) {
    const int16_t *x = inputs + (size_t)i * stride;
    int16_t *out = outputs + (size_t)i * stride;
    float g = gains[i];
    for (int k = 0; k < stride; k++) out[k] = limit_to_i16(sum[k] - (float)x[k] * g);
  }
}

static double cpu_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MEMBERS SAMPLES_PER_FRAME MILLISECONDS\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  int spf = atoi(argv[2]);
  double ms = atof(argv[3]);
  if (n < 1 || n > 256 || spf < 1 || spf > 5760 || !(ms > 0)) {
    fprintf(stderr, "members 1-256, samples 1-5760, milliseconds > 0\n");
    return 2;
  }
  int stride = (spf + 7) & ~7;
  float *gains = aligned_alloc(64, 256 * sizeof(float));
  int16_t *inputs = aligned_alloc(64, (size_t)n * stride * 2 + 64);
  int16_t *outputs = aligned_alloc(64, (size_t)n * stride * 2 + 64);
  int16_t *mix = aligned_alloc(64, (size_t)stride * 2 + 64);
  float *sum = aligned_alloc(64, (size_t)stride * 4 + 64);
  uint32_t seed = (uint32_t)(n * 1000 + spf);
  for (int i = 0; i < n; i++) {
    gains[i] = 0.8f;
    for (int k = 0; k < stride; k++) {
      seed = seed * 1664525u + 1013904223u; /* the bench's speech-like level: +-12000 */
      inputs[(size_t)i * stride + k] = (int16_t)((int32_t)(seed >> 16) % 12001 * ((seed & 1) ? 1 : -1));
    }
  }
  for (int w = 0; w < 20; w++) mix_minus_one(n, stride, gains, inputs, outputs, mix, sum);
  long calls = 0;
  long batch = 1;
  double start = cpu_ms();
  double now = start;
  while (now - start < ms) {
    for (long b = 0; b < batch; b++) mix_minus_one(n, stride, gains, inputs, outputs, mix, sum);
    calls += batch;
    if (batch < 65536) batch *= 2;
    now = cpu_ms();
  }
  long check = 0; /* keeps the work observable */
  for (int k = 0; k < spf; k++) check += mix[k] + outputs[k];
  printf("%.1f %ld\n", calls * 1000.0 / (now - start), check);
  return 0;
}
