#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed VXLAN written by the test from a raw socket (vxlan_inject) at
# an rvxlan endpoint: each kind is dropped, counted under its own reason,
# and never delivered to the device; well-formed frames around them still
# are.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 14
INJECT=$RVISOR_BIN/vxlan_inject

fresh_module || exit 1
netns ma mb
underlay ma 10.2.0.1 mb 10.2.0.2 24
rvx mb add rx0 vni 100 remote 10.2.0.1
ip -n mb link set rx0 mtu 1000
overlay mb rx0 192.168.2.2/24
own=$(ip netns exec mb cat /sys/class/net/rx0/address | tr -d :)

# hdr FLAGS_HEX VNI [LAST_BYTE]: an 8-byte VXLAN header in hex.
hdr() {
	printf '%s%06x%s' "$1" "$2" "${3:-00}"
}
# frame LEN [SRC]: a broadcast Ethernet frame of LEN bytes in hex.
frame() {
	local src=${2:-020000000001}
	printf 'ffffffffffff%s88b5' "$src"
	head -c $(($1 - 14)) /dev/zero | od -An -tx1 -v | tr -d ' \n'
}
inject() {
	ip netns exec ma "$INJECT" 10.2.0.2 4789 "$@"
}
# inject_tos TOS HEX...: with that outer TOS.
inject_tos() {
	local tos=$1
	shift
	ip netns exec ma "$INJECT" -t "$tos" 10.2.0.2 4789 "$@"
}
# ip4frame TOS: a broadcast Ethernet frame carrying an IPv4 header with
# that TOS (ICMP, 28 bytes), padded to 60 bytes.
ip4frame() {
	printf 'ffffffffffff020000000001080045%02x001c000000004001f7a3c0a80201c0a80202' "$1"
	head -c 26 /dev/zero | od -An -tx1 -v | tr -d ' \n'
}
rx() {
	devstat mb rx0 rx_packets
}

before=$(rx)
inject "$(hdr 08000000 100)$(frame 60)"
sleep 0.5
base=$(rx)
ktap_expect "a well-formed frame is delivered (the injector works)" $((before + 1)) "$base"

inject "$(hdr 00000000 100)$(frame 60)"
ktap_expect "I flag clear: dropped, counted sock_rx_no_vni_flag" 1 "$(counter mb rx0 sock_rx_no_vni_flag)"

inject "$(hdr 08000001 100)$(frame 60)" "$(hdr 88000000 100)$(frame 60)" "$(hdr 08000000 100 01)$(frame 60)" \
	"$(hdr 0c000000 100)$(frame 60)"
ktap_expect "reserved bits set (4 kinds): dropped, counted rx_reserved_bits" 4 "$(counter mb rx0 rx_reserved_bits)"

inject "$(hdr 08000000 999)$(frame 60)" "$(hdr 08000000 200)$(frame 60)"
ktap_expect "unknown VNIs: dropped, counted sock_rx_unknown_vni" 2 "$(counter mb rx0 sock_rx_unknown_vni)"

args=()
for len in 1 2 3 4 5 6 7; do
	args+=("$(hdr 08000000 100 | cut -c1-$((2 * len)))")
done
inject "${args[@]}"
ktap_expect "1..7-byte payloads (truncated header): dropped, counted sock_rx_truncated" 7 "$(counter mb rx0 sock_rx_truncated)"

args=()
for inner in $(seq 0 13); do
	args+=("$(hdr 08000000 100)$(head -c "$inner" /dev/zero | od -An -tx1 -v | tr -d ' \n')")
done
inject "${args[@]}"
ktap_expect "8..21-byte payloads (inner frame under 14 bytes): dropped, counted rx_inner_too_short" 14 "$(counter mb rx0 rx_inner_too_short)"

inject "$(hdr 08000000 100)$(frame 1019)"
ktap_expect "inner frame of MTU + 19 bytes: dropped, counted rx_too_big" 1 "$(counter mb rx0 rx_too_big)"

inject "$(hdr 08000000 100)$(frame 60 "$own")"
ktap_expect "the device's own MAC as inner source: dropped, counted rx_own_source" 1 "$(counter mb rx0 rx_own_source)"

# A second device keeps the shared socket open while rx0 is down.
rvx mb add rx1 vni 101 && ip -n mb link set rx1 up
ip -n mb link set rx0 down
inject "$(hdr 08000000 100)$(frame 60)"
ip -n mb link set rx0 up
# A down device is not in the demux table (only up ones are reachable):
# the socket drops the frame, counted on the endpoint.
ktap_expect "device down (socket shared with an up device): dropped, counted sock_rx_vni_down" 1 "$(counter mb rx0 sock_rx_vni_down)"

sleep 0.5
ktap_expect "none of the malformed frames reached the device" "$base" "$(rx)"

# ECN on decapsulation (RFC 6040 section 4.2, as Linux tunnels).
inject_tos 3 "$(hdr 08000000 100)$(ip4frame 0)"
inject_tos 3 "$(hdr 08000000 100)$(ip4frame 2)"
sleep 0.5
ktap_expect "outer CE over a Not-ECT inner packet: dropped, counted rx_ecn_ce_not_ect" 1 \
	"$(counter mb rx0 rx_ecn_ce_not_ect)"
ktap_expect "outer CE over an ECT(0) inner packet: delivered (marked CE)" $((base + 1)) "$(rx)"
base=$((base + 1))

inject "$(hdr 08000000 100)$(frame 1018)" "$(hdr 08000000 100)$(frame 60 020000000002)"
sleep 0.5
ktap_expect "edge: a 1018-byte inner frame (MTU + 14 + one VLAN tag) and a 60-byte one still arrive" $((base + 2)) "$(rx)"
ktap_check "the tunnel still answers ping afterwards" sh -c \
	"ip -n ma link add vx0 type vxlan id 100 local 10.2.0.1 remote 10.2.0.2 dstport 4789 && \
	 ip -n ma addr add 192.168.2.1/24 dev vx0 && ip -n ma link set vx0 up && \
	 ip netns exec ma ping -q -c 2 -W 2 192.168.2.2 >/dev/null"
ktap_finish
