#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The same guests on rvisor and on KVM (kvm_intel) in the same boot, one
# hypervisor at a time: every guest-visible result ("# guest:" lines of
# vm_exits, and of the attacking guests of vm_attack) must be identical. Also: kvm_intel refuses to load while
# rvisor holds VMX (the reverse is kvm_conflict.sh).
. "$(dirname "$0")/../lib/env.sh"

# Sample guests the CLI runs on both: NAME:MODE:MEMORY.
cli_guests="hello_real:real:1M hello_long:long:16M memtest:protected:64M"

ktap_plan 12
require_vmx
require_kvm_modules
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
# rvisor's side: PROGRAM's run by vm_tests.sh earlier in this boot (the
# same program on the same module), or a run now if there was none.
rvisor_run() {
	if [ -f "/tmp/rvisor-run.$1.rc" ]; then
		ktap_diag "$1 on /dev/rvisor: the run earlier in this boot"
		cp "/tmp/rvisor-run.$1" "$2"
		return "$(cat "/tmp/rvisor-run.$1.rc")"
	fi
	"$RVISOR_BIN/$1" /dev/rvisor >"$2" 2>&1
}
rvisor_run vm_exits /tmp/cmp.rvisor
ktap_expect "vm_exits passes on /dev/rvisor" 0 "$?"
rvisor_run vm_attack /tmp/cmp.attack.rvisor
for g in $cli_guests; do
	# shellcheck disable=SC2046 # NAME:FILE:... fields, no spaces
	set -- $(echo "$g" | tr : " ")
	[ -x "$RVISOR_BIN/rvisor" ] &&
		"$RVISOR_BIN/rvisor" run "$RVISOR_BIN/$1.bin" --mode "$2" --mem "$3" >"/tmp/cmp.cli.$1" 2>/dev/null
done

insmod "$RVISOR_KMODS/irqbypass.ko" 2>/dev/null
insmod "$RVISOR_KMODS/kvm.ko" 2>/dev/null
err=$(insmod "$RVISOR_KMODS/kvm-intel.ko" 2>&1)
rc=$?
ktap_diag "insmod kvm-intel.ko while rvisor is loaded: $err"
refused=no
[ "$rc" -ne 0 ] && refused=yes
ktap_expect "kvm_intel refuses to load while rvisor holds VMX" yes "$refused"
ktap_check "rvisor still works after KVM's failed load" sh -c \
	"'$RVISOR_BIN/vm_exits' /dev/rvisor >/dev/null 2>&1"

rvisor_l1d=$(cat /sys/class/misc/rvisor/vmx/l1d_flush 2>&1)

ktap_check "rmmod rvisor" rmmod rvisor
ktap_check "kvm_intel loads once rvisor is gone" insmod "$RVISOR_KMODS/kvm-intel.ko"
# The host's speculative-execution state, and the L1D flush on VM entry:
# rvisor decides it as kvm_intel does (vmentry_l1d_flush=auto).
for v in l1tf mds mmio_stale_data spectre_v2 retbleed vmscape; do
	[ -r "/sys/devices/system/cpu/vulnerabilities/$v" ] &&
		ktap_diag "host $v: $(cat "/sys/devices/system/cpu/vulnerabilities/$v")"
done
ktap_expect "L1D flush on VM entry: rvisor's mode is kvm_intel's" \
	"$(cat /sys/module/kvm_intel/parameters/vmentry_l1d_flush 2>&1)" "$rvisor_l1d"
"$RVISOR_BIN/vm_exits" /dev/kvm >/tmp/cmp.kvm 2>&1
rc=$?
grep '^# guest:' /tmp/cmp.rvisor >/tmp/cmp.rvisor.guest
grep '^# guest:' /tmp/cmp.kvm >/tmp/cmp.kvm.guest
if [ "$rc" -ne 0 ]; then
	sed 's/^/# kvm: /' /tmp/cmp.kvm | grep -v '^# kvm: ok' | head -n 40
fi
ktap_expect "vm_exits passes on /dev/kvm" 0 "$rc"
if diff /tmp/cmp.rvisor.guest /tmp/cmp.kvm.guest >/tmp/cmp.diff; then
	ktap_diag "$(wc -l </tmp/cmp.kvm.guest) guest-visible results compared"
	ktap_pass "guests see identical results on rvisor and on KVM"
else
	sed 's/^/# /' /tmp/cmp.diff
	ktap_fail "guests see identical results on rvisor and on KVM"
fi
# The attacking guests: vm_attack.sh judged them on rvisor; here they must
# pass on KVM and see there exactly what they saw on rvisor.
"$RVISOR_BIN/vm_attack" /dev/kvm >/tmp/cmp.attack.kvm 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# kvm: /' /tmp/cmp.attack.kvm | grep -v '^# kvm: ok'
ktap_expect "vm_attack passes on /dev/kvm" 0 "$rc"
grep '^# guest:' /tmp/cmp.attack.rvisor >/tmp/cmp.attack.rvisor.guest
grep '^# guest:' /tmp/cmp.attack.kvm >/tmp/cmp.attack.kvm.guest
if [ -s /tmp/cmp.attack.kvm.guest ] && diff /tmp/cmp.attack.rvisor.guest /tmp/cmp.attack.kvm.guest >/tmp/cmp.diff; then
	sed 's/^# guest: /# both: /' /tmp/cmp.attack.kvm.guest
	ktap_pass "attacking guests see identical results on rvisor and on KVM"
else
	sed 's/^/# /' /tmp/cmp.diff
	ktap_fail "attacking guests see identical results on rvisor and on KVM"
fi
# The CLI (kvm-ioctls) gives the same output on both devices.
same=yes
for g in $cli_guests; do
	# shellcheck disable=SC2046 # NAME:FILE:... fields, no spaces
	set -- $(echo "$g" | tr : " ")
	if [ -x "$RVISOR_BIN/rvisor" ]; then
		k=$("$RVISOR_BIN/rvisor" run "$RVISOR_BIN/$1.bin" --mode "$2" --mem "$3" --device /dev/kvm 2>/dev/null)
		r=$(cat "/tmp/cmp.cli.$1")
		ktap_diag "$1: kvm '$k', rvisor '$r'"
		[ -n "$k" ] && [ "$k" = "$r" ] || same=no
	else
		same=no
	fi
done
ktap_expect "the rvisor CLI prints the same on /dev/kvm and /dev/rvisor" yes "$same"
unload_kvm
ktap_finish
