/*
 * ASAD drop mask on the CPU, fused: softmax -> drop score -> exponential
 * race -> exact K-smallest selection -> mask, one (sample, head) at a time.
 *
 * Same algorithm as mmdropmae.models.layers.asad (DropMAE, arXiv 2304.00571;
 * reference: mask_drop_out_dec in jimmy-dq/DropMAE models_mae.py):
 *
 *   A = softmax(logits) over the 2N keys of a query
 *   f_tem(i) = max_{j in other frame} A(i, j) + 1e-6
 *   spatial(i, j) = A(i, j) + 1e-6 over the own frame, 0 at j = i, / row sum
 *   s(i, j) = spatial(i, j) * f_tem(i)
 *
 * and K = floor(p (N - 1)) L entries of s drawn without replacement in
 * proportion to s. Sequential sampling without replacement has the law of
 * the K smallest E / s with E ~ Exp(1) i.i.d. (exponential race), so each
 * entry gets one key E / s and an exact radix select on the float bits
 * finds the K smallest (keys are >= 0, so their IEEE bits sort like
 * unsigned integers). E = -log(u) with u uniform on (0, 1), 24 bits, from a
 * counter-based hash of (seed, sample-head, entry): the result depends on
 * the seed only, not on the thread count.
 *
 * Python API (module mmdropmae.models.layers._asad_cpu):
 *   drop_mask(logits_ptr, mask_ptr, rows, n, k, seed, threads, keep)
 * logits: float32 contiguous (rows, 2n, 2n); mask: bool contiguous
 * (rows, 2n, 2n), fully written: True on the dropped links (keep=0) or on
 * the kept links (keep=1).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ASAD_EPS 1e-6f

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define ASAD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ASAD_CLONES
#endif

static inline uint32_t mix32(uint32_t x) {
  /* "lowbias32" integer hash (a bijection of 32-bit integers) */
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Keys E / s of the within-frame entries of one (sample, head).
 * keys: (2n, n) row-major; the own position gets +inf (never selected). */
ASAD_CLONES
static void asad_keys(const float *logits, float *keys, float *e, int n,
                      uint32_t key0, uint32_t key1) {
  const int len = 2 * n;
  for (int q = 0; q < len; ++q) {
    const float *row = logits + (size_t)q * len;
    const int f = q / n, i = q % n;
    const float *other = row + (1 - f) * n;
    float m = row[0];
    for (int j = 1; j < len; ++j) m = row[j] > m ? row[j] : m;
    float mc = other[0];
    for (int j = 1; j < n; ++j) mc = other[j] > mc ? other[j] : mc;
    float z = 0.f;
    for (int j = 0; j < len; ++j) {
      e[j] = expf(row[j] - m);
      z += e[j];
    }
    const float inv_z = 1.f / z;
    const float f_tem = expf(mc - m) * inv_z + ASAD_EPS;
    const float *eo = e + f * n;
    float s = 0.f;
    for (int j = 0; j < n; ++j) s += eo[j] * inv_z + ASAD_EPS;
    s -= eo[i] * inv_z + ASAD_EPS; /* the own position scores 0 */
    /* key = E / (spatial * f_tem) = -log(u) * S / ((A + eps) * f_tem) */
    const float c = s / f_tem;
    float *out = keys + (size_t)q * n;
    const uint32_t base = (uint32_t)q * (uint32_t)n;
    for (int j = 0; j < n; ++j) {
      const uint32_t h = mix32(mix32((base + (uint32_t)j) ^ key0) ^ key1);
      const float u = ((float)(h >> 8) + 0.5f) * (1.f / 16777216.f);
      out[j] = -logf(u) * c / (eo[j] * inv_z + ASAD_EPS);
    }
    ((uint32_t *)out)[i] = 0x7f800000U; /* +inf */
  }
}

/* Exact k-th smallest of `count` non-negative float keys, by their bits.
 *
 * Returns the bits T of the k-th smallest key and in *ties how many keys
 * equal to T belong to the k smallest (all keys < T do). The first pass
 * histograms the top 12 bits (four interleaved histograms, so that runs of
 * equal buckets do not serialise on one counter), then the keys of the
 * chosen bucket are copied out and the next 12 and 8 bits are resolved on
 * that copy only. `hist` holds 4 x 4096 counters, `cand` `count` keys.
 */
