# synacct - where are my SYNs being lost?
#
#   make            build ./synacct (BPF objects embedded through skeletons)
#   make unit       build and run the C unit tests (no root, no BPF)
#   make test       run the unit tests, then the self-tests (root; builds
#                   labs in namespaces)
#   make demo       a self-contained lab that shows what synacct does
#   make deps       install the Debian packages needed for all of the above
#   make V=1        show full commands

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
PKG_CONFIG ?= pkg-config

BUILD   := build
PKGS    := libbpf libxdp libelf zlib json-c libcap-ng

# Debian packages for building, testing and the demo.
DEB_PKGS := make gcc clang llvm pkg-config bpftool libbpf-dev libxdp-dev \
	xdp-tools libelf-dev zlib1g-dev libjson-c-dev libcap-ng-dev \
	iproute2 nftables jq perl util-linux procps tmux

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/; s/ppc64le/powerpc/; s/s390x/s390/')

BPF_SRCS  := xdp/nic.bpf.c tc/tc.bpf.c kprobe/stack.bpf.c \
	kprobe/listeners.bpf.c
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_HDRS  := include/synacct.h include/bpf/parse.h include/bpf/count.h $(BUILD)/vmlinux.h

USER_SRCS := agent/main.c agent/options.c agent/log.c agent/netns.c agent/ports.c \
	agent/counters.c agent/snapshot.c agent/mib.c agent/reconcile.c \
	agent/settle.c agent/report.c agent/table.c agent/check.c agent/caps.c \
	xdp/nic.c tc/tc.c kprobe/stack.c kprobe/listeners.c
USER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))
USER_HDRS := include/synacct.h $(wildcard agent/*.h)

CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -Werror -std=gnu11 -Iinclude -Iagent -I$(BUILD) \
	   $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(BUILD)

SELFTEST_BINS := selftests/bin/test_parse selftests/bin/lab_server \
	selftests/bin/lab_client selftests/bin/lab_synflood \
	selftests/bin/xdp_pass.bpf.o

# Unit tests (selftests/unit/): the agent's plain-C files under test,
# compiled on their own, so they build without clang, bpftool or BTF.
UNIT_SRCS := $(wildcard selftests/unit/*.c)
UNIT_AGENT_SRCS := agent/ports.c agent/mib.c
UNIT_OBJS := $(patsubst %.c,$(BUILD)/unit/%.o,$(UNIT_SRCS) $(UNIT_AGENT_SRCS))

.PHONY: all deps check-deps unit test demo clean
# Keep the BPF objects: they are the skeletons' sources and worth reading.
.SECONDARY:
.DEFAULT_GOAL := all

all: check-deps synacct

# Install what is missing; run automatically before all, test and demo.
deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi

check-deps:
	$(Q)for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || { $(MAKE) --no-print-directory deps; exit $$?; }; \
	done

# vmlinux.h is generated from the build machine's BTF: CO-RE relocates
# field offsets at load time, so it serves any BTF kernel (docs/design.md).
$(BUILD)/vmlinux.h:
	$(Q)mkdir -p $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: */%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(USER_HDRS) $(SKELS)
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

synacct: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

selftests/bin/test_parse: selftests/test_parse.c $(SKELS) include/synacct.h
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

selftests/bin/xdp_pass.bpf.o: selftests/bpf/xdp_pass.bpf.c
	$(Q)mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall -Werror \
		-I/usr/include/$(shell $(CC) -print-multiarch) -c $< -o $@

selftests/bin/%: selftests/tools/%.c selftests/tools/lab_common.h
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/unit/%.o: %.c selftests/unit/tap.h $(USER_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

selftests/bin/unit: $(UNIT_OBJS)
	$(Q)mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# As root, 05-unit.t runs them as nobody: they must need no privilege.
unit: selftests/bin/unit
	$(Q)prove --exec /bin/bash selftests/t/05-unit.t

test: check-deps unit synacct $(SELFTEST_BINS)
	$(Q)prove -v --exec /bin/bash selftests/t/

demo: check-deps synacct $(SELFTEST_BINS)
	$(Q)selftests/demo.sh

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(BUILD) synacct selftests/bin
