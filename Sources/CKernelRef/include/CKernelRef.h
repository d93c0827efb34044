// Reference loops for `mona-perf engine`: what a C programmer would write, compiled -O3 -march=native, so the
// benchmark can show the engine's Swift kernels next to them. Not used by the engine itself.
#ifndef CKERNELREF_H
#define CKERNELREF_H

#include <stddef.h>

/// z[i] = x[i] + y[i] for i in [lo, hi).
void ref_add(const float *x, const float *y, float *z, ptrdiff_t lo, ptrdiff_t hi);

/// y[i] = e^x[i] for i in [lo, hi) (Cephes-style polynomial, vectorisable).
void ref_exp(const float *x, float *y, ptrdiff_t lo, ptrdiff_t hi);

/// y[i] = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) for i in [lo, hi) (erf by Abramowitz–Stegun 7.1.26, |err| ≤ 1.5e-7).
void ref_gelu_erf(const float *x, float *y, ptrdiff_t lo, ptrdiff_t hi);

/// Softmax of rows [r0, r1) of a row-major [rows, n] matrix.
void ref_softmax_rows(const float *x, float *y, ptrdiff_t n, ptrdiff_t r0, ptrdiff_t r1);

/// LayerNorm of rows [r0, r1) of a row-major [rows, n] matrix: (x − mean)/√(var + eps)·w + b.
void ref_layernorm_rows(const float *x, const float *w, const float *b, float *y, ptrdiff_t n, float eps,
                        ptrdiff_t r0, ptrdiff_t r1);

/// Seconds on a monotonic clock.
double ref_now(void);

#endif
