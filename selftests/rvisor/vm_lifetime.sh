#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lifetime: a VM pins the module; a process killed while its guest runs
# (in KVM_RUN, with its memory mapped) leaves nothing behind: no page stays
# pinned, memory is given back and rvisor unloads. As on KVM, a running
# guest holds no pin on its memory at all (the MMU notifier keeps the EPT
# right), so it stays reclaimable.
. "$(dirname "$0")/../lib/env.sh"
. "$(dirname "$0")/../lib/kmemleak.sh"

# Under kmemleak (the debug kernel) the slab level is not judged (see
# below), so one check fewer.
if kmemleak_available; then ktap_plan 9; else ktap_plan 10; fi
require_vmx
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"

# slab_kb: prints the Slab: line of /proc/meminfo, in kB.
slab_kb() {
	while read -r k v _; do
		[ "$k" = Slab: ] && echo "$v"
	done </proc/meminfo
}

# Waits (up to 20 s) until no more pins are held than at acq0/rel0; leaves
# the counters in acq2/rel2.
wait_pins_released() {
	i=0
	while :; do
		pins
		acq2=$ACQ rel2=$REL
		[ $((acq2 - rel2)) -le $((acq0 - rel0)) ] && return
		[ $i -ge 40 ] && return
		sleep 0.5
		i=$((i + 1))
	done
}

"$RVISOR_BIN/vm_smp" /dev/rvisor hold >/tmp/hold.out 2>&1 &
pid=$!
wait_text /tmp/hold.out holding 300
if rmmod rvisor 2>/dev/null; then refused=no; else refused=yes; fi
ktap_expect "rmmod refused while a VM exists" yes "$refused"
kill "$pid"
wait "$pid" 2>/dev/null

echo 3 >/proc/sys/vm/drop_caches
pins
acq0=$ACQ rel0=$REL
slab0=$(slab_kb)
"$RVISOR_BIN/vm_smp" /dev/rvisor spin 32 >/tmp/spin.out 2>&1 &
pid=$!
wait_text /tmp/spin.out touched 600
pins
acq1=$ACQ rel1=$REL
pinned=$((acq1 - acq0 - (rel1 - rel0)))
ktap_diag "guest touched 32 MiB: $((acq1 - acq0)) pins taken to map it, $pinned still held"
# The positive control: the guest's pages went through the fault path
# (8,192 of them), which pins each while it maps it.
ktap_expect "the running guest mapped its pages (pinned while mapping) and holds none pinned" yes \
	"$([ $((acq1 - acq0)) -ge 8000 ] && [ "$pinned" -le 16 ] && echo yes || echo no)"
kill -9 "$pid"
wait "$pid" 2>/dev/null
# Pins held system-wide, before the guest and after its death: none left.
wait_pins_released
ktap_diag "pins acquired $((acq2 - acq0)), released $((rel2 - rel0)) since the start; outstanding before $((acq0 - rel0)), after $((acq2 - rel2))"
ktap_expect "killed mid-KVM_RUN: every pinned page released" yes \
	"$([ $((acq2 - rel2)) -le $((acq0 - rel0)) ] && echo yes || echo no)"
echo 3 >/proc/sys/vm/drop_caches
slab2=$(slab_kb)
ktap_diag "slab before $slab0 kB, after $slab2 kB"
if kmemleak_available; then
	# The debug kernel: KASAN's quarantine keeps freed objects counted as
	# slab for a while, so the level says nothing there. Whether anything
	# the killed VM allocated is left unreferenced is the suite's last
	# kmemleak scan's to say (kernel_log.sh): a scan here too cost two
	# minutes of Bochs per scan, and two are needed.
	ktap_diag "slab level not judged under KASAN; kernel_log.sh's kmemleak scan covers this VM"
else
	ktap_expect "slab memory back to within 256 kB" yes "$([ $((slab2 - slab0)) -le 256 ] && echo yes || echo no)"
fi
# The same when another thread closes every fd while the vCPU runs: the
# run holds the files; once it returns, everything is freed although the
# process lives on.
pins
acq0=$ACQ rel0=$REL
"$RVISOR_BIN/vm_smp" /dev/rvisor closerun 16 >/tmp/closerun.out 2>&1 &
pid=$!
wait_text /tmp/closerun.out released 600
ktap_check "fds closed under a running vCPU; the run returned on a signal" has_text /tmp/closerun.out released
wait_pins_released
ktap_diag "pins acquired $((acq2 - acq0)), released $((rel2 - rel0)) while the process lives on"
ktap_expect "... and every pin is released with the process still alive" yes \
	"$([ $((acq2 - rel2)) -le $((acq0 - rel0)) ] && echo yes || echo no)"
kill "$pid"
wait "$pid" 2>/dev/null
ktap_check "rmmod rvisor after the process died" rmmod rvisor
ktap_check "module gone" eval '! module_loaded rvisor'
ktap_check "insmod again (nothing left from the previous instance)" eval 'insmod "$RVISOR_MODULES/rvisor.ko" && rmmod rvisor'
ktap_finish
