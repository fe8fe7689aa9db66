#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Debian's QEMU 7.2, unmodified, boots the Linux guest of linux_boot.sh
# with -accel kvm: on rvisor (its device node made /dev/kvm, the path
# QEMU opens) and on kvm_intel, in the same boot, with the same binary,
# firmware, kernel and initramfs. The machine: -M pc with the irqchip in
# user space on both (kernel_irqchip=off) and a CPU without
# local APIC (-cpu qemu64,-apic), so that QEMU's own PIC and PIT serve the
# guest through KVM_INTERRUPT; each with two firmwares: qboot (it loads
# the kernel through fw_cfg DMA) and SeaBIOS, QEMU's default, which
# starts by reading fw_cfg with rep insb (string I/O) and prints its
# banner on the debug console (port 0x402, captured: the control that it
# ran). Checks on each: the guest reaches userspace, timer interrupts
# arrive, a line on QEMU's stdin (the serial port) reaches the guest's
# shell, and the guest's reboot ends QEMU (-no-reboot) with status 0.
# QEMU and its libraries are staged by scripts/stage-qemu in
# RVISOR_BIN/qemu.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 22
require_vmx
q=$RVISOR_BIN/qemu
kernel=$RVISOR_BIN/bzImage
initrd=$RVISOR_BIN/linux-guest.cpio.gz
if [ ! -x "$q/qemu-system-x86_64" ] || [ ! -r "$kernel" ] || [ ! -r "$initrd" ]; then
	# Staged by scripts/check: missing is a broken set-up, not a skip.
	ktap_fail "QEMU, guest kernel and initramfs staged" "missing in $RVISOR_BIN"
	ktap_skip_rest "nothing to boot"
fi
cmdline=$LINUX_GUEST_CMDLINE

# qemu NAME FIRMWARE: boots the guest, types a line when it asks;
# console and QEMU's messages in /tmp/qb.NAME, the firmware's debug
# console in /tmp/qb.NAME.fw, QEMU's status in RC.
qemu() {
	rm -f "/tmp/qb.$1.fw"
	run_typing "/tmp/qb.$1" "@@guest: ready for input" "typed-on-the-host 42" \
		"$q/lib/ld-linux-x86-64.so.2" --library-path "$q/lib" "$q/qemu-system-x86_64" \
		-accel kvm -M pc,kernel_irqchip=off -cpu qemu64,-apic -bios "$q/share/$2" -L "$q/share" \
		-m 96 -display none -monitor none -serial stdio -nodefaults -no-reboot \
		-chardev "file,id=fw,path=/tmp/qb.$1.fw" -device isa-debugcon,iobase=0x402,chardev=fw \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline rvisor.input"
}

# boot_both HV WHO: the guest under qboot, then under SeaBIOS.
boot_both() {
	qemu "$1" qboot.rom
	judge "$1" "$2"
	qemu "$1-seabios" bios-256k.bin
	ktap_expect "$2: SeaBIOS ran (its banner on the debug console)" yes \
		"$(has_text "/tmp/qb.$1-seabios.fw" "SeaBIOS (version" && echo yes || echo no)"
	judge "$1-seabios" "$2, SeaBIOS"
}

judge() {
	out=/tmp/qb.$1 who=$2
	ktap_expect "$who: QEMU boots the guest to userspace" yes \
		"$(has_text "$out" "@@guest: userspace reached" && echo yes || echo no)"
	first_line "$out" "@@guest: sleep 1 returned"
	ktap_diag "$who: ${LINE#@@guest: }"
	# shellcheck disable=SC2086 # the words of the guest's line
	set -- $LINE
	# QEMU's user-space PIT coalesces ticks the vCPU could not take in
	# time: on kvm_intel in Bochs one run counted 62 in the second (186 ->
	# 248), others 103. So: the second lasted (uptime, from the clock
	# source) and at least half of HZ=100 arrived.
	ok=no
	if [ $# -eq 13 ]; then
		centi "$6"
		u0=$C
		centi "${8%,}"
		u1=$C
		[ $((u1 - u0)) -ge 95 ] && [ $((${13} - ${11})) -ge 50 ] && ok=yes
	fi
	ktap_expect "$who: sleep 1 lasts a second and timer interrupts arrive (at least 50 of HZ=100)" yes "$ok"
	ktap_expect "$who: a line on QEMU's stdin reaches the guest's shell" yes \
		"$(has_text "$out" "@@guest: read 'typed-on-the-host 42'" && echo yes || echo no)"
	ktap_expect "$who: the guest's reboot ends QEMU with status 0" 0 "$RC"
	[ "$RC" = 0 ] || while IFS= read -r l; do ktap_diag "$who: $l"; done <"$out"
}

unload_quietly rvisor
unload_kvm 2>/dev/null
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
rm -f /dev/kvm
IFS=: read -r major minor </sys/class/misc/rvisor/dev
ktap_check "rvisor's device node as /dev/kvm (QEMU opens that path)" mknod /dev/kvm c "$major" "$minor"
boot_both rvisor rvisor
rm -f /dev/kvm
ktap_check "rmmod rvisor afterwards (nothing holds a reference)" rmmod rvisor

require_kvm
if load_kvm; then
	ktap_pass "kvm_intel loads"
	boot_both kvm kvm_intel
	unload_kvm
else
	ktap_fail "kvm_intel loads"
	ktap_skip_rest "kvm_intel did not load"
fi
ktap_finish
