# synacct - where are my SYNs being lost?
#
#   make            build ./synacct (BPF objects embedded through skeletons);
#                   names the Debian packages that are missing, if any
#   make unit       build and run the C unit tests (no root, no BPF)
#   make test       install what is missing, run the unit tests, then the
#                   self-tests (root; builds labs in namespaces)
#   make demo       install what is missing, then a self-contained lab that
#                   shows what synacct does
#   make bench      install what is missing, then the benchmarks (root,
#                   ~2-3 min, not part of make test): one table, see
#                   docs/performance.md; BENCH_NIC=1 adds virtio_net in a
#                   QEMU guest (~4 min more)
#   make mutants    install what is missing, then break synacct on purpose,
#                   one mutant at a time, and run the tests that guard each
#                   (root, not part of make test; MUTANTS="id ..." for some:
#                   see docs/testing.md)
#   make test-kernels  install what is missing, then the self-tests on
#                   Debian 12's 6.1 and 6.12 kernels under QEMU TCG, and
#                   the units under systemd as PID 1 there (root;
#                   KERNELS=, VM_TESTS=, VM_SYSTEMD=: see selftests/vm/kernels.sh)
#   make test-kernels-ci  the subset of it that .ci/run runs (6.1 only)
#   make test-kernels-nic  the lab files about a real driver, in guests with
#                   a virtio-net NIC fed from a tap on the host (VM_NIC=virtio)
#   make deps       install the Debian packages needed for all of the above
#   make install    install binary, man page, config, units (synacct.service
#                   and the template synacct@.service), alert rules,
#                   bash completion, the docs in share/doc/synacct
#                   (PREFIX=/usr/local, DESTDIR for staging)
#   make VMLINUX_BTF=FILE  the kernel types (vmlinux.h) from FILE, a
#                   kernel's BTF, instead of include/vmlinux/ARCH/vmlinux.h
#                   (docs/design.md, "Build choices"); make vmlinux-h
#                   VMLINUX_BTF=FILE refreshes that file
#   make WERROR=1   warnings are errors (the test targets and .ci/run set
#                   it; a package build does not: a newer compiler's new
#                   warning must not break it)
#   make deb        build synacct_VERSION_ARCH.deb with debhelper
#                   (configs/debian/; docs/deploy.md)
#   make test-deb   make deb, lintian, then install, run and purge it in a
#                   fresh Debian 12 root (root; selftests/deb/deb.t)
#   make image      build the OCI image localhost/synacct:VERSION from
#                   that .deb (made first when there is none) and the
#                   libraries apt resolves for it (configs/image/;
#                   docs/kubernetes.md)
#   make test-image make image, then run it with podman as
#                   configs/kubernetes/daemonset.yaml asks (root;
#                   selftests/image/image.t), and validate the manifests
#                   (selftests/image/manifests.t)
#   make V=1        show full commands
#   make CFLAGS=... your flags instead of -O2 -g (e.g. -fsanitize=address);
#                   the project's warnings and include paths stay
#   make SANITIZE=1 test
#                   the same tests, with synacct, the unit tests and the lab
#                   tools built with ASan + UBSan into build-san/ (any
#                   sanitizer report fails the run)
#   make test TESTS=selftests/t/20-counts.t   one test file
#                   (each file through selftests/lib/run-file.sh: a timeout,
#                   SA_TEST_TIMEOUT=900 s, and a check of what it left
#                   behind; whole-file skips against selftests/expected-skips;
#                   a summary of the skips by cause at the end)

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
PKG_CONFIG ?= pkg-config

# SANITIZE=1: ASan + UBSan, every report fatal, built apart from the
# normal build so the two never mix.  clang: with gcc's separate libubsan,
# UBSan ignores log_path and a report could go unseen in a test's stderr.
ifeq ($(SANITIZE),1)
CC      := $(CLANG)
BUILD   := build-san
OUT     := build-san/
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
BUILD   := build
OUT     :=
SAN_FLAGS :=
endif
SYNACCT_BIN := $(OUT)synacct
ST      := $(OUT)selftests/bin

