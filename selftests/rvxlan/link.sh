#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The rvxlan link kind with iproute2: create, bring up, show, move and
# delete devices in several network namespaces; bad input is refused
# without side effects; unloading removes every device.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 17
unload_quietly rvxlan
for ns in rvx_a rvx_b; do ip netns del "$ns" 2>/dev/null; ip netns add "$ns"; done

ktap_check "insmod rvxlan.ko" insmod "$RVISOR_MODULES/rvxlan.ko"
ktap_check "create vx0 in namespace a" ip -n rvx_a link add vx0 type rvxlan
ktap_check "create vx0 in namespace b (same name, other namespace)" ip -n rvx_b link add vx0 type rvxlan
ktap_check "set vx0 up in a" ip -n rvx_a link set vx0 up
ktap_check "ip -d link shows the rvxlan kind" sh -c "ip -n rvx_a -d link show vx0 | grep -qw rvxlan"
ktap_check "vx0 in a is UP" sh -c "ip -n rvx_a link show vx0 | grep -q '<.*UP.*>'"
ktap_check "an unconfigured tunnel counts what it cannot send as dropped" sh -c \
	"ip -n rvx_a addr add 192.0.2.1/24 dev vx0 && ip netns exec rvx_a ping -c 2 -W 1 192.0.2.2 >/dev/null 2>&1; \
	 [ \$(ip netns exec rvx_a cat /sys/class/net/vx0/statistics/tx_dropped) -gt 0 ]"
ktap_check "a given unicast MAC address is used" sh -c \
	"ip -n rvx_a link add vx1 address 02:00:00:00:00:01 type rvxlan && ip -n rvx_a link show vx1 | grep -q 02:00:00:00:00:01"
err=$(ip -n rvx_a link add vx2 address 01:00:5e:00:00:01 type rvxlan 2>&1)
ktap_diag "multicast MAC: $err"
ktap_check "a multicast MAC address is refused, no device created" sh -c \
	"! ip -n rvx_a link show vx2 >/dev/null 2>&1"
ktap_check "the refusal says why" sh -c "echo \"\$1\" | grep -q 'Provided Ethernet address is not unicast'" _ "$err"
ktap_check "MTU 9000 accepted" ip -n rvx_a link set vx0 mtu 9000
ktap_check "MTU above 65485 (64 KiB - 50) refused" sh -c "! ip -n rvx_a link set vx0 mtu 65486 2>/dev/null"
ktap_check "move vx1 from namespace a to c" sh -c "ip netns add rvx_c && ip -n rvx_a link set vx1 netns rvx_c && ip -n rvx_c link show vx1 >/dev/null"
ktap_check "delete vx0 in b" ip -n rvx_b link del vx0
ktap_check "vx0 in a is unaffected" ip -n rvx_a link show vx0
ktap_check "rmmod with devices present (a, c)" rmmod rvxlan
ktap_check "every rvxlan device is gone" sh -c \
	"! ip -n rvx_a link show vx0 2>/dev/null && ! ip -n rvx_c link show vx1 2>/dev/null"
for ns in rvx_a rvx_b rvx_c; do ip netns del "$ns" 2>/dev/null; done
ktap_finish
