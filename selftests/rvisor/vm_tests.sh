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
"$RVISOR_BIN/$prog" /dev/rvisor
rc=$?
if ! err=$(rmmod rvisor 2>&1); then
	echo "# rmmod rvisor after $prog: $err"
	rc=1
fi
exit "$rc"
