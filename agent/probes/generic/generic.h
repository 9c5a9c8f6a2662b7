/* Shared between the generic BPF programs (generic_*.bpf.c) and their loader
 * (generic_probe.cc): plain C, fixed-width types only. The includer provides
 * __u32/__u64 (vmlinux.h in BPF code, <linux/types.h> in user space).
 *
 * A generic probe is one pre-compiled program per attach family, steered by
 * `const volatile` globals set between open and load: which operand feeds
 * each key slot, the value and the filter, and where a tracepoint field is. */
#ifndef ANDON_AGENT_PROBES_GENERIC_GENERIC_H_
#define ANDON_AGENT_PROBES_GENERIC_GENERIC_H_

#define GENERIC_STR_LEN 32      /* a string key slot, NUL included */
#define GENERIC_MAX_KEYS 10240  /* default bound of the counts map */
#define GENERIC_MAX_HIST 32768  /* default bound of the histogram map */
#define GENERIC_MAX_ARGS 6      /* arg0..arg5 */
#define GENERIC_TICK_NS 100000000ULL /* the in-kernel event budget's tick */

/* Operand slots: the two keys, the value, the filter's left-hand side. */
#define GENERIC_SLOT_BY0 0
#define GENERIC_SLOT_BY1 1
#define GENERIC_SLOT_VALUE 2
#define GENERIC_SLOT_FILTER 3
#define GENERIC_SLOTS 4

/* Where an operand comes from. */
enum generic_src {
  GENERIC_SRC_NONE = 0,
  GENERIC_SRC_COMM = 1,          /* string */
  GENERIC_SRC_PID = 2,           /* the process (tgid) */
  GENERIC_SRC_FIELD_NUM = 3,     /* tracepoint integer at offset, size, signedness */
  GENERIC_SRC_FIELD_CHARS = 4,   /* tracepoint char[size] at offset: string */
  GENERIC_SRC_FIELD_DATALOC = 5, /* tracepoint __data_loc char[] at offset: string */
  GENERIC_SRC_ARG = 6,           /* argument `index` */
  GENERIC_SRC_STR_ARG = 7,       /* user string at argument `index`: string */
  GENERIC_SRC_RETVAL = 8,
  GENERIC_SRC_LATENCY = 9,       /* ns from function entry to return */
};

enum generic_value_mode {
  GENERIC_COUNT = 0,  /* counts map: hits */
  GENERIC_SUM = 1,    /* counts map: sum of the value */
  GENERIC_DIST = 2,   /* counts map: sum of the value; hist map: bucket counts */
};

enum generic_filter_op {
  GENERIC_OP_NONE = 0,
  GENERIC_OP_EQ = 1,
  GENERIC_OP_NE = 2,
  GENERIC_OP_LT = 3,
  GENERIC_OP_LE = 4,
  GENERIC_OP_GT = 5,
  GENERIC_OP_GE = 6,
};

/* Slots of the per-CPU stats array, cumulative. */
#define GENERIC_STAT_HITS 0     /* events recorded */
#define GENERIC_STAT_FULL 1     /* events lost: a map was full */
#define GENERIC_STAT_SAMPLED 2  /* events skipped by the event budget */
#define GENERIC_STAT_MISSED 3   /* returns without a recorded entry */
#define GENERIC_STATS 4

/* One series: per key slot a number or a string (the other stays zero). */
struct generic_key {
  __u64 num[2];
  char str[2][GENERIC_STR_LEN];
};

/* One histogram bucket of one series. */
struct generic_hist_key {
  struct generic_key key;
  __u32 bucket;
  __u32 pad;
};

#endif /* ANDON_AGENT_PROBES_GENERIC_GENERIC_H_ */