ASAD_CLONES
static uint32_t radix_select(const uint32_t *bits, size_t count, size_t k,
                             uint32_t *hist, uint32_t *cand, size_t *ties) {
  memset(hist, 0, 4 * 4096 * sizeof(uint32_t));
  size_t t = 0;
  for (; t + 4 <= count; t += 4) {
    hist[bits[t] >> 20]++;
    hist[4096 + (bits[t + 1] >> 20)]++;
    hist[8192 + (bits[t + 2] >> 20)]++;
    hist[12288 + (bits[t + 3] >> 20)]++;
  }
  for (; t < count; ++t) hist[bits[t] >> 20]++;
  size_t need = k;
  uint32_t d = 0;
  for (;; ++d) {
    const size_t c = (size_t)hist[d] + hist[4096 + d] + hist[8192 + d] +
                     hist[12288 + d];
    if (need <= c) break;
    need -= c;
  }
  size_t m = 0;
  for (t = 0; t < count; ++t)
    if ((bits[t] >> 20) == d) cand[m++] = bits[t];
  uint32_t prefix = d << 20;
  static const int shift[2] = {8, 0};
  static const uint32_t width[2] = {4096, 256};
  for (int pass = 0; pass < 2; ++pass) {
    const int sh = shift[pass];
    const uint32_t dmask = width[pass] - 1;
    memset(hist, 0, width[pass] * sizeof(uint32_t));
    for (t = 0; t < m; ++t) hist[(cand[t] >> sh) & dmask]++;
    for (d = 0; need > hist[d]; ++d) need -= hist[d];
    prefix |= d << sh;
    /* keep only the keys that share the prefix so far */
    size_t w = 0;
    const uint32_t pmask = ~((1U << sh) - 1);
    for (t = 0; t < m; ++t)
      if ((cand[t] & pmask) == prefix) cand[w++] = cand[t];
    m = w;
  }
  *ties = need;
  return prefix;
}

/* Mask of one (sample, head): `drop` on the keys < thr and on the first
 * `ties` keys == thr (scan order), the opposite value everywhere else. */
ASAD_CLONES
static void write_mask(const uint32_t *bits, uint8_t *m, int n, uint32_t thr,
                       size_t ties, uint8_t drop) {
  const int len = 2 * n;
  const uint8_t keep = 1 - drop;
  for (int q = 0; q < len; ++q) {
    const int f = q / n;
    const uint32_t *kb = bits + (size_t)q * n;
    uint8_t *row = m + (size_t)q * len;
    uint8_t *own = row + f * n, *other = row + (1 - f) * n;
    memset(other, keep, n);
    for (int j = 0; j < n; ++j) own[j] = kb[j] < thr ? drop : keep;
  }
  /* ties with the k-th smallest key: rare (keys are continuous), and a
   * second pass keeps the first loop branch-free */
  for (int q = 0; q < len && ties; ++q) {
    const int f = q / n;
    const uint32_t *kb = bits + (size_t)q * n;
    uint8_t *own = m + (size_t)q * len + f * n;
    for (int j = 0; j < n && ties; ++j)
      if (kb[j] == thr) {
        own[j] = drop;
        ties--;
      }
  }
}

typedef struct {
  const float *logits;
  uint8_t *mask;
  int64_t row0, row1;
  int n;
  int64_t k;
  uint64_t seed;
  int keep;
  int failed;
} asad_job;

static void *asad_worker(void *arg) {
  asad_job *job = (asad_job *)arg;
  const int n = job->n, len = 2 * n;
  const size_t count = (size_t)len * n, plane = (size_t)len * len;
  float *keys = (float *)malloc(count * sizeof(float));
  float *e = (float *)malloc((size_t)len * sizeof(float));
  uint32_t *hist = (uint32_t *)malloc(4 * 4096 * sizeof(uint32_t));
  uint32_t *cand = (uint32_t *)malloc(count * sizeof(uint32_t));
  if (!keys || !e || !hist || !cand) {
    job->failed = 1;
    free(keys);
    free(e);
    free(hist);
    free(cand);
    return NULL;
  }
  const uint8_t drop = job->keep ? 0 : 1;
  for (int64_t r = job->row0; r < job->row1; ++r) {
    const uint64_t h = splitmix64(job->seed ^ splitmix64((uint64_t)r));
    asad_keys(job->logits + r * plane, keys, e, n, (uint32_t)h,
              (uint32_t)(h >> 32));
    const uint32_t *bits = (const uint32_t *)keys;
    size_t ties;
    const uint32_t thr = radix_select(bits, count, (size_t)job->k, hist, cand,
                                      &ties);
    uint8_t *m = job->mask + r * plane;
    write_mask(bits, m, n, thr, ties, drop);
  }
  free(keys);
  free(e);
  free(hist);
  free(cand);
  return NULL;
}

