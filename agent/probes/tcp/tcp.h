/* Shared between tcp.bpf.c and tcp_probe.cc: plain C, fixed-width types
 * only. The includer provides __u8/__u16/__u32/__u64 (vmlinux.h in BPF code,
 * <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_TCP_TCP_H_
#define ANDON_AGENT_PROBES_TCP_TCP_H_

#define TCP_COMM_LEN 16
/* Default capacity of the counters map; user space may change it. */
#define TCP_MAX_KEYS 16384

/* What a counter counts. */
#define TCP_KIND_CONNECT 0         /* active opens (connect() sent a SYN) */
#define TCP_KIND_ACCEPT 1          /* passive opens established */
#define TCP_KIND_RETRANSMIT 2      /* segments retransmitted */
#define TCP_KIND_RESET 3           /* resets sent or received */
#define TCP_KIND_CONNECT_LATENCY 4 /* connects established, by latency bucket */

/* One cumulative per-CPU counter. `comm` is the socket's owner: the process
 * that connected, or that listens on the port a connection was accepted on.
 * No padding: user space compares raw bytes. */
struct tcp_counter_key {
  char comm[TCP_COMM_LEN];
  __u32 kind;
  __u32 bucket; /* andon_log_linear_bucket(ns) for CONNECT_LATENCY, else 0 */
};

#define TCP_EVENT_RESET_SENT 1
#define TCP_EVENT_RESET_RECEIVED 2
#define TCP_EVENT_RETRANSMIT 3

/* A reset or retransmit, as sent through the ring buffer. Addresses are in
 * network byte order (IPv4 in the first 4 bytes), ports in host order. */
struct tcp_probe_event {
  __u64 ts_ns;
  __u32 tgid; /* the owner's process id; 0 if unknown */
  __u32 type; /* TCP_EVENT_* */
  __u16 family;
  __u16 sport;
  __u16 dport;
  __u16 state; /* the socket's TCP state (TCP_ESTABLISHED = 1...) */
  __u8 saddr[16];
  __u8 daddr[16];
  char comm[TCP_COMM_LEN];
};

#endif /* ANDON_AGENT_PROBES_TCP_TCP_H_ */
