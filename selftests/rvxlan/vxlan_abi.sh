#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test of the link ABI: one list of iproute2 commands (create
# with every supported option, change, bad values, unsupported attributes)
# runs once against Linux vxlan and once against rvxlan loaded as kind
# "vxlan" (kind=vxlan, after rmmod vxlan), in the same boot. Exit status,
# error message and `ip -d -j link show` (without ifindex and MAC
# addresses, which legitimately differ) must be the same, but for the
# differences Documentation/rvxlan.rst lists, each of which is checked as
# that difference. A positive control proves the comparison sees a
# changed field (the TTL).
. "$(dirname "$0")/tunnel_lib.sh"

# The commands, one per line: "STEP|COMMAND". After each, every device the
# command names with "dev X" in SHOW is shown. Run with `sh -c` in
# namespace abi.
STEPS='create|ip link add vx0 type vxlan id 100 remote 10.9.0.2 local 10.9.0.1 dstport 4789 srcport 1000 2000 ttl 32 tos inherit df set ageing 60 nolearning
show|:
ttl|ip link set vx0 type vxlan ttl 9
learning-ageing0|ip link set vx0 type vxlan learning ageing 0
remote|ip link set vx0 type vxlan remote 10.9.0.3
noproxy-change|ip link set vx0 type vxlan noproxy
vni-change|ip link set vx0 type vxlan id 101
port-change|ip link set vx0 type vxlan dstport 4790
range-change|ip link set vx0 type vxlan srcport 1 2
limit-change|ip link set vx0 type vxlan maxaddress 10
family-change|ip link set vx0 type vxlan remote fd00::3
mtu-change|ip link set vx0 mtu 1400 type vxlan ttl 3
same-vni|ip link add vx1 type vxlan id 100 dstport 4789
bad-range|ip link add vx1 type vxlan id 5 dstport 4789 srcport 2000 1000
bad-mac|ip link add vx1 address 01:00:5e:00:00:01 type vxlan id 5 dstport 4789
bad-id|ip link add vx1 type vxlan id 16777216 dstport 4789
group-nodev|ip link add vx1 type vxlan id 5 group 239.1.1.1
ipv6|ip link add vx6 type vxlan id 6 remote fd00::2 local fd00::1 dstport 4789 hoplimit 7
ipv6-default|ip -6 link add vx5 type vxlan id 9 dstport 4789
default-port|ip link add vx7 type vxlan id 7
defaults-off|ip link add vx8 type vxlan id 8 dstport 4789 noproxy norsc nol2miss nol3miss noexternal noudp6zerocsumtx noudp6zerocsumrx noremcsumtx noremcsumrx noudpcsum
mc-local|ip link add vx9 type vxlan id 10 dstport 4789 local 10.9.0.1 remote 10.9.0.5 ttl auto
proxy|ip link add vx2 type vxlan id 20 dstport 4789 proxy
rsc|ip link add vx2 type vxlan id 20 dstport 4789 rsc
l2miss|ip link add vx2 type vxlan id 20 dstport 4789 l2miss
l3miss|ip link add vx2 type vxlan id 20 dstport 4789 l3miss
external|ip link add vx2 type vxlan dstport 4789 external
gbp|ip link add vx2 type vxlan id 20 dstport 4789 gbp
ttl-inherit|ip link add vx2 type vxlan id 20 dstport 4789 ttl inherit
flowlabel|ip link add vx2 type vxlan id 20 remote fd00::2 dstport 4789 flowlabel 5
udp6zerocsumtx|ip link add vx2 type vxlan id 20 remote fd00::2 dstport 4789 udp6zerocsumtx
remcsumtx|ip link add vx2 type vxlan id 20 dstport 4789 remcsumtx
udpcsum|ip link add vx2 type vxlan id 20 dstport 4789 udpcsum
dev|ip link add vx2 type vxlan id 20 dstport 4789 dev lo'
SHOW="vx0 vx1 vx2 vx5 vx6 vx7 vx8 vx9"

# The intended differences (Documentation/rvxlan.rst, "Differences"):
# "STEP|WHAT|LINUX|RVXLAN". WHAT is "rc" and "err" (the command's), or
# DEV:JQ-PATH of a shown field. A difference listed is checked to be
# exactly that one.
DIFFS=''
for s in proxy rsc l2miss l3miss external gbp ttl-inherit flowlabel udp6zerocsumtx remcsumtx udpcsum dev; do
	DIFFS="$DIFFS
$s|rc|0|2"
done
# Each refused-by-rvxlan device exists under Linux only: its show differs
# as a whole (present / absent), checked as such.
for s in proxy rsc l2miss l3miss external gbp ttl-inherit flowlabel udp6zerocsumtx remcsumtx udpcsum dev; do
	DIFFS="$DIFFS
$s|vx2:present|yes|no"
done

NS=abi
# run_steps OUT: runs STEPS in a fresh namespace; writes per step
# OUT/STEP.rc, .err and OUT/STEP.DEV.json (normalised), deleting vx2
# after each step so that steps stay independent.
run_steps() {
	local out=$1 step cmd dev
	rm -rf "$out" && mkdir -p "$out"
	ip netns del $NS 2>/dev/null
	ip netns add $NS && ip -n $NS link set lo up
	while IFS='|' read -r step cmd; do
		ip netns exec $NS sh -c "$cmd" >/dev/null 2>"$out/$step.err"
		echo $? >"$out/$step.rc"
		for dev in $SHOW; do
			if ip -n $NS -d -j link show dev "$dev" >"$out/$step.$dev.raw" 2>/dev/null; then
				jq -S '.[0] | del(.ifindex, .address, .broadcast)' \
					<"$out/$step.$dev.raw" >"$out/$step.$dev.json"
				echo yes >"$out/$step.$dev.present"
			else
				echo no >"$out/$step.$dev.present"
			fi
			rm -f "$out/$step.$dev.raw"
		done
		ip -n $NS link del vx2 2>/dev/null
	done <<<"$STEPS"
	ip netns del $NS
}

