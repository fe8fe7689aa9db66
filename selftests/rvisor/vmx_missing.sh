#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Without VMX, rvisor refuses to load with ENODEV and a log line saying
# why, and leaves nothing behind, however often it is tried.
. "$(dirname "$0")/../lib/env.sh"

CYCLES=20
ktap_plan 5
if has_vmx; then
	ktap_diag "SKIP: this CPU has VMX; the refusal path is tested on machines without it"
	ktap_skip_rest "CPU has VMX"
fi
unload_quietly rvisor
dmesg_mark
err=$(insmod "$RVISOR_MODULES/rvisor.ko" 2>&1)
rc=$?
ktap_diag "insmod: $err"
refused=no
[ "$rc" -ne 0 ] && case "$err" in *"No such device"*) refused=yes ;; esac
ktap_expect "insmod fails with ENODEV (No such device)" yes "$refused"
ktap_check "kernel log says VMX is not available" sh -c "dmesg | tail -n +$((DMESG_MARK + 1)) | grep -q 'rvisor: VMX is not available'"
ktap_check "module not loaded" sh -c '! grep -q "^rvisor " /proc/modules'
ktap_check "no /dev/rvisor" test ! -e /dev/rvisor
bad=0
i=0
while [ $i -lt $CYCLES ]; do
	i=$((i + 1))
	insmod "$RVISOR_MODULES/rvisor.ko" 2>/dev/null && { bad=$((bad + 1)); rmmod rvisor; }
	grep -q "^rvisor " /proc/modules && bad=$((bad + 1))
done
ktap_expect "$CYCLES refused loads leave nothing loaded" 0 "$bad"
ktap_finish
