#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# NMIs that arrive while a guest runs reach the host's NMI handler: a guest
# spins (vm_smp spin) while sysrq-l asks every CPU for a backtrace by NMI.
# Each CPU must answer, one of them from inside rvisor (the NMI exit), and
# the guest must go on running. On a kernel whose kvm_intel is built in
# (the debug kernel) rvisor has no VMX NMI entry to call and sends the NMI
# to itself again (see rv_handle_nmi_irqoff()).
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 5
require_vmx
unload_quietly rvisor
dmesg_mark
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
dmesg_new | grep 'rvisor:' | sed 's/^/# /'
online_cpus
ncpus=$NCPUS
# One spinning guest per CPU, so that whichever CPU sysrq-l runs on, the
# others are in a guest.
pids=
i=0
while [ "$i" -lt "$ncpus" ]; do
	"$RVISOR_BIN/vm_smp" /dev/rvisor spin 1 >"/tmp/nmi_spin.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
# Polled every half second, by the shell itself (see env.sh).
i=0
count_text touched /tmp/nmi_spin.*
while [ "$COUNT" -lt "$ncpus" ] && [ $i -lt 60 ]; do
	sleep 0.5
	i=$((i + 1))
	count_text touched /tmp/nmi_spin.*
done
ktap_expect "$ncpus spinning guests started" "$ncpus" "$COUNT"
sleep 1
# Up to 5 requests, until one NMI lands while its CPU is in a guest: a
# CPU spends part of its time outside (each host interrupt ends the
# guest's turn), and on the debug kernel in Bochs one request in two or
# three found none inside. Every request must be answered by every CPU.
tries=0 in_rvisor=0 all_answered=yes
while [ "$tries" -lt 5 ] && [ "$in_rvisor" -eq 0 ]; do
	tries=$((tries + 1))
	dmesg_mark
	kmsg_dump_begin
	echo l >/proc/sysrq-trigger
	sleep 3
	kmsg_dump_end
	dmesg_new >/tmp/nmi_bt
	count_text 'NMI backtrace for cpu' /tmp/nmi_bt
	answered=$COUNT
	ktap_diag "request $tries: $answered of $ncpus CPUs answered the NMI backtrace request"
	count_text "didn't respond" /tmp/nmi_bt
	[ "$COUNT" -gt 0 ] && grep "didn't respond" /tmp/nmi_bt | sed 's/^/# /'
	# The CPU that triggered it prints its own without an NMI.
	[ "$answered/$COUNT" = "$ncpus/0" ] || all_answered=no
	# Taken in a guest: the NMI exit's handler is where the backtrace
	# starts (rv_vmx_do_nmi_irqoff through KVM's entry on the test kernel,
	# rv_handle_nmi_irqoff's re-sent NMI on the debug kernel), not just
	# any rvisor frame (the ioctl path outside the guest has those too).
	in_rvisor=$(grep -cE 'RIP: .*rv_(vmx_do|handle)_nmi_irqoff' /tmp/nmi_bt)
done
ktap_expect "every CPU answered each request, none failed to respond" yes "$all_answered"
grep -m 8 '\[rvisor\]' /tmp/nmi_bt | sed 's/^/# /'
ktap_expect "an NMI taken in a guest was handled through rvisor (request $tries)" yes \
	"$([ "$in_rvisor" -gt 0 ] && echo yes || echo no)"
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
ktap_expect "the guests still run after the NMIs" "$ncpus" "$alive"
for p in $pids; do kill -9 "$p" 2>/dev/null; done
for p in $pids; do wait "$p" 2>/dev/null; done
rmmod rvisor
ktap_finish