# ---- packages ----

# pkg-config names of the libraries synacct links.
PKGS    := libbpf libxdp libelf zlib json-c libcap-ng libmicrohttpd inih libsystemd yaml-0.1 libcrypt
# Debian packages to build synacct, and the ones the tests and demo add.
BUILD_DEB_PKGS := make gcc clang llvm pkg-config bpftool libbpf-dev \
	libxdp-dev libelf-dev zlib1g-dev libjson-c-dev libcap-ng-dev \
	libmicrohttpd-dev libinih-dev libsystemd-dev libyaml-dev libcrypt-dev
TEST_DEB_PKGS  := xdp-tools iproute2 nftables jq perl util-linux procps tmux \
	curl prometheus prometheus-alertmanager chromium fonts-dejavu-core strace python3 \
	libcap2-bin openssl apache2-utils $(PKG_DEB_PKGS) lintian mmdebstrap
# make deb: what dpkg-buildpackage and debhelper need beyond the build's.
PKG_DEB_PKGS   := debhelper dpkg-dev
DEB_PKGS := $(BUILD_DEB_PKGS) $(TEST_DEB_PKGS)
# make image and make test-image: the image's root is made by mmdebstrap
# and imported by podman; the test runs it with runc (crun refuses a
# hybrid cgroup hierarchy), maps the DaemonSet with python3-yaml and
# validates the manifests with node (kubernetes-models, from npm; Debian's
# npm unless the nodejs installed carries one, as NodeSource's does, which
# conflicts with it).
IMAGE_DEB_PKGS := mmdebstrap podman runc python3-yaml curl nodejs
# Only make bench needs these: the tools it compares synacct with.
BENCH_DEB_PKGS := iperf3 tcpdump time linux-perf
# make test-kernels: QEMU, the initramfs tools, and the user space it
# copies into the guest.
VM_DEB_PKGS    := qemu-system-x86 cpio kmod coreutils findutils diffutils mawk

# missing_debs PACKAGES: the ones dpkg does not have installed (a shell
# snippet that prints them).
missing_debs = for p in $(1); do \
	dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	grep -q '^install ok installed' || printf '%s ' $$p; done

# ---- output ----

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# ---- flags ----

ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/; s/ppc64le/powerpc/; s/s390x/s390/')

# CFLAGS and LDFLAGS are the user's (make CFLAGS=...); what the project
# needs is in SA_CFLAGS and SA_LDLIBS, which come first and stay.
CFLAGS  ?= -O2 -g
# -Werror for developers and CI only (WERROR=1): the targets that test
# set it, for themselves and the makes they start.
ifneq ($(filter test unit test-bins test-kernels test-kernels-ci demo bench mutants test-deb test-image,$(MAKECMDGOALS)),)
WERROR ?= 1
endif
export WERROR
WERROR_FLAG := $(if $(filter 1,$(WERROR)),-Werror)
SA_CFLAGS := $(SAN_FLAGS) -Wall -Wextra $(WERROR_FLAG) -std=gnu11 -Iinclude -I$(BUILD) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
SA_LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Dependency files next to each object: headers are found, not listed.
DEPFLAGS = -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall $(WERROR_FLAG) \
	-I$(BUILD)

# agent/ is in layers (docs/design.md, "Layout"): each folder sees only
# the layers below it, so an include across the rule does not compile.
# core: the model and the stage interface; sys: the kernel and the file
# system (pins, locks, namespaces, netlink, map readers); analysis:
# reconcile, settle; output: JSON, table, metrics; cmd: commands and the
# run.  The stages (xdp/, tc/, kprobe/*/) see core and sys only.
LAYERS_core     := core
LAYERS_sys      := core sys
LAYERS_analysis := core analysis
LAYERS_output   := core analysis output
LAYERS_cmd      := core sys analysis output cmd
LAYERS_stage    := core sys
LAYER_INC = $(patsubst %,-Iagent/%,$(LAYERS_$(1)))
# What is not in agent/ or a stage (the self-tests) sees every layer.
SA_INC = $(call LAYER_INC,cmd)
$(foreach l,core sys analysis output cmd,\
	$(eval $(BUILD)/agent/$(l)/%.o $(BUILD)/unit/agent/$(l)/%.o: SA_INC = $$(call LAYER_INC,$(l))))
