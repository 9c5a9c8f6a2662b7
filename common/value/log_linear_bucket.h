/* The bucket mapping of Andon's log-linear distributions, in C so that BPF
 * programs (which fill histograms in the kernel) and C++ share one
 * definition. Values below 2^B are their own bucket; above, each power-of-two
 * range [2^e, 2^(e+1)) is split into 2^B linear sub-buckets, so a bucket's
 * width is at most 2^-B of its lower bound (B = 7: under 0.8 %, the midpoint
 * within 0.4 %). Index i of a value v >= 2^B with e = floor(log2 v):
 *   i = ((e - B + 1) << B) + ((v >> (e - B)) & (2^B - 1))
 * which is continuous with the exact buckets below 2^B and monotonic, and at
 * most 7423 for 64-bit values. No libc, no vmlinux.h: __u64-free plain C. */
#ifndef ANDON_COMMON_VALUE_LOG_LINEAR_BUCKET_H_
#define ANDON_COMMON_VALUE_LOG_LINEAR_BUCKET_H_

#define ANDON_DIST_SUB_BUCKET_BITS 7
#define ANDON_DIST_MAX_BUCKET 7423

/* floor(log2(v)) for v > 0, branch-light and loop-free for the BPF verifier. */
static inline int andon_log2_u64(unsigned long long v) {
  int r = 0;
  if (v >> 32) { v >>= 32; r += 32; }
  if (v >> 16) { v >>= 16; r += 16; }
  if (v >> 8) { v >>= 8; r += 8; }
  if (v >> 4) { v >>= 4; r += 4; }
  if (v >> 2) { v >>= 2; r += 2; }
  if (v >> 1) { r += 1; }
  return r;
}

static inline int andon_log_linear_bucket(unsigned long long v) {
  const int b = ANDON_DIST_SUB_BUCKET_BITS;
  if (v < (1ULL << b)) return (int)v;
  int e = andon_log2_u64(v);
  return ((e - b + 1) << b) + (int)((v >> (e - b)) & ((1ULL << b) - 1));
}

#endif /* ANDON_COMMON_VALUE_LOG_LINEAR_BUCKET_H_ */
