#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run last: the tests before must have left no warning, bug or oops in the
# kernel log. Only lines logged after the runner started count; warnings
# from boot (e.g. Bochs' CPU model upsetting the topology or XSAVE
# checks) are shown, not judged.
. "$(dirname "$0")/lib/ktap.sh"

PATTERN='WARNING:|BUG:|Oops|general protection|Call Trace|UBSAN|refcount_t'
baseline=$(cat /tmp/rvisor-dmesg-baseline 2>/dev/null || echo 0)
ktap_plan 1
boot=$(dmesg | head -n "$baseline" | grep -E "$PATTERN" || true)
if [ -n "$boot" ]; then
	ktap_diag "at boot, before any test (not judged):"
	echo "$boot" | head -n 10 | sed 's/^/#   /'
fi
bad=$(dmesg | tail -n +"$((baseline + 1))" | grep -E "$PATTERN" || true)
if [ -n "$bad" ]; then
	echo "$bad" | head -n 40 | sed 's/^/# /'
	ktap_fail "kernel log free of warnings, bugs and oopses during the tests"
else
	ktap_pass "kernel log free of warnings, bugs and oopses during the tests"
fi
ktap_finish