$(BUILD)/xdp/%.o $(BUILD)/tc/%.o $(BUILD)/kprobe/%.o: SA_INC = $(call LAYER_INC,stage)

COMPILE = $(CC) $(SA_CFLAGS) $(SA_INC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS)
LINK    = $(CC) $(SAN_FLAGS) $(CFLAGS) $(LDFLAGS)

# ---- sources ----

BPF_SRCS  := $(wildcard xdp/*.bpf.c tc/*.bpf.c kprobe/*/*.bpf.c)
vpath %.bpf.c $(sort $(dir $(BPF_SRCS)))
# The stack object's units, one per stage it holds, each compiled on its
# own and linked into stack.bpf.o (one skeleton, one load).  In this
# order: the programs' (and their attachment's) order in the skeleton.
STACK_UNITS := nat forward drops verdict synack handshake
STACK_UNIT_OBJS := $(STACK_UNITS:%=$(BUILD)/%.bpf.o)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS))) \
	$(BUILD)/stack.bpf.o
SKELS     := $(patsubst %.bpf.o,%.skel.h,$(filter-out $(STACK_UNIT_OBJS),$(BPF_OBJS)))

USER_SRCS := $(filter-out %.bpf.c,$(wildcard agent/*/*.c xdp/*.c xdp/*/*.c tc/*.c tc/*/*.c kprobe/*/*.c))
USER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))

SELFTEST_BINS := $(ST)/test_parse $(ST)/test_reasons $(ST)/test_fuzz \
	$(ST)/lab_server $(ST)/lab_client $(ST)/lab_synflood $(ST)/lab_probe \
	$(ST)/xdp_pass.bpf.o $(ST)/tc_burst.bpf.o $(ST)/tc_drop_synack.bpf.o $(ST)/tc_drop.bpf.o

# Unit tests (selftests/unit/): the agent's plain-C files under test,
# compiled on their own, so they build without clang, bpftool or BTF.
UNIT_SRCS := $(wildcard selftests/unit/*.c)
UNIT_AGENT_SRCS := agent/core/ports.c agent/core/mib.c agent/core/counters.c \
	agent/core/snapshot.c agent/core/reason_names.c agent/analysis/reconcile.c \
	agent/output/prom.c agent/output/report.c agent/output/table.c \
	agent/core/escape.c agent/core/log.c agent/cmd/stages.c \
	agent/core/pod.c agent/sys/pods.c
UNIT_OBJS := $(patsubst %.c,$(BUILD)/unit/%.o,$(UNIT_SRCS) $(UNIT_AGENT_SRCS))
# Plain C: libbpf and libmicrohttpd stay out (map_read.c, slot_read.c,
# log_libbpf.c, http.c); report.c writes JSON with json-c.  The agent's
# allocations can be made to fail (selftests/unit/alloc.c).
UNIT_LDLIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

BENCH_BINS := selftests/bin/bench_helper selftests/bin/bench_empty.bpf.o

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/synacct
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/synacct
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# What make install puts in DOCDIR: the README and every document.
DOC_FILES  := README.md $(wildcard docs/*.md)

.PHONY: all deps check-deps test demo bench mutants clean install uninstall deb test-deb image test-image
# Keep the BPF objects: they are the skeletons' sources and worth reading.
.SECONDARY: $(BPF_OBJS)
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

all: $(SYNACCT_BIN)

# ---- dependencies ----

# Install what is missing (make deps; make test and make demo run it).
deps:
	$(Q)missing=$$(echo $$($(call missing_debs,$(DEB_PKGS)))); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# Plain make installs nothing: it names what is missing and how to get
# it.  Where dpkg is not the package manager, pkg-config and the tools'
# names say what to look for.  Every build step waits for this check.
check-deps:
	$(Q)if command -v dpkg-query >/dev/null; then \
		missing=$$(echo $$($(call missing_debs,$(BUILD_DEB_PKGS)))); \
		[ -z "$$missing" ] && exit 0; \
		echo "synacct: missing Debian packages: $$missing" >&2; \
		echo "  install them with: sudo apt-get install -y --no-install-recommends $$missing" >&2; \
		echo "  (or: sudo make deps, which installs what the tests and demo need too)" >&2; \
		exit 1; \
	fi; \
	missing=; \
	for t in $(CC) $(CLANG) $(BPFTOOL) $(PKG_CONFIG); do \
		command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	for p in $(PKGS); do \
		$(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p.pc"; done; \
	[ -z "$$missing" ] && exit 0; \
	echo "synacct: missing:$$missing (install your distribution's packages for them)" >&2; \
	exit 1

# ---- BPF ----

# vmlinux.h, the kernel's types, is kept in the repository (generated
# from a 6.18 kernel's BTF), never read from the build machine: a build
# is the same on any host, with or without /sys/kernel/btf.  CO-RE
# relocates field offsets at load time, so it serves any BTF kernel
# (docs/design.md, "Build choices").  VMLINUX_BTF=FILE: the types of
# that BTF instead (build/vmlinux.src remembers which, so a change of
# source rebuilds).
VMLINUX_H := include/vmlinux/$(ARCH)/vmlinux.h
ifneq ($(VMLINUX_BTF),)
ifeq ($(wildcard $(VMLINUX_BTF)),)
$(error VMLINUX_BTF=$(VMLINUX_BTF): no such file (give a kernel's BTF, such as /sys/kernel/btf/vmlinux))
endif
endif
VMLINUX_SRC := $(if $(VMLINUX_BTF),$(VMLINUX_BTF),$(VMLINUX_H))
.PHONY: FORCE
$(BUILD)/vmlinux.src: FORCE
	$(Q)mkdir -p $(BUILD)
	$(Q)[ "$$(cat $@ 2>/dev/null)" = "$(abspath $(VMLINUX_SRC))" ] || echo "$(abspath $(VMLINUX_SRC))" >$@

$(BUILD)/vmlinux.h: $(VMLINUX_SRC) $(BUILD)/vmlinux.src | check-deps
	$(call msg,GEN,$@)
ifneq ($(VMLINUX_BTF),)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@
else
	$(Q)[ -f $(VMLINUX_H) ] || { echo "synacct: no $(VMLINUX_H) for $(ARCH): give a kernel's BTF, make VMLINUX_BTF=/sys/kernel/btf/vmlinux" >&2; exit 1; }
	$(Q)cp $(VMLINUX_H) $@
endif

# Refresh the kept vmlinux.h from VMLINUX_BTF (a kernel's BTF file).
.PHONY: vmlinux-h
vmlinux-h:
	$(Q)[ -n "$(VMLINUX_BTF)" ] || { echo "usage: make vmlinux-h VMLINUX_BTF=FILE" >&2; exit 2; }
	$(Q)mkdir -p $(dir $(VMLINUX_H))
	$(Q){ printf '/* Generated by make vmlinux-h: bpftool btf dump file %s format c,\n * made on Linux %s (%s).  CO-RE relocates every field access at load\n * time, so these types serve any BTF kernel synacct supports\n * (docs/design.md, "Build choices"). */\n' \
		"$(VMLINUX_BTF)" "$$(uname -r)" "$$(uname -m)"; \
		$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c; } >$(VMLINUX_H).tmp && mv $(VMLINUX_H).tmp $(VMLINUX_H)

# The slot maps (include/bpf/count.h) hand out slots with atomic
# fetch-and-add and compare-and-swap, which need BPF ISA v3 (Linux 5.12+);
# units linked together are built for the same ISA.
$(BUILD)/nic.bpf.o $(BUILD)/tc.bpf.o $(STACK_UNIT_OBJS): BPF_CFLAGS += -mcpu=v3

$(BUILD)/%.bpf.o: %.bpf.c | $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Static linking, as the kernel's selftests do (linked_maps, linked_vars):
# each map or global the units' headers define __weak is kept once, every
# use resolved to it (the other units' copies of a global stay behind as
# unused bytes in .rodata and .bss, a few hundred).
$(BUILD)/stack.bpf.o: $(STACK_UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# ---- the agent ----

# The skeletons exist before the first compile; from then on each
# object's .d file says which of them it includes.
$(BUILD)/%.o: %.c | $(SKELS) check-deps
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(COMPILE) -c $< -o $@

# The commit synacct is built from, for --version and synacct_build_info:
# "unknown" when this tree is not a git checkout of its own (a tarball,
# even one unpacked inside another repository); "-dirty" with changes
# not committed.  Rewritten only when it changes, so that a build with
# nothing new links nothing again.
SA_COMMIT = $(shell [ "$$(git -C $(CURDIR) rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
	c=$$(git -C $(CURDIR) rev-parse --short=12 HEAD 2>/dev/null) && \
	{ git -C $(CURDIR) diff --quiet HEAD -- 2>/dev/null && echo $$c || echo $$c-dirty; } || echo unknown)

.PHONY: FORCE
$(BUILD)/build_info_gen.h: FORCE | check-deps
	$(Q)mkdir -p $(BUILD)
	$(Q)printf '#define SA_BUILD_COMMIT "%s"\n#define SA_BUILD_LIBXDP "%s"\n' \
		"$(SA_COMMIT)" "$$($(PKG_CONFIG) --modversion libxdp)" >$@.tmp && \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/agent/core/build_info.o: $(BUILD)/build_info_gen.h

$(SYNACCT_BIN): $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(LINK) $^ -o $@ $(SA_LDLIBS) $(LDLIBS)

# ---- self-test tools ----

$(ST)/test_parse $(ST)/test_fuzz: $(ST)/test_%: selftests/test_%.c | $(SKELS)
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(COMPILE) $< -o $@ $(LDFLAGS) $(SA_LDLIBS) $(LDLIBS)

$(ST)/test_reasons: $(BUILD)/selftests/test_reasons.o $(BUILD)/kprobe/stack/reasons.o \
		$(BUILD)/agent/core/reason_names.o
	$(Q)mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(LINK) $(filter %.o,$^) -o $@ $(SA_LDLIBS) $(LDLIBS)

$(ST)/xdp_pass.bpf.o $(ST)/tc_burst.bpf.o $(ST)/tc_drop_synack.bpf.o $(ST)/tc_drop.bpf.o: $(ST)/%.bpf.o: selftests/bpf/%.bpf.c | check-deps
	$(Q)mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall $(WERROR_FLAG) $(DEPFLAGS) \
		-I/usr/include/$(shell $(CC) -print-multiarch) -c $< -o $@

selftests/bin/bench_empty.bpf.o: selftests/bpf/bench_empty.bpf.c | check-deps
	$(Q)mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall $(WERROR_FLAG) $(DEPFLAGS) \
		-I/usr/include/$(shell $(CC) -print-multiarch) -c $< -o $@

selftests/bin/bench_helper: selftests/bench/bench_helper.c | check-deps
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(COMPILE) $< -o $@ $(LDFLAGS) $(SA_LDLIBS) $(LDLIBS)

$(ST)/%: selftests/tools/%.c | check-deps
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(COMPILE) $< -o $@ $(LDFLAGS)

# ---- unit tests ----

$(BUILD)/unit/%.o: %.c
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(COMPILE) -c $< -o $@

$(ST)/unit: $(UNIT_OBJS)
	$(Q)mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(LINK) $^ -o $@ $(UNIT_LDLIBS)

.PHONY: unit
# As root, 05-unit.t runs them as nobody: they must need no privilege.
unit: $(ST)/unit
ifeq ($(SANITIZE),1)
	$(Q)mkdir -p -m 1777 $(SAN_LOGS)
endif
	$(Q)$(SAN_ENV) prove --exec /bin/bash selftests/t/05-unit.t

# ---- test, demo ----

# Packages first, then the build (in a second make, so that make -j
# builds nothing before they are there).
# make test TESTS=selftests/t/20-counts.t: one file, same set-up.
TESTS ?= selftests/t/

ifeq ($(SANITIZE),1)
# Reports go to files (a test that looks at neither an exit status nor
# stderr would miss them there): any file at the end fails the run.  The
# directory is world-writable for the tests that drop privileges.
SAN_LOGS := $(abspath $(BUILD))/san-logs
SAN_ENV := SYNACCT=$(abspath $(SYNACCT_BIN)) SA_BIN=$(abspath $(ST)) SA_SANITIZED=1 \
	ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:log_path=$(SAN_LOGS)/asan \
	LSAN_OPTIONS=suppressions=$(abspath selftests/lsan.supp) \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan
SAN_CHECK = if [ -n "$$(ls -A $(SAN_LOGS))" ]; then \
		echo "sanitizer reports ($(SAN_LOGS)):"; cat $(SAN_LOGS)/*; exit 1; \
	fi; echo "sanitizers: 0 reports"
else
SAN_ENV :=
SAN_CHECK := true
endif

# What the tests run: synacct, the lab tools, the BPF and C unit tests
# (make mutants builds the same in its copies).
.PHONY: test-bins
test-bins: $(SYNACCT_BIN) $(SELFTEST_BINS) $(ST)/unit

test: deps
ifeq ($(SANITIZE),1)
	$(Q)rm -rf $(SAN_LOGS) && mkdir -p -m 1777 $(SAN_LOGS)
endif
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)$(SAN_ENV) selftests/run.sh $(TESTS); rc=$$?; \
	$(SAN_CHECK); exit $$rc

# The lab suite on other kernels, each booted under QEMU with an initramfs
# made from this machine's user space (selftests/vm/).
.PHONY: test-kernels
test-kernels: deps
	$(Q)missing=$$(echo $$($(call missing_debs,$(VM_DEB_PKGS)))); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	$(Q)$(MAKE) --no-print-directory synacct $(SELFTEST_BINS)
	$(Q)selftests/vm/kernels.sh

# The part of it .ci/run runs: Debian 12's 6.1 only, the funnel (fexit
# and kprobe listener forms), losses, pins and VLAN (kernels.sh, VM_SET),
# then the service under systemd as PID 1 (80-systemd.t, about 2 min).
.PHONY: test-kernels-ci
test-kernels-ci:
	$(Q)$(MAKE) --no-print-directory test-kernels VM_SET=ci

# The lab files about a real driver (selftests/t/*.t with the line
# "# synacct-vm: nic": 68-nic.t) in a guest with a virtio-net NIC whose
# host side is a tap in a lab namespace (kernels.sh, VM_NIC=virtio);
# KERNELS= as for test-kernels.  About 2 min a kernel under TCG.
.PHONY: test-kernels-nic
test-kernels-nic:
	$(Q)$(MAKE) --no-print-directory test-kernels VM_NIC=virtio VM_SYSTEMD= \
		VM_TESTS="$$(cd selftests/t && grep -lx '# synacct-vm: nic' *.t | tr '\n' ' ')"

demo: deps
	$(Q)$(MAKE) --no-print-directory $(SYNACCT_BIN) $(SELFTEST_BINS)
	$(Q)selftests/demo.sh

# Benchmarks measure, they do not pass or fail: see docs/performance.md.
bench: deps
	$(Q)missing=$$(echo $$($(call missing_debs,$(BENCH_DEB_PKGS) $(if $(filter 1,$(BENCH_NIC)),$(VM_DEB_PKGS))))); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	$(Q)$(MAKE) --no-print-directory -s synacct $(SELFTEST_BINS) $(BENCH_BINS) >&2
	$(Q)selftests/bench/bench.sh

# Every check can fail: each mutant of selftests/mutants/mutants.txt is
# built in a copy of the tree and must be killed by its guarding tests.
MUTANTS ?=
mutants: deps
	$(Q)selftests/mutants/run.sh $(MUTANTS)

# The units name the binary and config where they are installed; an
# existing config is the administrator's and is left as it is.  The
# alerts' and the dashboard's runbook links point at the runbook installed
# beside them, or at RUNBOOK_URL (make install RUNBOOK_URL=https://...).
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 synacct $(DESTDIR)$(SBINDIR)/synacct
	$(Q)install -D -m 0644 docs/synacct.8 $(DESTDIR)$(MANDIR)/man8/synacct.8
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/synacct
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/synacct/synacct.conf ] || \
		install -m 0644 configs/synacct.conf $(DESTDIR)$(SYSCONFDIR)/synacct/synacct.conf
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR)
	$(Q)for u in synacct.service synacct@.service; do \
		sed -e 's#/usr/local/sbin/synacct#$(SBINDIR)/synacct#g' \
			-e 's#/etc/synacct/#$(SYSCONFDIR)/synacct/#g' \
			configs/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(Q)install -d -m 0755 $(DESTDIR)$(DATADIR)/consoles
	$(Q)for f in synacct-alerts.yml synacct-dashboard.json; do \
		sed 's#https://synacct.example/docs/runbook.md#$(or $(RUNBOOK_URL),file://$(DATADIR)/runbook.md)#g' \
			configs/$$f >$(DESTDIR)$(DATADIR)/$$f && chmod 0644 $(DESTDIR)$(DATADIR)/$$f || exit 1; \
	done
	$(Q)install -m 0644 configs/synacct-rules.yml configs/alertmanager-synacct.yml docs/runbook.md \
		$(DESTDIR)$(DATADIR)/
	$(Q)install -m 0644 configs/consoles/synacct.html $(DESTDIR)$(DATADIR)/consoles/synacct.html
	$(Q)install -d -m 0755 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR)
	$(Q)install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	$(Q)install -m 0644 configs/synacct.bash-completion $(DESTDIR)$(BASHCOMPDIR)/synacct

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/synacct $(DESTDIR)$(MANDIR)/man8/synacct.8 \
		$(DESTDIR)$(UNITDIR)/synacct.service $(DESTDIR)$(UNITDIR)/synacct@.service \
		$(DESTDIR)$(DATADIR)/synacct-alerts.yml \
		$(DESTDIR)$(DATADIR)/synacct-rules.yml $(DESTDIR)$(DATADIR)/synacct-dashboard.json \
		$(DESTDIR)$(DATADIR)/alertmanager-synacct.yml $(DESTDIR)$(DATADIR)/runbook.md \
		$(DESTDIR)$(DATADIR)/consoles/synacct.html $(DESTDIR)$(BASHCOMPDIR)/synacct \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES)))
	$(Q)rmdir $(DESTDIR)$(DATADIR)/consoles $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# ---- the Debian package ----

# Its version is the binary's (--version) and configs/debian/changelog's:
# make deb refuses to build when they differ.
SA_VERSION = $(shell sed -n 's/^\#define SA_VERSION "\(.*\)"$$/\1/p' agent/core/build_info.h)
DEB_VERSION = $(shell dpkg-parsechangelog -l configs/debian/changelog -SVersion 2>/dev/null)
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE = synacct_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_TREE = build/deb/synacct-$(DEB_VERSION)

# A copy of the tree (no build output, no VCS), configs/debian/ as its
# debian/, built there with dpkg-buildpackage; the .deb lands here, the
# log, .buildinfo, .changes and debug symbols in build/deb/.
deb: check-deps
	$(Q)missing=$$(echo $$($(call missing_debs,$(PKG_DEB_PKGS)))); \
	[ -z "$$missing" ] || { echo "synacct: missing Debian packages: $$missing" >&2; \
		echo "  install them with: sudo apt-get install -y --no-install-recommends $$missing" >&2; exit 1; }
	$(Q)[ -n "$(DEB_VERSION)" ] && [ "$(DEB_VERSION)" = "$(SA_VERSION)" ] || \
		{ echo "synacct: configs/debian/changelog's version ($(DEB_VERSION)) is not the binary's ($(SA_VERSION))" >&2; exit 1; }
	$(call msg,DEB,$(DEB_FILE))
	$(Q)rm -rf build/deb && mkdir -p $(DEB_TREE)
	$(Q)tar -c --exclude-vcs --exclude=./build --exclude=./build-san --exclude=./synacct \
		--exclude=./selftests/bin --exclude='*.o' --exclude='*.d' --exclude='./*.deb' . | \
		tar -x -C $(DEB_TREE)
	$(Q)cp -r configs/debian $(DEB_TREE)/debian
	$(Q)cd $(DEB_TREE) && dpkg-buildpackage -b -us -uc -Jauto >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; echo "synacct: dpkg-buildpackage failed: build/deb/build.log" >&2; exit 1; }
	$(Q)mv build/deb/$(DEB_FILE) $(DEB_FILE)

# The package tested: lintian clean, installed into a fresh Debian 12
# root by apt, run, purged without a trace (selftests/deb/deb.t).  It is
# built where no kernel BTF is visible (a tmpfs over /sys/kernel/btf in a
# mount namespace of its own): a build that read the host's fails here.
test-deb: deps
	$(Q)unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec $(MAKE) --no-print-directory deb'
	$(Q)selftests/run.sh selftests/deb/deb.t

# ---- the OCI image ----

IMAGE_NAME = localhost/synacct:$(DEB_VERSION)

# Offline, from Debian's packages only (no base image): mmdebstrap
# extracts the .deb make deb left and the libraries apt resolves for it
# into build/image/root (configs/image/mkroot.sh), which podman imports
# as the image's one layer.  The .deb is made first only when there is
# none: make deb image rebuilds both.
image:
	$(Q)missing=$$(echo $$($(call missing_debs,$(IMAGE_DEB_PKGS)))); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	$(Q)[ -f $(DEB_FILE) ] || $(MAKE) --no-print-directory deb
	$(call msg,IMAGE,$(IMAGE_NAME))
	$(Q)configs/image/mkroot.sh $(DEB_FILE) build/image/root
	@# The image this replaces goes, not left behind untagged.
	$(Q)podman rmi -f $(IMAGE_NAME) >/dev/null 2>&1 || true
	$(Q)tar -C build/image/root --numeric-owner -c . | podman import --quiet \
		--change 'ENTRYPOINT ["/usr/sbin/synacct"]' --change 'CMD ["--help"]' \
		--change 'LABEL org.opencontainers.image.title=synacct' \
		--change 'LABEL org.opencontainers.image.version=$(DEB_VERSION)' \
		--change 'LABEL org.opencontainers.image.description=SYNs per port at each stage of their path (XDP, TC, stack, listener queues): where they are lost and why' \
		--change 'LABEL org.opencontainers.image.licenses=GPL-2.0' \
		--message 'synacct $(DEB_VERSION) from $(DEB_FILE) and Debian 12 (bookworm)' \
		- $(IMAGE_NAME) >/dev/null
	$(Q)podman image inspect -f '  IMAGE    {{.Size}} bytes' $(IMAGE_NAME)

# The image run as the DaemonSet runs it, and the manifests validated.
test-image: deps test-bins image
	$(Q)command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends npm >/dev/null
	$(Q)selftests/run.sh selftests/image/

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf build build-san synacct selftests/bin synacct_*.deb

# stack.bpf.o is linked, not compiled: a stack.bpf.d is an older
# build's, whose source is gone.
-include $(filter-out $(BUILD)/stack.bpf.d,$(wildcard $(BUILD)/*.d \
	$(USER_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/selftests/*.d $(ST)/*.d))
