# SPDX-License-Identifier: GPL-2.0
#
# rvisor: see README.md.
#
#   make demo     set up, build, boot Bochs, show the hypervisor and a tunnel device
#   make check    set up, build, run every test (host, virtme-ng, Bochs)
#   make          build the kernel (cached), the modules and the test programs
#   make lint     rustfmt --check, clippy on the kernel and host crates
#
# The modules themselves are built by Kbuild: this file only drives it
# (scripts/kmake) against the cached test kernel.

SHELL := /bin/bash
BUILD := build
SELFTEST_PROGS := $(addprefix $(BUILD)/selftests/,dev_ioctl vm_exits vm_misuse vm_smp)

.PHONY: all setup kernel modules selftests check demo lint fmt clean

all: modules selftests

setup:
	@scripts/setup

kernel: setup
	@scripts/kernel-build >/dev/null

modules: kernel
	@scripts/kmake modules

selftests: $(SELFTEST_PROGS)

# Static, so that they run in the busybox initramfs of the Bochs guest.
$(BUILD)/selftests/%: selftests/rvisor/%.c selftests/rvisor/vmtest.h
	@mkdir -p $(@D)
	gcc -static -O2 -Wall -Wextra -Werror -pthread -o $@ $<

check:
	@scripts/check

demo:
	@scripts/demo

lint: kernel
	@scripts/lint

fmt:
	/usr/bin/rustfmt --edition 2021 $$(find rust -name '*.rs' -not -path '*/target/*')

clean:
	-@scripts/kmake clean 2>/dev/null
	rm -rf $(BUILD) rust/target
