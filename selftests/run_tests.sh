#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs selftests inside a guest and prints one KTAP document: each test
# program is a top-level test whose own KTAP output is nested (indented)
# under it, as kselftest's runner does.
#
#   run_tests.sh SUITE_NAME TEST...
#
# A test exiting 0 passed, 4 skipped, anything else failed; each gets a
# time limit (RVISOR_TEST_TIMEOUT, default 300 s).
set -u
suite=$1
shift
cd "$(dirname "$0")" || exit 1

# Kernel log lines before this point belong to boot, not to the tests
# (kernel_log.sh judges only what comes after).
dmesg | wc -l >/tmp/rvisor-dmesg-baseline
# Likewise for kmemleak (debug kernel): what boot allocated and never
# freed is not the tests' (kernel_log.sh scans after them).
. lib/kmemleak.sh
kmemleak_available && kmemleak_mark
# RVISOR_PANIC_ON_WARN=1 (the debug suites): from here on a WARN panics
# the guest. Not from the kernel command line: Bochs' CPU models make
# boot warn (the XSAVE size check) before any test runs.
if [ "${RVISOR_PANIC_ON_WARN:-0}" = 1 ]; then
	echo 1 >/proc/sys/kernel/panic_on_warn || echo "# could not set panic_on_warn"
fi

echo "KTAP version 1"
echo "# rvisor selftests: $suite"
echo "1..$#"
n=0
failed=0
for t in "$@"; do
	n=$((n + 1))
	# rvisor/vm_exits.sh -> rvisor_vm_exits, without a sed per test (on
	# the debug kernel in Bochs each exec costs about half a second).
	name=${t%.sh}
	while :; do
		case $name in
		*[!A-Za-z0-9_]*)
			rest=${name#*[!A-Za-z0-9_]}
			name=${name%%[!A-Za-z0-9_]*}_$rest ;;
		*) break ;;
		esac
	done
	log=/tmp/rvisor-test.$$.log
	# Where the guest is, for a runner that reports a stalled emulator
	# (each test's own output is printed when it ends).
	echo "# running $name"
	read -r t0 _ </proc/uptime
	# The last pid handed out: the count of tasks a test started
	# (processes and threads) says where its time went, since on the
	# debug kernel under emulation each exec costs about a second.
	read -r _ _ _ _ pid0 </proc/loadavg
	case "$t" in
	*.sh)
		# POSIX tests run under any sh (busybox in Bochs); a test whose
		# first line asks for bash (virtme-ng only) gets it.
		shell="sh"
		read -r first <"$t"
		case $first in *bash*) shell=bash ;; esac
		timeout "${RVISOR_TEST_TIMEOUT:-300}" "$shell" "$t" >"$log" 2>&1 ;;
	*) timeout "${RVISOR_TEST_TIMEOUT:-300}" "$RVISOR_BIN/$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	sed 's/^/  /' "$log"
	rm -f "$log"
	read -r _ _ _ _ pid1 </proc/loadavg
	tasks=$((pid1 - pid0))
	[ "$tasks" -lt 0 ] && tasks=$((tasks + $(cat /proc/sys/kernel/pid_max)))
	read -r t1 _ </proc/uptime
	echo "# $name: $((${t1%.*} - ${t0%.*})) s, $tasks tasks started"
	case $rc in
	0) echo "ok $n $name" ;;
	4) echo "ok $n $name # SKIP" ;;
	*) echo "not ok $n $name # exit status $rc"; failed=$((failed + 1)) ;;
	esac
done
[ "$failed" -eq 0 ]
