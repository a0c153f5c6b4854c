// d2v's CUDA kernels: the fused ops and optimiser updates of one data2vec
// step. Each kernel mirrors the pkg/gpu.Emu method of the same name (Go),
// which the parity fixtures check on the CPU; keep the two in step.
// float32 data, float64 where the Go code accumulates in float64.
// Compiled to PTX by scripts/gen-ptx.sh (nvcc -fmad=false, so products and
// sums round as in Go); loaded by pkg/cuda with cuModuleLoadData.

#define WARP 32

extern "C" {

// ---- elementwise (grid-stride) ----

#define FOR_N(i, n) for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (n); i += (long)blockDim.x * gridDim.x)

__global__ void d2v_fill(float* y, float v, int n) { FOR_N(i, n) y[i] = v; }
__global__ void d2v_copy(float* y, const float* x, int n) { FOR_N(i, n) y[i] = x[i]; }
__global__ void d2v_add(float* y, const float* a, const float* b, int n) { FOR_N(i, n) y[i] = a[i] + b[i]; }
__global__ void d2v_add_to(float* y, const float* x, int n) { FOR_N(i, n) y[i] += x[i]; }
__global__ void d2v_scale(float* y, float a, int n) { FOR_N(i, n) y[i] *= a; }

// y (n, d): every row = b (d).
__global__ void d2v_bias_rows(float* y, const float* b, int n, int d) { FOR_N(i, (long)n * d) y[i] = b[i % d]; }

// y[i] = src[idx[i]] for rows of d; idx holds row numbers as floats.
__global__ void d2v_gather_rows(float* y, const float* src, const float* idx, int m, int d) {
    FOR_N(i, (long)m * d) {
        long r = (long)idx[i / d];
        y[i] = src[r * d + i % d];
    }
}

// dst[idx[i]] += y[i]. atomicAdd: repeated indices (token ids) accumulate
// in an unspecified order, so their last bits can differ run to run.
__global__ void d2v_scatter_add_rows(float* dst, const float* idx, const float* y, int m, int d) {
    FOR_N(i, (long)m * d) {
        long r = (long)idx[i / d];
        atomicAdd(&dst[r * d + i % d], y[i]);
    }
}

// y[r] = (mask[r] != 0 ? memb : e[r]) + pos[r % t]  (ops.MaskPos)
__global__ void d2v_mask_pos(float* y, const float* e, const float* memb, const float* pos, const float* mask,
                             int n, int t, int d) {
    FOR_N(i, (long)n * d) {
        long r = i / d;
        int j = i % d;
        float v = mask[r] != 0.f ? memb[j] : e[i];
        y[i] = v + pos[(r % t) * d + j];
    }
}

// MaskPos backward, part 1: one thread per (p, j) of pos (t, d): dpos sums
// the b = 0..n/t-1 rows b*t+p in order; de passes dy through unmasked rows.
__global__ void d2v_mask_pos_bwd(float* de, float* dpos, const float* mask, const float* dy, int n, int t, int d) {
    FOR_N(i, (long)t * d) {
        long p = i / d;
        int j = i % d;
        float s = 0.f;
        for (long r = p; r < n; r += t) {
            float g = dy[r * d + j];
            de[r * d + j] = mask[r] != 0.f ? 0.f : g;
            s += g;
        }
        dpos[i] = s;
    }
}

// ---- column reductions: block (32 columns, 8 row groups), shared-memory sum ----

#define CT 32
#define RT 8

// s[j] = sum_r x[r, j]; with mask != NULL only rows whose mask is non-zero.
__global__ void d2v_col_sum(float* s, const float* x, const float* mask, int n, int d) {
    __shared__ float part[RT][CT];
    int j = blockIdx.x * CT + threadIdx.x;
    float acc = 0.f;
    if (j < d)
        for (int r = threadIdx.y; r < n; r += RT)
            if (mask == 0 || mask[r] != 0.f) acc += x[(long)r * d + j];
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && j < d) {
        float t = 0.f;
        for (int k = 0; k < RT; k++) t += part[k][threadIdx.x];
        s[j] = t;
    }
}

