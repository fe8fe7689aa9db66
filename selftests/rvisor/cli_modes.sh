#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The rvisor CLI (tools/, on kvm-ioctls) runs the sample guests in all
# four modes on /dev/rvisor: each prints its line and halts.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 9
require_vmx
[ -x "$RVISOR_BIN/rvisor" ] || ktap_skip_rest "rvisor CLI not built (make tools)"
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"

# cli_case NAME MODE MEM EXPECTED_OUTPUT
cli_case() {
	out=$("$RVISOR_BIN/rvisor" run "$RVISOR_BIN/$1.bin" --mode "$2" --mem "$3" 2>/tmp/cli.err)
	rc=$?
	ktap_diag "$1 ($2): $out"
	sed 's/^/# /' /tmp/cli.err
	if [ "$rc" -eq 0 ] && [ "$out" = "$4" ]; then
		ktap_pass "rvisor run $1 --mode $2"
	else
		ktap_fail "rvisor run $1 --mode $2" "status $rc, output '$out', want '$4'"
	fi
}
cli_case hello_real real 1M "Hello from real mode"
cli_case hello_protected protected 1M "Hello from 32-bit protected mode"
cli_case hello_paged paged 16M "Hello from 32-bit paged mode (CR0.PG=1)"
cli_case hello_long long 16M "Hello from 64-bit long mode (EFER.LMA=1)"
cli_case memtest protected 64M "memtest: 0x00000040 MiB: ok"
cli_case exit_loop protected 1M "exit loop: 1000 CPUID, 1000 VMCALL, 1000 OUT done"

out=$("$RVISOR_BIN/rvisor" run "$RVISOR_BIN/hello_real.bin" --mem 12 2>&1)
rc=$?
ktap_diag "bad --mem: $out"
ktap_expect "a bad option is refused with status 64" 64 "$rc"
ktap_check "rmmod rvisor" rmmod rvisor
ktap_finish
