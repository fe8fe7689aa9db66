# SPDX-License-Identifier: GPL-2.0
#
# rvisor: see README.md.
#
#   make demo     set up, build, boot Bochs, show the hypervisor and a tunnel device
#   make check    set up, build, run every test (host, virtme-ng, Bochs)
#   make bench    rvisor vs kvm_intel exit round trips, in one Bochs boot
#   make          build the kernel (cached), the modules and the test programs
#   make lint     rustfmt, clippy (kernel and host crates), rustdoc, W=1,
#                 checkpatch, shellcheck, the Sphinx build of Documentation/
#
# The modules themselves are built by Kbuild: this file only drives it
# (scripts/kmake) against the cached test kernel.

SHELL := /bin/bash
BUILD := build
SELFTEST_PROGS := $(addprefix $(BUILD)/selftests/,dev_ioctl vm_exits vm_misuse vm_smp vm_attack guest_diff guest_storm poweroff_race ioctl_fuzz vxlan_inject vxlan_fuzz rtnl_fuzz udp_pps pcap_read)
SAMPLES := $(patsubst samples/guests/%.S,$(BUILD)/samples/%.bin,$(wildcard samples/guests/*.S))
HOST_TRIPLE := x86_64-unknown-linux-gnu

.PHONY: all setup kernel modules selftests samples tools iproute2 check demo bench lint fmt clean

all: modules selftests samples tools iproute2

setup:
	@scripts/setup

kernel: setup
	@scripts/kernel-build >/dev/null

modules: kernel
	@scripts/kmake modules

selftests: $(SELFTEST_PROGS)

# Static, so that they run in the busybox initramfs of the Bochs guest.
$(BUILD)/selftests/%: selftests/rvisor/%.c selftests/rvisor/vmtest.h selftests/rvisor/x86.h selftests/lib/fuzz_rng.h
	@mkdir -p $(@D)
	gcc -static -O2 -Wall -Wextra -Werror -pthread -o $@ $<

$(BUILD)/selftests/%: selftests/rvxlan/%.c selftests/lib/fuzz_rng.h
	@mkdir -p $(@D)
	gcc -O2 -Wall -Wextra -Werror -o $@ $<

# Flat-binary guests, entered at guest-physical 0x1000 by the rvisor CLI;
# and the Linux guest's initramfs (busybox and samples/linux-guest/init),
# booted with the test kernel by `rvisor boot`.
LINUX_GUEST := $(BUILD)/samples/linux-guest.cpio.gz
samples: $(SAMPLES) $(LINUX_GUEST)

$(LINUX_GUEST): samples/linux-guest/init scripts/guest-initramfs
	@mkdir -p $(@D)
	@scripts/guest-initramfs $@

$(BUILD)/samples/%.bin: samples/guests/%.S
	@mkdir -p $(@D)
	as --64 -o $(BUILD)/samples/$*.o $<
	ld -m elf_x86_64 -Ttext=0x1000 --oformat binary -o $@ $(BUILD)/samples/$*.o

# The userspace CLIs (rvisor, rvxlan), linked statically for the Bochs
# initramfs.
tools: setup
	@cd tools && RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --target $(HOST_TRIPLE)
	@mkdir -p $(BUILD)/bin
	@cp tools/target/$(HOST_TRIPLE)/release/rvisor tools/target/$(HOST_TRIPLE)/release/rvxlan $(BUILD)/bin/

# iproute2's link plugin for the kind rvxlan (tools/iproute2/link_rvxlan.c):
# `IP_LIB_DIR=build/lib/ip ip link add ... type rvxlan` takes vxlan's
# syntax. Dynamic: it is loaded into ip, which must export vxlan_link_util.
IPLIB := $(BUILD)/lib/ip/link_rvxlan.so
iproute2: $(IPLIB)

$(IPLIB): tools/iproute2/link_rvxlan.c
	@mkdir -p $(@D)
	gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

check:
	@scripts/check

demo:
	@scripts/demo

bench:
	@scripts/bench

lint: kernel
	@scripts/lint

fmt:
	/usr/bin/rustfmt --edition 2021 $$(find rust tools -name '*.rs' -not -path '*/target/*')

clean:
	-@scripts/kmake clean 2>/dev/null
	rm -rf $(BUILD) rust/target tools/target
