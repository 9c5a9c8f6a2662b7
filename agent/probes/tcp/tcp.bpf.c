// SPDX-License-Identifier: GPL-2.0
// TCP connects (with latency), accepts, retransmits and resets per owning
// process, and reset/retransmit events with addresses.
//
// Most TCP state changes run in softirq context, where the current task is
// whoever was interrupted. So each socket's owner is remembered when it is
// known: at connect() (process context), and for accepted sockets from the
// process that called listen() on the local port. Counters are cumulative
// per-CPU values keyed by (owner comm, kind, bucket); user space reads
// deltas. Events go through a ring buffer.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcp.h"
#include "common/value/log_linear_bucket.h"
// clang-format on

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define EEXIST 17

struct owner {
  char comm[TCP_COMM_LEN];
  __u32 tgid;
  __u32 pad;
};

// Owners of live sockets, by struct sock pointer. LRU: sockets destroyed
// without a CLOSE transition we saw age out.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct owner);
} owners SEC(".maps");

// Listening processes by (family << 16 | local port).
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct owner);
} listeners SEC(".maps");

// When each connect in flight started, by struct sock pointer.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __u64);
} connect_start SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, TCP_MAX_KEYS);
  __type(key, struct tcp_counter_key);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);  // user space may resize before load
} events SEC(".maps");

// Slot 0: counter updates lost (map full); slot 1: events lost (ring full).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

static __always_inline void drop(__u32 slot) {
  __u64* d = bpf_map_lookup_elem(&drops, &slot);
  if (d) *d += 1;
}

static __always_inline void count(const char* comm, __u32 kind, __u32 bucket) {
  struct tcp_counter_key key = {.kind = kind, .bucket = bucket};
  __builtin_memcpy(key.comm, comm, TCP_COMM_LEN);
  __u64* v = bpf_map_lookup_elem(&counts, &key);
  if (v) {
    *v += 1;  // this CPU's slot
    return;
  }
  __u64 one = 1;
  long err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
  if (err == -EEXIST) {
    v = bpf_map_lookup_elem(&counts, &key);
    if (v) {
      *v += 1;
      return;
    }
  }
  if (err) drop(0);
}

static __always_inline void current_owner(struct owner* o) {
  bpf_get_current_comm(o->comm, sizeof(o->comm));
  o->tgid = bpf_get_current_pid_tgid() >> 32;
}

// The owner of `sk`, or a placeholder naming why there is none.
static __always_inline void owner_of(__u64 sk, struct owner* o) {
  struct owner* found = sk ? bpf_map_lookup_elem(&owners, &sk) : 0;
  if (found) {
    *o = *found;
    return;
  }
  const char* name = sk ? "[unknown]" : "[no socket]";
  bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), name);
}

static __always_inline void emit(__u32 type, const struct owner* o, __u16 family, __u16 sport,
                                 __u16 dport, __u16 state, const void* saddr, const void* daddr,
                                 __u32 addr_len) {
  struct tcp_probe_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    drop(1);
    return;
  }
  e->ts_ns = bpf_ktime_get_ns();
  e->tgid = o->tgid;
  e->type = type;
  e->family = family;
  e->sport = sport;
  e->dport = dport;
  e->state = state;
  __builtin_memset(e->saddr, 0, sizeof(e->saddr));
  __builtin_memset(e->daddr, 0, sizeof(e->daddr));
  bpf_probe_read_kernel(e->saddr, addr_len & 31, saddr);
  bpf_probe_read_kernel(e->daddr, addr_len & 31, daddr);
  __builtin_memcpy(e->comm, o->comm, TCP_COMM_LEN);
  bpf_ringbuf_submit(e, 0);
}

