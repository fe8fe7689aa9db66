#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A Linux guest under `rvisor boot` (the project's VMM: 8259A, 8254, CMOS,
# 16550, no in-kernel irqchip), on rvisor and on kvm_intel in the same
# boot with the same kernel, initramfs and VMM: it reaches userspace,
# timer interrupts arrive (sleep 1 returns, the PIC's timer count grows),
# a line typed on the VMM's stdin reaches the guest's shell, and the
# guest's reboot and halt end the VMM with status 0. On rvisor also: a
# VMM killed in the middle of the boot leaves no page pinned, and the
# module unloads. The guest kernel is the test kernel itself
# (RVISOR_BIN/bzImage), the initramfs samples/linux-guest/init.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 16
require_vmx
kernel=$RVISOR_BIN/bzImage
initrd=$RVISOR_BIN/linux-guest.cpio.gz
if [ ! -r "$kernel" ] || [ ! -r "$initrd" ]; then
	# Staged by scripts/check: missing is a broken set-up, not a skip.
	ktap_fail "guest kernel and initramfs staged" "missing $kernel or $initrd"
	ktap_skip_rest "no guest to boot"
fi
cmdline=$LINUX_GUEST_CMDLINE

# boot DEVICE NAME EXTRA_CMDLINE: boots the guest, typing a line when it
# asks for one; its console is in /tmp/lb.NAME, the VMM's status in RC.
boot() {
	case $3 in *rvisor.input*) prompt="@@guest: ready for input" ;; *) prompt= ;; esac
	run_typing "/tmp/lb.$2" "$prompt" "typed-on-the-host 42" \
		"$RVISOR_BIN/rvisor" boot --device "$1" --kernel "$kernel" --initrd "$initrd" \
		--mem 96M --timeout 600 --cmdline "$cmdline $3"
}

# judge NAME DEVICE: the checks of one boot with input and reboot.
judge() {
	out=/tmp/lb.$1 who=$2
	first_line "$out" "rvisor boot:"
	ktap_diag "$who: ${LINE#rvisor boot: }"
	ktap_expect "$who: the guest reaches userspace" yes \
		"$(has_text "$out" "@@guest: userspace reached" && echo yes || echo no)"
	first_line "$out" "@@guest: sleep 1 returned"
	ktap_diag "$who: ${LINE#@@guest: }"
	# "... uptime U0 -> U1, timer interrupts T0 -> T1"
	# shellcheck disable=SC2086 # the words of the line
	set -- $LINE
	ok=no
	if [ $# -eq 13 ]; then
		centi "$6"
		u0=$C
		centi "${8%,}"
		u1=$C
		[ $((u1 - u0)) -ge 95 ] && [ $((${13} - ${11})) -ge 90 ] && ok=yes
	fi
	ktap_expect "$who: sleep 1 returns, uptime and the timer count advance (HZ=100)" yes "$ok"
	ktap_expect "$who: a line typed on the VMM's stdin reaches the guest's shell" yes \
		"$(has_text "$out" "@@guest: read 'typed-on-the-host 42'" && echo yes || echo no)"
	ktap_expect "$who: the guest's reboot ends the VMM with status 0" "0 yes" \
		"$RC $(has_text "$out" "guest reset (i8042)" && echo yes || echo no)"
}

# Both hypervisors, the same programs: rvisor first, then kvm_intel.
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
boot /dev/rvisor rvisor "rvisor.input"
judge rvisor rvisor
boot /dev/rvisor rvisor-halt "rvisor.end=halt"
ktap_expect "rvisor: the guest's halt ends the VMM with status 0" "0 yes" \
	"$RC $(has_text /tmp/lb.rvisor-halt "guest halted" && echo yes || echo no)"

# A guest that does not finish in time is reported, not waited for.
"$RVISOR_BIN/rvisor" boot --kernel "$kernel" --initrd "$initrd" --mem 96M --timeout 2 \
	--cmdline "$cmdline" </dev/null >/tmp/lb.timeout 2>&1
RC=$?
first_line /tmp/lb.timeout "rvisor boot:"
ktap_diag "rvisor, --timeout 2: ${LINE#rvisor boot: }"
ktap_expect "rvisor: a guest still booting at --timeout is reported, status 124" "124 yes" \
	"$RC $(has_text /tmp/lb.timeout "no end by --timeout 2" && echo yes || echo no)"

# Killed in the middle of the boot: nothing stays pinned.
pins
acq0=$ACQ held0=$((ACQ - REL))
rm -f /tmp/lb.kill
"$RVISOR_BIN/rvisor" boot --kernel "$kernel" --initrd "$initrd" --mem 96M --timeout 600 \
	--cmdline "$cmdline loglevel=7" </dev/null >/tmp/lb.kill 2>&1 &
vmm=$!
wait_text /tmp/lb.kill "Linux version" 3000
kill -9 "$vmm"
wait "$vmm" 2>/dev/null
ktap_expect "rvisor: the VMM was killed while the guest booted" yes \
	"$(has_text /tmp/lb.kill "Linux version" && ! has_text /tmp/lb.kill "@@guest" && echo yes || echo no)"
i=0
while pins && [ $((ACQ - REL)) -gt "$held0" ] && [ $i -lt 40 ]; do
	sleep 0.5
	i=$((i + 1))
done
# The control: the boot did pin pages (each while EPT mapped it), so a
# count that never moved cannot pass for "released".
ktap_diag "pins taken while it booted $((ACQ - acq0)); outstanding before $held0, after the kill $((ACQ - REL))"
ktap_expect "rvisor: no page stays pinned after the kill" yes \
	"$([ $((ACQ - acq0)) -ge 1000 ] && [ $((ACQ - REL)) -le "$held0" ] && echo yes || echo no)"
ktap_check "rmmod rvisor afterwards (nothing holds a reference)" rmmod rvisor

require_kvm
if load_kvm; then
	ktap_pass "kvm_intel loads"
	boot /dev/kvm kvm "rvisor.input"
	judge kvm kvm_intel
	boot /dev/kvm kvm-halt "rvisor.end=halt"
	ktap_expect "kvm_intel: the guest's halt ends the VMM with status 0" "0 yes" \
		"$RC $(has_text /tmp/lb.kvm-halt "guest halted" && echo yes || echo no)"
	unload_kvm
else
	ktap_fail "kvm_intel loads"
	ktap_skip_rest "kvm_intel did not load"
fi
ktap_finish
