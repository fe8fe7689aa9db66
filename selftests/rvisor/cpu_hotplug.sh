#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A CPU going offline leaves VMX operation; coming back online re-enters it.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 7
require_vmx
cpu1=/sys/devices/system/cpu/cpu1/online
if [ ! -w "$cpu1" ]; then
	ktap_skip_rest "needs a second CPU that can go offline"
fi
unload_quietly rvisor
vmx=/sys/class/misc/rvisor/vmx
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
dmesg_mark
ktap_check "CPU1 goes offline" sh -c "echo 0 > $cpu1"
ktap_expect "CPU1 left VMX operation" "$(cat /sys/devices/system/cpu/online)" "$(cat $vmx/cpus)"
ktap_check "kernel log: CPU1 VMXOFF" sh -c "dmesg | tail -n +$((DMESG_MARK + 1)) | grep -q 'CPU1: VMXOFF done'"
dmesg_mark
ktap_check "CPU1 comes back online" sh -c "echo 1 > $cpu1"
ktap_expect "CPU1 back in VMX operation" "$(cat /sys/devices/system/cpu/online)" "$(cat $vmx/cpus)"
ktap_check "rmmod rvisor" rmmod rvisor
ktap_finish
