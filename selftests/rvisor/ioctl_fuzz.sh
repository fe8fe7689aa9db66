#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The ioctl fuzzer (ioctl_fuzz.c) on /dev/rvisor: RVISOR_FUZZ_IOCTLS
# (default 200000) ioctls from racing threads in processes killed at random,
# seed RVISOR_FUZZ_SEED (default 1). Afterwards the module unloads (no VM,
# vCPU, file or mapping keeps a reference). Then the same fuzzer, a tenth
# of the ioctls, on kvm_intel in the same boot: its own checks (KVM's
# errnos, EIO from a forked child...) must hold on the reference too, or
# they are this fuzzer's mistake, not rvisor's.
. "$(dirname "$0")/../lib/env.sh"

N=${RVISOR_FUZZ_IOCTLS:-200000}
SEED=${RVISOR_FUZZ_SEED:-1}
ktap_plan 5
require_vmx
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
t0=$(date +%s)
"$RVISOR_BIN/ioctl_fuzz" /dev/rvisor "$N" "$SEED" >/tmp/ioctl_fuzz.out 2>&1
rc=$?
sed 's/^/# rvisor: /' /tmp/ioctl_fuzz.out
ktap_diag "$(($(date +%s) - t0)) s on rvisor"
ktap_expect "ioctl_fuzz: $N ioctls on /dev/rvisor, every check holds" 0 "$rc"
ktap_check "rmmod rvisor afterwards (nothing holds a reference)" rmmod rvisor

require_kvm_modules
insmod "$RVISOR_KMODS/irqbypass.ko" 2>/dev/null
insmod "$RVISOR_KMODS/kvm.ko" 2>/dev/null
ktap_check "insmod kvm-intel.ko" insmod "$RVISOR_KMODS/kvm-intel.ko"
"$RVISOR_BIN/ioctl_fuzz" /dev/kvm "$((N / 10))" "$SEED" >/tmp/ioctl_fuzz.kvm 2>&1
rc=$?
sed 's/^/# kvm: /' /tmp/ioctl_fuzz.kvm
ktap_expect "ioctl_fuzz: the same checks hold on kvm_intel ($((N / 10)) ioctls)" 0 "$rc"
unload_kvm
ktap_finish