// LayerNorm backward, gain and bias: dg[j] = sum_r dy*xhat, db[j] = sum_r dy.
__global__ void d2v_ln_bwd_gb(float* dg, float* db, const float* x, const float* mean, const float* rstd,
                              const float* dy, int n, int d) {
    __shared__ float pg[RT][CT], pb[RT][CT];
    int j = blockIdx.x * CT + threadIdx.x;
    float sg = 0.f, sb = 0.f;
    if (j < d)
        for (int r = threadIdx.y; r < n; r += RT) {
            long i = (long)r * d + j;
            float xh = (x[i] - mean[r]) * rstd[r];
            sg += dy[i] * xh;
            sb += dy[i];
        }
    pg[threadIdx.y][threadIdx.x] = sg;
    pb[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && j < d) {
        float tg = 0.f, tb = 0.f;
        for (int k = 0; k < RT; k++) {
            tg += pg[k][threadIdx.x];
            tb += pb[k][threadIdx.x];
        }
        dg[j] = tg;
        db[j] = tb;
    }
}

// ---- row kernels: one warp per row ----

__device__ double warp_sum(double v) {
    for (int o = WARP / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}
__device__ float warp_sumf(float v) {
    for (int o = WARP / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}
__device__ float warp_max(float v) {
    for (int o = WARP / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    return v;
}

#define ROW_BEGIN(n)                                                       \
    long row = (blockIdx.x * (long)blockDim.x + threadIdx.x) / WARP;      \
    int lane = threadIdx.x % WARP;                                         \
    if (row >= (n)) return;

// two-pass mean and 1/sqrt(var + eps) of x[0], x[s], ... (n values), float64 sums
__device__ void stats(const float* x, int n, long s, float eps, int lane, double* mean, double* rstd) {
    double a = 0;
    for (int j = lane; j < n; j += WARP) a += x[j * s];
    double mu = warp_sum(a) / n;
    double q = 0;
    for (int j = lane; j < n; j += WARP) {
        double v = x[j * s] - mu;
        q += v * v;
    }
    *mean = mu;
    *rstd = 1.0 / sqrt(warp_sum(q) / n + (double)eps);
}

// y = (x - mean) * rstd * g + b per row of x (n, d)  (ops.LayerNorm)
__global__ void d2v_layernorm(float* y, float* mean, float* rstd, const float* x, const float* g, const float* b,
                              int n, int d, float eps) {
    ROW_BEGIN(n)
    const float* xr = x + row * d;
    double mu, rs;
    stats(xr, d, 1, eps, lane, &mu, &rs);
    float m = (float)mu, r = (float)rs;
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
    for (int j = lane; j < d; j += WARP) y[row * d + j] = (xr[j] - m) * r * g[j] + b[j];
}

// LayerNorm backward, input: dx = rstd * (dy*g - mean(dy*g) - xhat*mean(dy*g*xhat))
__global__ void d2v_ln_bwd_x(float* dx, const float* x, const float* g, const float* mean, const float* rstd,
                             const float* dy, int n, int d) {
    ROW_BEGIN(n)
    long o = row * d;
    float m = mean[row], r = rstd[row];
    float m1 = 0.f, m2 = 0.f;
    for (int j = lane; j < d; j += WARP) {
        float xh = (x[o + j] - m) * r, dxh = dy[o + j] * g[j];
        m1 += dxh;
        m2 += dxh * xh;
    }
    m1 = warp_sumf(m1) / d;
    m2 = warp_sumf(m2) / d;
    for (int j = lane; j < d; j += WARP) {
        float xh = (x[o + j] - m) * r;
        dx[o + j] = r * (dy[o + j] * g[j] - m1 - xh * m2);
    }
}

// in place: each row of p (rows, n) -> softmax(row), max-stabilised
__global__ void d2v_softmax(float* p, int rows, int n) {
    ROW_BEGIN(rows)
    float* pr = p + row * n;
    float mx = -INFINITY;
    for (int j = lane; j < n; j += WARP) mx = fmaxf(mx, pr[j]);
    mx = warp_max(mx);
    float s = 0.f;
    for (int j = lane; j < n; j += WARP) {
        float e = expf(pr[j] - mx);
        pr[j] = e;
        s += e;
    }
    s = warp_sumf(s);
    for (int j = lane; j < n; j += WARP) pr[j] /= s;
}

// ds = p * (dp - rowsum(dp * p)); ds may be dp
__global__ void d2v_softmax_bwd(float* ds, const float* p, const float* dp, int rows, int n) {
    ROW_BEGIN(rows)
    long o = row * n;
    float s = 0.f;
    for (int j = lane; j < n; j += WARP) s += p[o + j] * dp[o + j];
    s = warp_sumf(s);
    for (int j = lane; j < n; j += WARP) ds[o + j] = p[o + j] * (dp[o + j] - s);
}

// parameter-free norm of x[0], x[s], ... (n values) in place, float64 maths  (teacher.normStrided)
__device__ void norm_strided(float* x, int n, long s, float eps, int lane) {
    double mu, rs;
    stats(x, n, s, eps, lane, &mu, &rs);
    for (int j = lane; j < n; j += WARP) x[j * s] = (float)((x[j * s] - mu) * rs);
}

// layer target norm: each row of x (n, d)
__global__ void d2v_norm_rows(float* x, int n, int d, float eps) {
    ROW_BEGIN(n)
    norm_strided(x + row * d, d, 1, eps, lane);
}

// instance target norm: each column c of each sample's (t, d) block; one warp per (sample, c)
__global__ void d2v_norm_cols(float* x, int b, int t, int d, float eps) {
    ROW_BEGIN((long)b * d)
    long s = row / d, c = row % d;
    norm_strided(x + s * t * d + c, t, d, eps, lane);
}

__device__ float gelu_grad(float x) {
    return 0.5f * (1.f + erff(x * 0.70710678118654752440f)) + x * 0.39894228040143267794f * expf(-0.5f * x * x);
}

// exact GELU and its derivative  (ops.GELU)
__global__ void d2v_gelu(float* y, const float* x, int n) {
    FOR_N(i, n) y[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752440f));
}
__global__ void d2v_gelu_bwd(float* dx, const float* x, const float* dy, int n) { FOR_N(i, n) dx[i] = dy[i] * gelu_grad(x[i]); }

// ---- reductions to one float64: per-block partials, then one block sums them in order ----

#define RB 256 // threads per reduction block

__device__ void block_sum_store(double v, double* out) {
    __shared__ double sh[RB];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = RB / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) *out = sh[0];
}

// data2vec regression loss (ops.RegressionLoss with upstream gradient 1):
// dpred = coef * el'(d); partial[block] = sum el(d), d = pred - tgt
__global__ void d2v_reg_loss(float* dpred, double* partial, const float* pred, const float* tgt, int n, float beta,
                             float coef) {
    double acc = 0;
    FOR_N(i, n) {
        double d = (double)(pred[i] - tgt[i]), a = fabs(d), el, gr;
        if (beta == 0.f) {
            el = d * d;
            gr = 2 * d;
        } else if (a < beta) {
            el = 0.5 * d * d / beta;
            gr = d / beta;
        } else {
            el = a - 0.5 * beta;
            gr = d > 0 ? 1 : -1;
        }
        acc += el;
        dpred[i] = (float)((double)coef * gr);
    }
    block_sum_store(acc, &partial[blockIdx.x]);
}

// partial[block] = sum of squares (gradient norm)
__global__ void d2v_sumsq(double* partial, const float* x, long n) {
    double acc = 0;
    FOR_N(i, n) acc += (double)x[i] * (double)x[i];
    block_sum_store(acc, &partial[blockIdx.x]);
}

// out[0] = scale * sum of the np partials, by one block
__global__ void d2v_sum_partials(double* out, const double* partial, int np, double scale) {
    double acc = 0;
    for (int i = threadIdx.x; i < np; i += RB) acc += partial[i];
    block_sum_store(acc, out);
    if (threadIdx.x == 0) out[0] *= scale;
}

// ---- optimiser ----

// torch AdamW (train.AdamW): g' = g*coef; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
// w = w*shrink - step*m/(sqrt(v)/bc2 + eps)
__global__ void d2v_adamw(float* w, const float* g, float* m, float* v, int n, float b1, float b2, float eps,
                          float step, float coef, float shrink, float bc2) {
    FOR_N(i, n) {
        float gj = g[i] * coef;
        float mi = b1 * m[i] + (1.f - b1) * gj;
        float vi = b2 * v[i] + (1.f - b2) * gj * gj;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - step * mi / (sqrtf(vi) / bc2 + eps);
    }
}

// teacher = a*teacher + b*student  (teacher.Update)
__global__ void d2v_ema(float* t, const float* s, int n, float a, float b) { FOR_N(i, n) t[i] = a * t[i] + b * s[i]; }

}  // extern "C"
