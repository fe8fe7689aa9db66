#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading rvisor puts every online CPU in VMX operation, reports the
# capabilities the kernel itself sees, and unloading leaves VMX on all.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 12
require_vmx
unload_quietly rvisor

online_cpus
ncpus=$NCPUS
read -r online </sys/devices/system/cpu/online
ktap_diag "$ncpus CPUs online ($online)"
dmesg_mark
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
ktap_check "/dev/rvisor is a character device" test -c /dev/rvisor
vmx=/sys/class/misc/rvisor/vmx
read -r cpus <$vmx/cpus
ktap_expect "VMX operation on every online CPU ($vmx/cpus)" "$online" "$cpus"
ktap_expect "kernel log: one VMXON per online CPU" "$ncpus" "$(dmesg_new | grep -c 'VMXON done')"
dmesg_new | grep 'rvisor:' | sed 's/^/# /'

read -r rev <$vmx/revision_id
ktap_check "VMCS revision id $rev is non-zero and 31-bit" test "$((rev))" -gt 0 -a "$((rev))" -lt 2147483648
read -r size <$vmx/vmcs_size
ktap_check "VMCS region size $size is in 1..4096" test "$size" -gt 0 -a "$size" -le 4096

# The kernel decodes the same MSRs for the "vmx flags" line of
# /proc/cpuinfo: rvisor's report must agree with it.
vmx_flags=""
while IFS= read -r l; do
	case $l in "vmx flags"*) vmx_flags=" ${l#*:} " && break ;; esac
done </proc/cpuinfo
for feature in ept vpid unrestricted_guest; do
	want=0
	case $vmx_flags in *" $feature "*) want=1 ;; esac
	read -r got <$vmx/$feature
	ktap_expect "$feature reported as in /proc/cpuinfo ($want)" "$want" "$got"
done

dmesg_mark
ktap_check "rmmod rvisor" rmmod rvisor
ktap_check "/dev/rvisor removed" test ! -e /dev/rvisor
ktap_expect "kernel log: one VMXOFF per online CPU" "$ncpus" "$(dmesg_new | grep -c 'VMXOFF done')"
ktap_finish
