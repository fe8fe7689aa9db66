#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The emulator regression boot (selftests/bochs-storm.tests): a guest that
# triple-faults, prints and idles far more often than the VMX suite does.
# Every screen change of the Bochs guest's VGA console is output Bochs
# writes to the pty of its term display; a runner that does not drain that
# pty sees Bochs block in write(2) once some 68 KiB are queued, and this
# boot never ends (scripts/bochs-run reports it as stalled). Each check
# here also shows that the work was done, so a boot that skipped it cannot
# pass.
. "$(dirname "$0")/../lib/env.sh"

ROUNDS=${STORM_ROUNDS:-400}
SCREENS=${STORM_SCREENS:-360}
IDLES=${STORM_IDLES:-200}

ktap_plan 5
require_vmx
tty=/dev/tty1
ktap_check "the VGA console $tty is writable" sh -c "echo storm > $tty"

unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
# Triple faults and guest output: the guest's lines go to the VGA console.
"$RVISOR_BIN/guest_storm" /dev/rvisor "$ROUNDS" 2>"$tty" >/tmp/storm.ktap
rc=$?
grep '^#' /tmp/storm.ktap
grep -q '^not ok' /tmp/storm.ktap && rc=1
ktap_expect "$ROUNDS rounds of triple fault, guest output and HLT" 0 "$rc"
rmmod rvisor

# Full screens of text, each left on screen for a while, so that every
# display refresh has a whole screen to redraw.
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ $i -lt "$SCREENS" ]; do
	i=$((i + 1))
	# Every character differs from the screen before (the display
	# redraws only what changed) and from its neighbours (the terminal
	# library compresses runs of one character).
	d=$((i % 10))
	line=$(echo 01234567890123456789 | cut -c$((d + 1))-$((d + 10)))
	line="$line$line$line$line$line$line$line"
	j=0
	while [ $j -lt 25 ]; do
		j=$((j + 1))
		echo "$line"
	done >"$tty"
	sleep 0.1
done
t1=$(cut -d' ' -f1 /proc/uptime)
ktap_diag "$SCREENS screens of 25 lines in $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s of guest time"
ktap_expect "$SCREENS screens written to $tty" "$SCREENS" "$i"

# Idling: the guest's clock must advance while it sleeps.
i=0
while [ $i -lt "$IDLES" ]; do
	i=$((i + 1))
	sleep 0.02
done
t2=$(cut -d' ' -f1 /proc/uptime)
ktap_result_idle=$(echo "$t1 $t2 $IDLES" | awk '{ print ($2 - $1 >= $3 * 0.02) ? "yes" : "no" }')
ktap_diag "$IDLES sleeps of 20 ms took $(echo "$t1 $t2" | awk '{ printf "%.2f", $2 - $1 }') s of guest time"
ktap_expect "the guest's clock advanced over $IDLES idle periods" yes "$ktap_result_idle"
ktap_finish
