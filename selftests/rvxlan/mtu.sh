#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# MTU edges: full-size frames at the default MTU (underlay - 50 / - 70)
# pass; a tunnel MTU the underlay cannot carry drops and counts what is too
# big when DF is set (IPv4) or always (IPv6), telling the sender the path
# MTU by ICMP, and fragments the outer packet with DF clear; jumbo
# underlays carry jumbo frames.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 15

# dfping NS ADDR SIZE: one ping of SIZE payload bytes, never fragmented.
# shellcheck disable=SC2317 # called through ktap_check
dfping() {
	ip netns exec "$1" ping -q -c 2 -i 0.3 -W 2 -M "do" -s "$3" "$2" >/dev/null 2>&1
}

# fails COMMAND...: succeeds when the command fails.
# shellcheck disable=SC2317 # called through ktap_check
fails() {
	! "$@"
}

fresh_module || exit 1
netns ma mb m6a m6b
underlay ma 10.6.0.1 mb 10.6.0.2 24
rvx ma add rx0 vni 60 remote 10.6.0.2
ip -n mb link add vx0 type vxlan id 60 remote 10.6.0.1 dstport 4789
overlay ma rx0 192.168.60.1/24
overlay mb vx0 192.168.60.2/24
ktap_check "IPv4: a 1450-byte packet (default MTU, 1422 bytes of ping) crosses with DF" dfping ma 192.168.60.2 1422
ktap_check "IPv4: 1451 bytes exceed the device MTU (refused by the stack)" fails dfping ma 192.168.60.2 1423
ip -n ma link set rx0 mtu 1500
ip -n mb link set vx0 mtu 1500
rvx ma set rx0 df set
before=$(counter ma rx0 tx_too_big)
ktap_check "IPv4, tunnel MTU 1500 over a 1500 underlay, DF set: a full frame does not cross" \
	fails dfping ma 192.168.60.2 1472
# The first ping comes back as ICMP "fragmentation needed" (mtu 1450);
# the sender's stack then refuses the second itself.
ktap_expect "... is counted tx_too_big (the first ping; the sender refuses the second)" \
	$((before + 1)) "$(counter ma rx0 tx_too_big)"
ktap_check "... and the sender learned the path MTU 1450 from the tunnel's ICMP (as Linux tunnels)" sh -c \
	"ip -n ma route get 192.168.60.2 | grep -qw 'mtu 1450'"
ip -n ma route flush cache
# TCP hands the device large (GSO) frames: those too are checked against
# the path by their segments, and the sender is told (else a PMTU black
# hole: the segments die in the underlay's ip_fragment with DF set).
tcp_run mb ma 192.168.60.2 3
ktap_diag "IPv4, DF set, tunnel MTU 1500 over 1500: TCP $MBIT Mbit/s"
tcp_check "... TCP (GSO) adapts to the path MTU the tunnel reports and flows"
ip -n ma route flush cache
rvx ma set rx0 df unset
ktap_check "IPv4, same with DF clear: the outer packet is fragmented and the frame crosses" dfping ma 192.168.60.2 1472
rvx ma set rx0 df inherit
ktap_check "IPv4, DF inherit: the inner DF bit is copied, so a full frame with DF does not cross" \
	fails dfping ma 192.168.60.2 1472
ktap_check "IPv4, DF inherit: a full frame without DF crosses, fragmented outside" \
	ip netns exec ma ping -q -c 2 -i 0.3 -W 2 -M dont -s 1472 192.168.60.2
ip -n ma route flush cache

ip -n ma link set ul0 mtu 9000
ip -n mb link set ul0 mtu 9000
ip -n ma link set rx0 mtu 8950
ip -n mb link set vx0 mtu 8950
ktap_check "IPv4, jumbo underlay 9000: an 8950-byte frame crosses with DF" dfping ma 192.168.60.2 8922

underlay m6a fd06::1 m6b fd06::2 64
rvx m6a add rx0 vni 66 remote fd06::2
rvx m6b add rx0 vni 66 remote fd06::1
overlay m6a rx0 192.168.66.1/24
overlay m6b rx0 192.168.66.2/24
ktap_expect "IPv6: default MTU 1430" 1430 "$(ip netns exec m6a cat /sys/class/net/rx0/mtu)"
ktap_check "IPv6: a 1430-byte packet crosses" dfping m6a 192.168.66.2 1402
ip -n m6a link set rx0 mtu 1500
ip -n m6b link set rx0 mtu 1500
before=$(counter m6a rx0 tx_too_big)
ip netns exec m6a ping -q -c 2 -i 0.3 -W 1 -M "do" -s 1472 192.168.66.2 >/dev/null 2>&1
ktap_expect "IPv6, tunnel MTU 1500 over a 1500 underlay: a full frame dropped, counted tx_too_big" \
	$((before + 1)) "$(counter m6a rx0 tx_too_big)"
ktap_check "... and the sender learned the path MTU 1430 from the tunnel's ICMP" sh -c \
	"ip -n m6a route get 192.168.66.2 | grep -qw 'mtu 1430'"
r0=$(ip netns exec m6b nstat -az IpReasmOKs | awk '$1 == "IpReasmOKs" { print $2 }')
ip netns exec m6a ping -q -c 2 -i 0.3 -W 1 -M want -s 1472 192.168.66.2 >/dev/null 2>&1
ktap_check "... with which its stack fragments a full-size ping that may be, and the peer reassembles it" \
	sh -c "[ \$(ip netns exec m6b nstat -az IpReasmOKs | awk '\$1 == \"IpReasmOKs\" { print \$2 }') -gt $r0 ]"
ktap_finish
