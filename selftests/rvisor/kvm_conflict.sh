#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# While kvm_intel holds VMX, rvisor refuses to load with EBUSY and says
# who holds it; once KVM lets go, rvisor loads.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 6
require_vmx
require_kvm_modules
unload_quietly rvisor
# kvm_intel executes VMXON at load (enable_virt_at_load defaults to 1).
ktap_check "kvm_intel loads and takes VMX" sh -c \
	"insmod $RVISOR_KMODS/irqbypass.ko && insmod $RVISOR_KMODS/kvm.ko && insmod $RVISOR_KMODS/kvm-intel.ko enable_virt_at_load=1 2>/dev/null || insmod $RVISOR_KMODS/kvm-intel.ko"
dmesg_mark
err=$(insmod "$RVISOR_MODULES/rvisor.ko" 2>&1)
rc=$?
ktap_diag "insmod: $err"
refused=no
[ "$rc" -ne 0 ] && case "$err" in *"resource busy"*) refused=yes ;; esac
ktap_expect "rvisor refused with EBUSY" yes "$refused"
ktap_check "kernel log names the holder" sh -c "dmesg | tail -n +$((DMESG_MARK + 1)) | grep -q 'held by another hypervisor.*kvm_intel'"
ktap_check "rvisor is not loaded" sh -c '! grep -q "^rvisor " /proc/modules'
unload_kvm
ktap_check "rvisor loads once kvm_intel is gone" insmod "$RVISOR_MODULES/rvisor.ko"
ktap_check "rmmod rvisor" rmmod rvisor
ktap_finish
