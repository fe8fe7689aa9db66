#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tenant isolation: two tenants with identical inner MACs and addresses on
# VNIs 100 and 200, their devices moved into tenant namespaces while the
# tunnel sockets stay in the underlay, exchange traffic side by side; a
# third tenant (VNI 300) with the very same MAC and address listens and
# must receive nothing; no frame crosses between VNIs.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 12

fresh_module || exit 1
netns hv1 hv2 a1 a2 b1 b2 c1
underlay hv1 10.4.0.1 hv2 10.4.0.2 24
for ns in a1 a2 b1 b2 c1; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# tenant HV DEV VNI REMOTE MAC TENANT_NS ADDR: a device created in the
# underlay namespace HV, moved into TENANT_NS, addressed and up.
# shellcheck disable=SC2317 # called through ktap_check
tenant() {
	rvx "$1" add "$2" vni "$3" remote "$4" &&
		ip -n "$1" link set "$2" address "$5" netns "$6" &&
		overlay "$6" "$2" "$7"
}
# tenants: one tenant on both hosts.
# shellcheck disable=SC2317 # called through ktap_check
tenants() {
	tenant hv1 "$1" "$2" 10.4.0.2 02:aa:00:00:00:01 "${3}1" 192.168.10.1/24 &&
		tenant hv2 "$1" "$2" 10.4.0.1 02:aa:00:00:00:02 "${3}2" 192.168.10.2/24
}
ktap_check "tenant A (VNI 100) on both hosts, devices moved into tenant namespaces" tenants tA 100 a
ktap_check "tenant B (VNI 200) with the same MACs and addresses as A" tenants tB 200 b
ktap_check "tenant C (VNI 300) listening with A's and B's MAC and address of host 2" \
	tenant hv1 tC 300 10.4.0.2 02:aa:00:00:00:02 c1 192.168.10.2/24
ip -n c1 link set tC promisc on
ktap_check "the tenant namespaces see their device's underlay as another namespace (link-netns)" \
	sh -c "ip -n a1 -d link show tA | grep -q link-netns"
ktap_expect "no tunnel socket in a tenant namespace; both hosts' underlays have one" "0 1 1" \
	"$(udp_socks a1 4789) $(udp_socks hv1 4789) $(udp_socks hv2 4789)"

pcap=/tmp/rvx-isolation-c.pcap
capture c1 tC $pcap 12
ip netns exec a1 ping -q -c 5 -i 0.2 -W 2 192.168.10.2 >/tmp/rvx-ping-a 2>&1 &
pa=$!
ip netns exec b1 ping -q -c 9 -i 0.2 -W 2 192.168.10.2 >/tmp/rvx-ping-b 2>&1 &
pb=$!
wait $pa && ra=ok
wait $pb && rb=ok
ktap_expect "tenant A: every ping answered" ok "${ra:-failed}"
ktap_expect "tenant B at the same time: every ping answered" ok "${rb:-failed}"
echos() {
	ip netns exec "$1" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) f[$i] = i; h = 1 } else print $f["InEchos"] }' /proc/net/snmp
}
ktap_expect "host 2 of tenant A got exactly A's 5 echo requests" 5 "$(echos a2)"
ktap_expect "host 2 of tenant B got exactly B's 9 echo requests" 9 "$(echos b2)"
# Positive control: one frame that is for tenant C (VNI 300), so that
# the capture and the counter below are shown to see what C receives.
ip netns exec hv2 "$RVISOR_BIN/vxlan_inject" 10.4.0.1 4789 \
	"0800000000012c00ffffffffffff020000000c0c88b5$(head -c 46 /dev/zero | od -An -tx1 -v | tr -d ' \n')"
wait $CAPTURE_PID
ktap_expect "tenant C captured only the one frame sent to VNI 300 (promiscuous)" 1 \
	"$("$RVISOR_BIN/pcap_read" $pcap count)"
ktap_expect "tenant C's device received only that frame" 1 "$(devstat c1 tC rx_packets)"

ip netns del hv2
RVX_NAMESPACES=${RVX_NAMESPACES/ hv2/}
sleep 1
ktap_check "deleting host 2's underlay namespace deletes its tunnels in the tenant namespaces" sh -c \
	"! ip -n a2 link show tA 2>/dev/null && ! ip -n b2 link show tB 2>/dev/null && ip -n a1 link show tA >/dev/null"
ktap_finish
