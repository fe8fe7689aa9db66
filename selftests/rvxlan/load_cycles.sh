#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Twenty load/unload cycles of rvxlan, each with a device up at unload.
. "$(dirname "$0")/../lib/env.sh"

CYCLES=20
ktap_plan 1
unload_quietly rvxlan
bad=0
for i in $(seq $CYCLES); do
	insmod "$RVISOR_MODULES/rvxlan.ko" || { ktap_diag "cycle $i: insmod failed"; bad=$((bad + 1)); continue; }
	if ! { ip link add rvxcycle type rvxlan && ip link set rvxcycle up; }; then
		ktap_diag "cycle $i: device set-up failed"
		bad=$((bad + 1))
	fi
	rmmod rvxlan || { ktap_diag "cycle $i: rmmod failed"; bad=$((bad + 1)); }
	ip link show rvxcycle >/dev/null 2>&1 && { ktap_diag "cycle $i: device left behind"; bad=$((bad + 1)); ip link del rvxcycle; }
done
ktap_expect "$CYCLES load/unload cycles with a live device" 0 "$bad"
ktap_finish
