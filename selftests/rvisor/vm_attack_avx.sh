#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The AVX leak attack of vm_attack.c (a guest that enables AVX with XSETBV
# must see its own YMM state, not the host task's), on rvisor and on
# kvm_intel in the same boot, with the same guest-visible result. Needs a
# host with AVX state in XCR0: it runs in the XSAVE Bochs boot.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 4
require_vmx
require_kvm_modules
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
"$RVISOR_BIN/vm_attack" /dev/rvisor avx >/tmp/avx.rvisor 2>&1
rc=$?
[ "$rc" = 4 ] && { rmmod rvisor; ktap_skip_rest "the host has no AVX state in XCR0"; }
grep -v '^ok\|^KTAP\|^1\.\.' /tmp/avx.rvisor
ktap_expect "rvisor: the guest sees its own YMM state" 0 "$rc"
rmmod rvisor

load_kvm 2>/dev/null
"$RVISOR_BIN/vm_attack" /dev/kvm avx >/tmp/avx.kvm 2>&1
rc=$?
grep -v '^ok\|^KTAP\|^1\.\.' /tmp/avx.kvm | sed 's/^# /# kvm: /'
ktap_expect "kvm_intel: the guest sees its own YMM state" 0 "$rc"
grep '^# guest:' /tmp/avx.rvisor >/tmp/avx.rvisor.guest
grep '^# guest:' /tmp/avx.kvm >/tmp/avx.kvm.guest
ktap_check "the same guest-visible result on both" sh -c \
	"[ -s /tmp/avx.kvm.guest ] && diff /tmp/avx.rvisor.guest /tmp/avx.kvm.guest"
unload_kvm
ktap_finish
