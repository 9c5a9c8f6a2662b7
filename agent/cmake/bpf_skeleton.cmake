# Build rules for libbpf CO-RE probes: vmlinux.h from the running kernel's BTF,
# `.bpf.o` objects compiled with clang, and skeleton headers from bpftool. All
# outputs live in the build tree (ANDON_BPF_GEN_DIR) and are never committed.

find_program(ANDON_CLANG NAMES clang clang-14 REQUIRED)
find_program(ANDON_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
set(ANDON_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from")
set(ANDON_BPF_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/bpf_gen)
file(MAKE_DIRECTORY ${ANDON_BPF_GEN_DIR})

# Written to a temporary first so that a failed dump never leaves a truncated
# vmlinux.h that later builds would trust.
add_custom_command(
  OUTPUT ${ANDON_BPF_GEN_DIR}/vmlinux.h
  COMMAND sh -c "${ANDON_BPFTOOL} btf dump file ${ANDON_VMLINUX_BTF} format c > vmlinux.h.tmp && mv vmlinux.h.tmp vmlinux.h"
  WORKING_DIRECTORY ${ANDON_BPF_GEN_DIR}
  COMMENT "Generating vmlinux.h from ${ANDON_VMLINUX_BTF}"
  VERBATIM)
# The probes' BPF objects are compiled in their own folders; a target here
# gives the command above its rule in this directory.
add_custom_target(andon_vmlinux_h ALL DEPENDS ${ANDON_BPF_GEN_DIR}/vmlinux.h)

# andon_bpf_skeleton(<name> <src.bpf.c>): compiles src to <name>.bpf.o and
# generates <name>.skel.h in ANDON_BPF_GEN_DIR. Sets <name>_SKEL in the
# caller's scope to the header path, to be listed among a target's sources.
function(andon_bpf_skeleton name src)
  get_filename_component(src_abs ${src} ABSOLUTE)
  get_filename_component(src_dir ${src_abs} DIRECTORY)
  set(obj ${ANDON_BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${ANDON_BPF_GEN_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${ANDON_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86
            -I${ANDON_BPF_GEN_DIR} -I${src_dir} -I${PROJECT_SOURCE_DIR}
            -MD -MF ${obj}.d -c ${src_abs} -o ${obj}
    DEPENDS ${src_abs} ${ANDON_BPF_GEN_DIR}/vmlinux.h
    DEPFILE ${obj}.d
    COMMENT "Compiling BPF program ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND sh -c "${ANDON_BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}.tmp && mv ${skel}.tmp ${skel}"
    DEPENDS ${obj}
    COMMENT "Generating BPF skeleton ${name}.skel.h"
    VERBATIM)
  set(${name}_SKEL ${skel} PARENT_SCOPE)
endfunction()