# compare A B: prints each difference between the runs in A and B that
# DIFFS does not list exactly, one per line; prints "listed ..." for each
# listed difference seen, and "missing ..." for each listed one not seen.
compare() {
	local a=$1 b=$2 step cmd dev what va vb want
	while IFS='|' read -r step cmd; do
		for what in rc err; do
			va=$(cat "$a/$step.$what") vb=$(cat "$b/$step.$what")
			want=$(printf '%s\n' "$DIFFS" | grep -F "$step|$what|" | head -n 1)
			if [ -n "$want" ]; then
				[ "$want" = "$step|$what|$va|$vb" ] && echo "listed $want" ||
					echo "missing $want (got '$va' / '$vb')"
			elif [ "$what" = err ] && [ "$(cat "$b/$step.rc")" != "$(cat "$a/$step.rc")" ]; then
				:	# a listed rc difference carries its own message
			elif [ "$va" != "$vb" ]; then
				echo "differs $step $what: '$va' / '$vb'"
			fi
		done
		for dev in $SHOW; do
			va=$(cat "$a/$step.$dev.present") vb=$(cat "$b/$step.$dev.present")
			want=$(printf '%s\n' "$DIFFS" | grep -F "$step|$dev:present|" | head -n 1)
			if [ -n "$want" ]; then
				[ "$want" = "$step|$dev:present|$va|$vb" ] && echo "listed $want" ||
					echo "missing $want (got $va / $vb)"
				continue
			fi
			[ "$va" = "$vb" ] || { echo "differs $step $dev present: $va / $vb"; continue; }
			[ "$va" = yes ] || continue
			diff <(jq -S "$(dev_mask "$step" "$dev")" "$a/$step.$dev.json") \
				<(jq -S "$(dev_mask "$step" "$dev" b)" "$b/$step.$dev.json") >/dev/null ||
				echo "differs $step $dev: $(diff <(jq -S . "$a/$step.$dev.json") <(jq -S . "$b/$step.$dev.json") | grep '^[<>]' | tr '\n' ' ')"
		done
	done <<<"$STEPS"
	# Field differences every shown device has (documented): checked on
	# each, then masked by dev_mask.
	for f in "$a"/*.json; do
		f=${f##*/}
		[ -f "$b/$f" ] || continue
		for field in $FIELD_DIFFS; do
			IFS='=' read -r path vals <<<"$field"
			va=$(jq -c "$path" "$a/$f") vb=$(jq -c "$path" "$b/$f")
			[ "$va/$vb" = "$vals" ] || echo "missing field difference $path in $f: want $vals, got $va/$vb"
		done
	done
}

# The differences of every shown device: PATH=LINUX/RVXLAN.
# udp_csum: rvxlan sends IPv4 UDP checksum zero (noudpcsum), Linux 6.12
# computes it by default; limit: Linux learns without bound (0), rvxlan
# bounds the table (4096 by default); max_mtu: Linux without a lower
# device allows 65535, rvxlan what fits a 64 KiB IPv4 datagram.
FIELD_DIFFS='.linkinfo.info_data.udp_csum=true/false .linkinfo.info_data.limit=null/4096 .max_mtu=65535/65485'

# jq filter that removes the documented per-device field differences,
# which compare() checks on their own.
dev_mask() {
	echo 'del(.linkinfo.info_data.udp_csum, .linkinfo.info_data.limit, .max_mtu)'
}

ktap_plan 9

A=/tmp/rvx-abi-linux B=/tmp/rvx-abi-rvxlan
unload_quietly rvxlan
if ! module_loaded vxlan && ! modprobe vxlan 2>/dev/null; then
	if [ -d /sys/module/vxlan ]; then
		ktap_skip_rest "Linux vxlan is built in (CONFIG_VXLAN=y): rvxlan cannot take the kind vxlan in this kernel"
	fi
	ktap_skip_rest "no Linux vxlan module"
fi
run_steps "$A"
ktap_check "Linux vxlan: the create step succeeded" test "$(cat $A/create.rc)" = 0
ktap_check "rmmod vxlan" rmmod vxlan
ktap_check "insmod rvxlan.ko kind=vxlan" insmod "$RVISOR_MODULES/rvxlan.ko" kind=vxlan
run_steps "$B"
result=$(compare "$A" "$B")
printf '%s\n' "$result" | sed 's/^/# /'
ktap_check "every difference is a listed one" sh -c '! printf "%s\n" "$1" | grep -q "^differs"' _ "$result"
ktap_check "every listed difference is there as listed" sh -c '! printf "%s\n" "$1" | grep -q "^missing"' _ "$result"
ktap_check "unsupported attributes are refused by name" \
	grep -q "rvxlan does not support IFLA_VXLAN_PROXY (proxy)" "$B/proxy.err"
# Positive control: a TTL changed in one run is a difference.
cp -r "$B" "$B.ctl"
jq '.linkinfo.info_data.ttl = 99' "$B/ttl.vx0.json" >"$B.ctl/ttl.vx0.json"
ctl=$(compare "$A" "$B.ctl")
ktap_check "positive control: the comparison sees a changed TTL" sh -c \
	'printf "%s\n" "$1" | grep -q "^differs ttl vx0"' _ "$ctl"
ktap_check "rmmod rvxlan" rmmod rvxlan
ktap_check "Linux vxlan loads again" modprobe vxlan
rm -rf "$A" "$B" "$B.ctl"
ktap_finish
