#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Twenty load/unload cycles of rvisor, each fully entering and leaving
# VMX operation.
. "$(dirname "$0")/../lib/env.sh"

CYCLES=20
ktap_plan 2
require_vmx
unload_quietly rvisor
online=$(cat /sys/devices/system/cpu/online)
bad=0
i=0
while [ $i -lt $CYCLES ]; do
	i=$((i + 1))
	if ! insmod "$RVISOR_MODULES/rvisor.ko"; then
		ktap_diag "cycle $i: insmod failed"; bad=$((bad + 1)); continue
	fi
	cpus=$(cat /sys/class/misc/rvisor/vmx/cpus)
	[ "$cpus" = "$online" ] || { ktap_diag "cycle $i: VMX on '$cpus', online '$online'"; bad=$((bad + 1)); }
	rmmod rvisor || { ktap_diag "cycle $i: rmmod failed"; bad=$((bad + 1)); }
	[ -e /dev/rvisor ] && { ktap_diag "cycle $i: /dev/rvisor left behind"; bad=$((bad + 1)); }
done
ktap_expect "$CYCLES load/unload cycles without error" 0 "$bad"
# After all of them, VMX must be free: KVM can take it.
ktap_check "no CPU left with CR4.VMXE set (rvisor loads again)" sh -c "insmod $RVISOR_MODULES/rvisor.ko && rmmod rvisor"
ktap_finish
