#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Powers the Bochs guest off while every CPU runs a vCPU and VMCS reads
# race on each (poweroff_race.c), so that rvisor's reboot notifier turns
# VMX off under them. It never returns: the runner reads what the console
# showed while the kernel went down, and scripts/check judges it
# (poweroff_judge.sh). Not in a .tests list for that reason.
. "$(dirname "$0")/../lib/env.sh"

require_vmx
unload_quietly rvisor
insmod "$RVISOR_MODULES/rvisor.ko" || exit 1
rm -f /tmp/poweroff_race.ready
"$RVISOR_BIN/poweroff_race" /dev/rvisor &
i=0
while [ ! -f /tmp/poweroff_race.ready ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -f /tmp/poweroff_race.ready ] || { echo "# the racers never got ready"; exit 1; }
# Everything the kernel says from here on reaches the console: the
# runner's log is the only record of how the power-off went.
echo 8 >/proc/sys/kernel/printk
echo "@@rvisor-guest: poweroff@@"
# The marker must be on the console before the power goes: wait until
# the console's queue has drained (stty sets the mode with TCSADRAIN).
stty -F /dev/console "$(stty -F /dev/console -g)"
poweroff -f