// Optional, where fentry works: the connect starts at the call, before the
// route lookup and SYN, so latency includes them. Otherwise the SYN_SENT
// transition below starts the clock.
SEC("fentry/tcp_v4_connect")
int BPF_PROG(connect_v4_fentry, struct sock* sk) {
  __u64 key = (__u64)sk;
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&connect_start, &key, &now, BPF_ANY);
  return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_change(struct trace_event_raw_inet_sock_set_state* ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 0;
  const int from = ctx->oldstate;
  const int to = ctx->newstate;
  __u64 sk = (__u64)ctx->skaddr;
  struct owner o = {};

  if (to == TCP_SYN_SENT) {  // connect(), in the caller's context
    current_owner(&o);
    bpf_map_update_elem(&owners, &sk, &o, BPF_ANY);
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&connect_start, &sk, &now, BPF_NOEXIST);  // fentry may have set it
    count(o.comm, TCP_KIND_CONNECT, 0);
  } else if (from == TCP_SYN_SENT && to == TCP_ESTABLISHED) {
    __u64* start = bpf_map_lookup_elem(&connect_start, &sk);
    if (start) {
      __u64 ns = bpf_ktime_get_ns() - *start;
      bpf_map_delete_elem(&connect_start, &sk);
      owner_of(sk, &o);
      count(o.comm, TCP_KIND_CONNECT_LATENCY, andon_log_linear_bucket(ns));
    }
  } else if (to == TCP_LISTEN) {  // listen(), in the caller's context
    __u32 port = ((__u32)ctx->family << 16) | ctx->sport;
    current_owner(&o);
    bpf_map_update_elem(&listeners, &port, &o, BPF_ANY);
  } else if (from == TCP_SYN_RECV && to == TCP_ESTABLISHED) {
    __u32 port = ((__u32)ctx->family << 16) | ctx->sport;
    struct owner* l = bpf_map_lookup_elem(&listeners, &port);
    if (l) {
      o = *l;
    } else {
      bpf_probe_read_kernel_str(o.comm, sizeof(o.comm), "[unknown]");
    }
    bpf_map_update_elem(&owners, &sk, &o, BPF_ANY);
    count(o.comm, TCP_KIND_ACCEPT, 0);
  } else if (to == TCP_CLOSE) {
    if (from == TCP_LISTEN) {
      __u32 port = ((__u32)ctx->family << 16) | ctx->sport;
      bpf_map_delete_elem(&listeners, &port);
    }
    bpf_map_delete_elem(&owners, &sk);
    bpf_map_delete_elem(&connect_start, &sk);
  }
  return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit(struct trace_event_raw_tcp_retransmit_skb* ctx) {
  struct owner o = {};
  owner_of((__u64)ctx->skaddr, &o);
  count(o.comm, TCP_KIND_RETRANSMIT, 0);
  const __u16 family = ctx->family;
  if (family == AF_INET6) {
    emit(TCP_EVENT_RETRANSMIT, &o, family, ctx->sport, ctx->dport, ctx->state, ctx->saddr_v6,
         ctx->daddr_v6, 16);
  } else {
    emit(TCP_EVENT_RETRANSMIT, &o, family, ctx->sport, ctx->dport, ctx->state, ctx->saddr,
         ctx->daddr, 4);
  }
  return 0;
}

// Since 6.10 tcp_send_reset has its own layout (addresses as sockaddrs, and
// fires without a socket too); before, it shared tcp_event_sk_skb's.
struct trace_event_raw_tcp_event_sk_skb___old {
  const void* skaddr;
  int state;
  __u16 sport;
  __u16 dport;
  __u16 family;
  __u8 saddr[4];
  __u8 daddr[4];
  __u8 saddr_v6[16];
  __u8 daddr_v6[16];
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_send_reset")
int send_reset(void* raw) {
  struct owner o = {};
  if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset)) {
    struct trace_event_raw_tcp_send_reset* ctx = raw;
    owner_of((__u64)BPF_CORE_READ(ctx, skaddr), &o);
    count(o.comm, TCP_KIND_RESET, 0);
    // struct sockaddr_in / sockaddr_in6: family, port (network order), then
    // the address at 4 (v4) or 8 (v6, after flowinfo).
    __u8 src[28], dst[28];
    bpf_probe_read_kernel(src, sizeof(src), ctx->saddr);
    bpf_probe_read_kernel(dst, sizeof(dst), ctx->daddr);
    const __u16 family = *(__u16*)src;
    const __u16 sport = (src[2] << 8) | src[3];
    const __u16 dport = (dst[2] << 8) | dst[3];
    const int v6 = family == AF_INET6;
    emit(TCP_EVENT_RESET_SENT, &o, family, sport, dport, BPF_CORE_READ(ctx, state),
         v6 ? &ctx->saddr[8] : &ctx->saddr[4], v6 ? &ctx->daddr[8] : &ctx->daddr[4],
         v6 ? 16 : 4);
  } else {
    struct trace_event_raw_tcp_event_sk_skb___old* ctx = raw;
    owner_of((__u64)BPF_CORE_READ(ctx, skaddr), &o);
    count(o.comm, TCP_KIND_RESET, 0);
    const __u16 family = BPF_CORE_READ(ctx, family);
    const int v6 = family == AF_INET6;
    emit(TCP_EVENT_RESET_SENT, &o, family, BPF_CORE_READ(ctx, sport), BPF_CORE_READ(ctx, dport),
         BPF_CORE_READ(ctx, state), v6 ? (void*)ctx->saddr_v6 : (void*)ctx->saddr,
         v6 ? (void*)ctx->daddr_v6 : (void*)ctx->daddr, v6 ? 16 : 4);
  }
  return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int receive_reset(struct trace_event_raw_tcp_event_sk* ctx) {
  struct owner o = {};
  owner_of((__u64)ctx->skaddr, &o);
  count(o.comm, TCP_KIND_RESET, 0);
  const __u16 family = ctx->family;
  if (family == AF_INET6) {
    emit(TCP_EVENT_RESET_RECEIVED, &o, family, ctx->sport, ctx->dport, 0, ctx->saddr_v6,
         ctx->daddr_v6, 16);
  } else {
    emit(TCP_EVENT_RESET_RECEIVED, &o, family, ctx->sport, ctx->dport, 0, ctx->saddr, ctx->daddr,
         4);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
