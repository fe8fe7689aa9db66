#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configuring rvxlan through its netlink interface (the rvxlan CLI) and
# iproute2 (`ip link`, `bridge fdb`): every parameter round-trips; bad
# values are refused with the kernel's reason and change nothing.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 35

fresh_module || exit 1
netns ca cb
underlay ca 10.3.0.1 cb 10.3.0.2 24

# refused NS DESCRIPTION EXPECTED_MESSAGE ARGS...: the CLI fails, saying why.
refused() {
	local ns=$1 desc=$2 want=$3 out
	shift 3
	out=$(rvx "$ns" "$@" 2>&1)
	local rc=$?
	ktap_diag "$desc: $out"
	check_refused "$desc" "$want" "$rc" "$out"
}

ktap_check "create with every parameter" rvx ca add vx0 vni 100 local 10.3.0.1 remote 10.3.0.2 remote 10.3.0.3 \
	port 8472 srcport 1000 2000 ttl 32 tos inherit df set learning off ageing 60 limit 100
show=$(rvx ca show vx0)
echo "$show" | sed 's/^/# /' | head -n 14
missing=""
for f in "vni 100" "local 10.3.0.1" "port 8472" "srcport 1000 2000" "ttl 32" "tos 1" "df set" \
	"learning off" "ageing 60" "limit 100" "remote 10.3.0.2" "remote 10.3.0.3"; do
	has_line "$show" "  $f" || missing="$missing, $f"
done
ktap_check "show gives back every parameter" test -z "$missing"
[ -z "$missing" ] || ktap_diag "missing: ${missing#, }"
ktap_check "ip -d link shows the rvxlan kind" sh -c "ip -n ca -d link show vx0 | grep -qw rvxlan"
ktap_expect "default MTU on an IPv4 underlay is 1500 - 50" 1450 "$(ip netns exec ca cat /sys/class/net/vx0/mtu)"

refused ca "VNI 2^24" "VXLAN ID must be lower than 16777216" add vx1 vni 16777216
ktap_check "... and no device was created" sh -c "! ip -n ca link show vx1 2>/dev/null"
refused ca "same VNI, port and namespace as vx0" "A VXLAN device with the specified VNI already exists" add vx1 vni 100 port 8472
ktap_check "... and no device was created" sh -c "! ip -n ca link show vx1 2>/dev/null"
ktap_check "the same VNI on another port is another endpoint: accepted" rvx ca add vx1 vni 100 port 4789
ktap_check "the same VNI and port in another underlay namespace: accepted" rvx cb add vx0 vni 100 port 8472
ktap_check "the same VNI and port over IPv6 (another socket, as Linux vxlan): accepted" \
	rvx ca add vx6 vni 100 port 8472 local fd00::1
ktap_expect "default MTU on an IPv6 underlay is 1500 - 70" 1430 "$(ip netns exec ca cat /sys/class/net/vx6/mtu)"

refused ca "multicast remote" "multicast remotes are not supported" set vx0 remote 10.3.0.2 remote 239.1.1.1
refused ca "remote and local of different families" "New group address family does not match old group" set vx0 remote fd00::2
refused ca "a source port range below its start" "Invalid source port range" set vx0 srcport 2000 1999
refused ca "learned-entry limit 0 (unlimited)" "1 to 65536" add vx2 vni 102 limit 0
refused ca "changing the limit (as Linux)" "Cannot change limit" set vx0 limit 50
refused ca "multicast local address" "Local address cannot be multicast" set vx0 local 224.0.0.5
ktap_check "a refused change changed nothing (VNI and remotes as before)" sh -c \
	'[ "$1" = "$2" ]' _ "$show" "$(rvx ca show vx0)"

# The VNI, port and source port range are fixed at creation, up or down,
# as Linux vxlan's changelink says ("Cannot change VNI", EOPNOTSUPP).
ip -n ca link set vx0 up
refused ca "changing the VNI of an up device" "Cannot change VNI" set vx0 vni 101
ktap_check "changing the remotes of an up device works" sh -c \
	"$RVXLAN -n ca set vx0 remote 10.3.0.9 && \
	 $RVXLAN -n ca show vx0 | grep -qx '  remote 10.3.0.9'"
ip -n ca link set vx0 down
refused ca "changing the VNI of a down device" "Cannot change VNI" set vx0 vni 101
refused ca "changing the UDP port" "Cannot change port" set vx0 port 4790
refused ca "changing the source port range" "Cannot change port range" set vx0 srcport 1000 3000
ktap_check "giving the current VNI again is no change, and accepted" sh -c \
	"$RVXLAN -n ca set vx0 vni 100 && $RVXLAN -n ca show vx0 | grep -qx '  vni 100'"
# Linux refuses the port and range attributes in changelink whatever their value.
refused ca "giving the current UDP port again" "Cannot change port" set vx0 port 8472

ktap_check "fdb add (rvxlan CLI)" rvx ca fdb add vx0 02:00:00:00:00:0a via 10.3.0.7
ktap_check "fdb add (iproute2's bridge)" ip netns exec ca bridge fdb add 02:00:00:00:00:0b dev vx0 dst 10.3.0.8
ktap_check "both entries, and the flood list, shown by bridge fdb and rvxlan fdb show" sh -c \
	"ip netns exec ca bridge fdb show dev vx0 | grep -q '02:00:00:00:00:0b dst 10.3.0.8 self permanent' && \
	 $RVXLAN -n ca fdb show vx0 | grep -qx '02:00:00:00:00:0a via 10.3.0.7 static' && \
	 $RVXLAN -n ca fdb show vx0 | grep -qx '00:00:00:00:00:00 via 10.3.0.9 static'"
# FDB refusals are Linux vxlan's: a bare errno, no extended ack.
refused ca "fdb add of an existing MAC without replace" "File exists" fdb add vx0 02:00:00:00:00:0a via 10.3.0.6
ktap_check "fdb add ... replace moves it" sh -c \
	"$RVXLAN -n ca fdb add vx0 02:00:00:00:00:0a via 10.3.0.6 replace && \
	 $RVXLAN -n ca fdb show vx0 | grep -qx '02:00:00:00:00:0a via 10.3.0.6 static'"
refused ca "fdb add with an IPv6 remote on an IPv4 tunnel" "Address family not supported" fdb add vx0 02:00:00:00:00:0c via fd00::9
ktap_check "fdb del, and del of a missing entry fails" sh -c \
	"$RVXLAN -n ca fdb del vx0 02:00:00:00:00:0a && ! $RVXLAN -n ca fdb del vx0 02:00:00:00:00:0a 2>/dev/null && \
	 ! $RVXLAN -n ca fdb show vx0 | grep -q 02:00:00:00:00:0a"
ktap_check "flood list edited with the all-zeros MAC (append, delete)" sh -c \
	"ip netns exec ca bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.3.0.10 && \
	 $RVXLAN -n ca show vx0 | grep -qx '  remote 10.3.0.10' && \
	 ip netns exec ca bridge fdb del 00:00:00:00:00:00 dev vx0 dst 10.3.0.10 && \
	 ! $RVXLAN -n ca show vx0 | grep -q 10.3.0.10"
ktap_check "ethtool -S lists the 18 rvxlan counters" sh -c "[ \$(ip netns exec ca ethtool -S vx0 | grep -c ': ') -eq 18 ]"
ktap_finish
