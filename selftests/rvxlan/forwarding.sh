#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# L2 forwarding over three VTEPs: broadcast and unknown unicast flooded by
# head-end replication to every remote, known unicast sent to one; MACs
# learned from decapsulated frames, bounded by the limit and aged out;
# static FDB entries steer unicast.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 12
INJECT=$RVISOR_BIN/vxlan_inject

fresh_module || exit 1
netns h1 h2 h3
underlay h1 10.5.2.1 h2 10.5.2.2 24 to2 ul0
underlay h1 10.5.3.1 h3 10.5.3.3 24 to3 ul0
rvx h1 add rx0 vni 500 remote 10.5.2.2 remote 10.5.3.3
rvx h2 add rx0 vni 500 remote 10.5.2.1 limit 2
rvx h3 add rx0 vni 500 remote 10.5.3.1
for h in 1 2 3; do
	ip netns exec h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	overlay h$h rx0 192.168.5.$h/24
done
rx() {
	devstat "$1" rx0 rx_packets
}

r3=$(rx h3)
ktap_check "ping host 1 -> host 2 (ARP broadcast flooded, reply learned)" pings h1 192.168.5.2 3
ktap_expect "host 3 got the flooded ARP broadcast (one copy)" $((r3 + 1)) "$(rx h3)"
mac2=$(ip netns exec h2 cat /sys/class/net/rx0/address)
ktap_check "host 1 learned host 2's MAC behind 10.5.2.2" sh -c \
	"$RVXLAN -n h1 fdb show rx0 | grep -qx '$mac2 via 10.5.2.2 learned'"

# From here on, no ARP: the counts below are the test's frames only.
mac1=$(ip netns exec h1 cat /sys/class/net/rx0/address)
ip -n h1 neigh replace 192.168.5.2 lladdr "$mac2" dev rx0 nud permanent
ip -n h2 neigh replace 192.168.5.1 lladdr "$mac1" dev rx0 nud permanent
r3=$(rx h3)
pings h1 192.168.5.2 5
ktap_expect "known unicast goes to host 2 only: host 3 got nothing" "$r3" "$(rx h3)"

# An address whose MAC no VTEP has: unknown unicast.
ip -n h1 neigh replace 192.168.5.9 lladdr 02:00:00:00:09:09 dev rx0 nud permanent
r2=$(rx h2) r3=$(rx h3)
ip netns exec h1 ping -q -c 3 -i 0.2 -W 1 192.168.5.9 >/dev/null 2>&1
ktap_expect "unknown unicast flooded: host 2 got every copy" $((r2 + 3)) "$(rx h2)"
ktap_expect "unknown unicast flooded: host 3 got every copy" $((r3 + 3)) "$(rx h3)"

rvx h1 fdb add rx0 02:00:00:00:09:09 via 10.5.3.3
r2=$(rx h2) r3=$(rx h3)
ip netns exec h1 ping -q -c 3 -i 0.2 -W 1 192.168.5.9 >/dev/null 2>&1
ktap_expect "a static entry steers that MAC to host 3 only (host 3)" $((r3 + 3)) "$(rx h3)"
ktap_expect "a static entry steers that MAC to host 3 only (host 2 got none)" "$r2" "$(rx h2)"

# Learning bounded: host 2 allows 2 learned entries; 5 new sources arrive.
# (The limit is fixed at creation, as in Linux; learning off forgets.)
rvx h2 set rx0 learning off
rvx h2 set rx0 learning on
learned0=$(counter h2 rx0 learned_new) full0=$(counter h2 rx0 learn_full)
frames=()
for i in 1 2 3 4 5; do
	frames+=("080000000001f400ffffffffffff02000000aa0${i}88b5$(head -c 46 /dev/zero | od -An -tx1 -v | tr -d ' \n')")
done
ip netns exec h1 "$INJECT" 10.5.2.2 4789 "${frames[@]}"
sleep 0.5
ktap_expect "learning stops at the limit: 2 learned" 2 $(($(counter h2 rx0 learned_new) - learned0))
ktap_expect "... and 3 counted learn_full" 3 $(($(counter h2 rx0 learn_full) - full0))
ktap_expect "... and the FDB holds 2 learned entries" 2 "$("$RVXLAN" -n h2 fdb show rx0 | grep -c 'aa:0.* learned')"

# Ageing: host 1 forgets host 2's MAC after 2 idle seconds and floods again.
rvx h1 set rx0 ageing 2
sleep 3
ktap_check "an aged entry is gone from the FDB" sh -c \
	"! $RVXLAN -n h1 fdb show rx0 | grep -q '$mac2'"
ktap_finish
