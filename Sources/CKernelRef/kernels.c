#include "CKernelRef.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

// e^x with the same polynomial as the engine's VectorMath.exp, written branch-free so the compiler vectorises it.
static inline float poly_exp(float x) {
    const float hi = 88.3762626647949f, lo = -87.33654f;
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    const float magic = 12582912.0f;
    float t = xc * 1.442695041f + magic;
    float fx = t - magic;
    float r = fmaf(fx, -0.693359375f, xc);
    r = fmaf(fx, 2.12194440e-4f, r);
    float p = fmaf(1.9875691500e-4f, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    float y = fmaf(p * r, r, r + 1.0f);
    int32_t ti, mi;
    memcpy(&ti, &t, 4);
    memcpy(&mi, &magic, 4);
    int32_t bits = ((ti - mi) + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    float res = y * scale;
    res = x > hi ? INFINITY : res;
    res = x < lo ? 0.0f : res;
    return x != x ? x : res;
}

void ref_add(const float *x, const float *y, float *z, ptrdiff_t lo, ptrdiff_t hi) {
    for (ptrdiff_t i = lo; i < hi; i++) z[i] = x[i] + y[i];
}

void ref_exp(const float *x, float *y, ptrdiff_t lo, ptrdiff_t hi) {
    for (ptrdiff_t i = lo; i < hi; i++) y[i] = poly_exp(x[i]);
}

void ref_gelu_erf(const float *x, float *y, ptrdiff_t lo, ptrdiff_t hi) {
    for (ptrdiff_t i = lo; i < hi; i++) {
        float v = x[i], z = v * 0.70710678118654752f;
        float a = fabsf(z);
        float t = 1.0f / fmaf(0.3275911f, a, 1.0f);
        float p = fmaf(fmaf(fmaf(fmaf(1.061405429f, t, -1.453152027f), t, 1.421413741f), t, -0.284496736f), t,
                       0.254829592f) * t;
        float e = 1.0f - p * poly_exp(-a * a);
        e = copysignf(e, z);
        y[i] = 0.5f * v * (1.0f + e);
    }
}

// Reductions keep 16 partial results (one AVX-512 vector) so that the compiler vectorises them without
// -ffast-math, which would also drop the NaN semantics the engine keeps.
#define LANES 16

static inline float row_max(const float *x, ptrdiff_t n) {
    float acc[LANES];
    for (int j = 0; j < LANES; j++) acc[j] = -INFINITY;
    ptrdiff_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) acc[j] = x[i + j] > acc[j] || x[i + j] != x[i + j] ? x[i + j] : acc[j];
    float m = -INFINITY;
    for (int j = 0; j < LANES; j++) m = acc[j] > m || acc[j] != acc[j] ? acc[j] : m;
    for (; i < n; i++) m = x[i] > m || x[i] != x[i] ? x[i] : m;
    return m;
}

static inline float row_sum(const float *x, ptrdiff_t n) {
    float acc[LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) acc[j] += x[i + j];
    float s = 0;
    for (int j = 0; j < LANES; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}

void ref_softmax_rows(const float *x, float *y, ptrdiff_t n, ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float m = row_max(xr, n);
        for (ptrdiff_t i = 0; i < n; i++) yr[i] = poly_exp(xr[i] - m);
        float inv = 1.0f / row_sum(yr, n);
        for (ptrdiff_t i = 0; i < n; i++) yr[i] *= inv;
    }
}

void ref_layernorm_rows(const float *x, const float *w, const float *b, float *y, ptrdiff_t n, float eps,
                        ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float mean = row_sum(xr, n) / (float)n;
        float acc[LANES] = {0};
        ptrdiff_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int j = 0; j < LANES; j++) { float d = xr[i + j] - mean; acc[j] += d * d; }
        float v = 0;
        for (int j = 0; j < LANES; j++) v += acc[j];
        for (; i < n; i++) { float d = xr[i] - mean; v += d * d; }
        float rstd = 1.0f / sqrtf(v / (float)n + eps);
        for (i = 0; i < n; i++) yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
    }
}

double ref_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
