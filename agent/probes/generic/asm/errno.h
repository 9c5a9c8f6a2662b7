/* For BPF compiles only: libbpf's usdt.bpf.h includes <linux/errno.h>, which
 * wants the architecture's <asm/errno.h>; clang -target bpf does not search
 * /usr/include/<triplet>, so this folder (on the BPF include path) supplies
 * the generic numbers, which are x86's. */
#include <asm-generic/errno.h>