static PyObject *asad_drop_mask(PyObject *self, PyObject *args) {
  unsigned long long logits_ptr, mask_ptr, seed;
  long long rows, k;
  int n, threads, keep;
  if (!PyArg_ParseTuple(args, "KKLiLKip", &logits_ptr, &mask_ptr, &rows, &n,
                        &k, &seed, &threads, &keep))
    return NULL;
  if (rows < 0 || n < 1 || k < 0 || k > (long long)2 * n * (n - 1)) {
    PyErr_SetString(PyExc_ValueError, "asad drop_mask: bad sizes");
    return NULL;
  }
  if (threads < 1) threads = 1;
  if (threads > rows) threads = rows > 0 ? (int)rows : 1;
  asad_job jobs[64];
  pthread_t tids[64];
  if (threads > 64) threads = 64;
  int failed = 0;
  Py_BEGIN_ALLOW_THREADS;
  for (int t = 0; t < threads; ++t) {
    jobs[t].logits = (const float *)(uintptr_t)logits_ptr;
    jobs[t].mask = (uint8_t *)(uintptr_t)mask_ptr;
    jobs[t].row0 = rows * t / threads;
    jobs[t].row1 = rows * (t + 1) / threads;
    jobs[t].n = n;
    jobs[t].k = k;
    jobs[t].seed = seed;
    jobs[t].keep = keep;
    jobs[t].failed = 0;
  }
  int inline_job[64] = {0};
  for (int t = 1; t < threads; ++t)
    inline_job[t] = pthread_create(&tids[t], NULL, asad_worker, &jobs[t]) != 0;
  asad_worker(&jobs[0]);
  for (int t = 1; t < threads; ++t) {
    if (inline_job[t])
      asad_worker(&jobs[t]); /* no thread could be started for it */
    else
      pthread_join(tids[t], NULL);
  }
  for (int t = 0; t < threads; ++t) failed |= jobs[t].failed;
  Py_END_ALLOW_THREADS;
  if (failed) return PyErr_NoMemory();
  Py_RETURN_NONE;
}

static PyObject *asad_smallest_k(PyObject *self, PyObject *args) {
  unsigned long long keys_ptr, mask_ptr;
  long long rows, count, k;
  if (!PyArg_ParseTuple(args, "KKLLL", &keys_ptr, &mask_ptr, &rows, &count,
                        &k))
    return NULL;
  if (rows < 0 || count < 1 || k < 0 || k > count) {
    PyErr_SetString(PyExc_ValueError, "asad smallest_k: bad sizes");
    return NULL;
  }
  uint32_t *hist = (uint32_t *)malloc(4 * 4096 * sizeof(uint32_t));
  uint32_t *cand = (uint32_t *)malloc((size_t)count * sizeof(uint32_t));
  if (!hist || !cand) {
    free(hist);
    free(cand);
    return PyErr_NoMemory();
  }
  Py_BEGIN_ALLOW_THREADS;
  for (long long r = 0; r < rows; ++r) {
    const uint32_t *bits = (const uint32_t *)(uintptr_t)keys_ptr + r * count;
    uint8_t *m = (uint8_t *)(uintptr_t)mask_ptr + r * count;
    size_t ties = 0;
    const uint32_t thr =
        k ? radix_select(bits, (size_t)count, (size_t)k, hist, cand, &ties)
          : 0;
    for (long long t = 0; t < count; ++t) {
      m[t] = bits[t] < thr;
      if (bits[t] == thr && ties) {
        m[t] = 1;
        ties--;
      }
    }
  }
  Py_END_ALLOW_THREADS;
  free(hist);
  free(cand);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"drop_mask", asad_drop_mask, METH_VARARGS,
     "drop_mask(logits_ptr, mask_ptr, rows, n, k, seed, threads, keep)\n\n"
     "Fill a (rows, 2n, 2n) bool mask with the ASAD drop (keep=False) or "
     "keep (keep=True) mask of (rows, 2n, 2n) float32 logits."},
    {"smallest_k", asad_smallest_k, METH_VARARGS,
     "smallest_k(keys_ptr, mask_ptr, rows, count, k)\n\n"
     "Mark the k smallest of each row of (rows, count) non-negative float32 "
     "keys in a (rows, count) bool mask (the selection step, for tests)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_asad_cpu",
                                    "Fused CPU kernel of the ASAD drop mask.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__asad_cpu(void) { return PyModule_Create(&module); }
