#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Judges the console of a Bochs boot that ran poweroff_race.sh (on the
# host, from scripts/check): one KTAP document, as run_tests.sh prints.
#
#   poweroff_judge.sh CONSOLE_FILE RUNNER_STATUS
#
# The positive control is the racers' own report: a call that failed after
# the notifier's VMXOFF shows that VMX work was in flight and reached the
# fault fixups; a power-off that came before any of them ran would show
# none, and fails.
. "$(dirname "$0")/../lib/ktap.sh"

log=$1
status=$2
echo "KTAP version 1"
echo "# rvisor selftests: bochs-poweroff"
echo "1..1"
echo "# running rvisor_poweroff_race"
nested=$(
	ktap_plan 5
	tr -d '\r' <"$log" | grep -a -v '^ *$' | tail -n 60 | sed 's/^/# console: /'
	ktap_expect "the runner saw the guest power itself off (status 0)" 0 "$status"
	ktap_check "every CPU had a vCPU in KVM_RUN and VMCS writers when the power-off began" \
		grep -a -q '^ready: ' "$log"
	ktap_check "the kernel went all the way down (\"reboot: Power down\")" \
		grep -a -q 'reboot: Power down' "$log"
	# Kernel messages may cut into the racers' lines on the console: count
	# their starts (a racer prints only when a call failed).
	failed=$(grep -a -o 'racer cpu [0-9]*' "$log" | wc -l)
	ktap_diag "the racers reported $failed failed calls"
	ktap_check "a VMX instruction in flight faulted after VMX went off and its ioctl failed (the fixup's message)" \
		grep -a -q 'rvisor: VMX is off for reboot; VMX work still in flight fails with EIO' "$log"
	ktap_check "no oops, BUG, WARNING or panic while the kernel went down" \
		sh -c "! grep -a -q -E 'Oops|BUG:|WARNING:|general protection|invalid opcode|Kernel panic|Call Trace' '$log'"
	ktap_finish
)
rc=$?
printf '%s\n' "$nested" | sed 's/^/  /'
if [ "$rc" -eq 0 ]; then
	echo "ok 1 rvisor_poweroff_race"
else
	echo "not ok 1 rvisor_poweroff_race # exit status $rc"
fi
