#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run last: the tests before must have left no warning, bug or oops in the
# kernel log. Only lines logged after the runner started count; warnings
# from boot (e.g. Bochs' CPU model upsetting the topology or XSAVE
# checks) are shown, not judged.
#
# On a kernel with kmemleak (the debug kernel, kconfig/debug.config), a
# second check: a scan finds no unreferenced object allocated since the
# runner started (run_tests.sh marks that time; lib/kmemleak.sh).
. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/kmemleak.sh"

# KASAN, UBSAN, lockdep ("WARNING: possible circular locking..."),
# DEBUG_ATOMIC_SLEEP ("BUG: sleeping function called...") and
# DEBUG_LIST all print one of these; a netdev reference never put back
# shows as "unregister_netdevice: waiting for DEV to become free".
PATTERN='WARNING:|BUG:|Oops|general protection|Call Trace|UBSAN|refcount_t|suspected memory leak|to become free'
baseline=$(cat /tmp/rvisor-dmesg-baseline 2>/dev/null || echo 0)
leakcheck=0
kmemleak_available && leakcheck=1
ktap_plan $((1 + leakcheck))
boot=$(dmesg | head -n "$baseline" | grep -E "$PATTERN" || true)
if [ -n "$boot" ]; then
	ktap_diag "at boot, before any test (not judged):"
	echo "$boot" | head -n 10 | sed 's/^/#   /'
fi
# Stack dumps a test asked for itself (vm_nmi's sysrq-l backtraces) sit
# between two markers it logs (kmsg_dump_begin/end in lib/env.sh) and are
# not judged; anything else in that window is, but for Call Trace lines.
# Each match is shown with the 12 lines before it: a bare "Call Trace"
# (an unchecked MSR access, an allocation failure...) says nothing alone.
bad=$(dmesg | tail -n +"$((baseline + 1))" |
	awk '/rvisor-selftest: requested dump begin/ { d = 1 }
	     /rvisor-selftest: requested dump end/ { d = 0 }
	     !d || !/Call Trace|NMI backtrace/' | grep -E -B12 "$PATTERN" || true)
if [ -n "$bad" ]; then
	echo "$bad" | head -n 80 | sed 's/^/# /'
	ktap_fail "kernel log free of warnings, bugs and oopses during the tests"
else
	ktap_pass "kernel log free of warnings, bugs and oopses during the tests"
fi
if [ "$leakcheck" = 1 ]; then
	leaks=$(kmemleak_report)
	if [ -n "$leaks" ]; then
		echo "$leaks" | head -n 60 | sed 's/^/# /'
		ktap_fail "kmemleak: no object leaked during the tests" \
			"$(echo "$leaks" | grep -c '^unreferenced object') unreferenced object(s)"
	else
		ktap_pass "kmemleak: no object leaked during the tests"
	fi
fi
ktap_finish
