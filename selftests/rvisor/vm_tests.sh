#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The C guest tests on /dev/rvisor: loads rvisor and runs PROGRAM, whose
# KTAP is this test's (each of its checks counts).
#
#   vm_tests.sh PROGRAM
. "$(dirname "$0")/../lib/env.sh"

prog=${1:?program}
if ! has_vmx; then
	ktap_plan 1
	require_vmx
fi
unload_quietly rvisor
if ! err=$(insmod "$RVISOR_MODULES/rvisor.ko" 2>&1); then
	echo "Bail out! insmod rvisor.ko: $err"
	exit 1
fi
# The output and status stay in /tmp (the guest's, fresh each boot) for
# kvm_compare.sh, which compares them with the same program on kvm_intel
# instead of running it on rvisor a second time. The output is streamed
# (tee), so a program stopped by the runner's timeout leaves what it
# printed in the test's log. The status becomes the .rc file only here,
# in this script, not in the pipeline: a program that outlives a timeout
# that killed this script never gets one, and kvm_compare.sh runs it
# again rather than trust a run its test did not judge.
rm -f "/tmp/rvisor-run.$prog.rc" "/tmp/rvisor-run.$prog.st"
{
	"$RVISOR_BIN/$prog" /dev/rvisor 2>&1
	echo "$?" >"/tmp/rvisor-run.$prog.st"
} | tee "/tmp/rvisor-run.$prog"
read -r rc <"/tmp/rvisor-run.$prog.st"
mv "/tmp/rvisor-run.$prog.st" "/tmp/rvisor-run.$prog.rc"
if ! err=$(rmmod rvisor 2>&1); then
	echo "# rmmod rvisor after $prog: $err"
	rc=1
fi
exit "$rc"
