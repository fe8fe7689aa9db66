#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rtnetlink fuzzing of rvxlan's control plane (rtnl_fuzz): random
# newlink/changelink/dellink, up/down, FDB add/del and dumps with wrong
# types, lengths, nesting, duplicates and boundary values.
#
# First as a tenant (root of its own user namespace, on devices the host
# moved into its namespace), with traffic flowing: afterwards the host's
# view of those devices' tunnels is unchanged and the underlay has no new
# socket. Then from the underlay namespace while devices are deleted, a
# namespace holding rvxlan devices is deleted and re-created, and the
# module is unloaded and loaded again under it. Finally nothing is left
# (devices, sockets) after rmmod, and the kernel log is clean.
#
# RVISOR_FUZZ_REQUESTS (default 80000) from the underlay and
# RVISOR_FUZZ_TENANT_REQUESTS (default 20000) from the tenant; seed
# RVISOR_FUZZ_SEED (default 1); the pair's ping interval
# RVISOR_FUZZ_PING_INTERVAL (default 0.005 s).
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 10
FUZZ=$RVISOR_BIN/rtnl_fuzz
N=${RVISOR_FUZZ_REQUESTS:-80000}
NT=${RVISOR_FUZZ_TENANT_REQUESTS:-20000}
SEED=${RVISOR_FUZZ_SEED:-1}
# The pair's ping interval: 200 a second by default; the debug kernel
# (scripts/check) asks for fewer, where 200 a second starves the guest.
PING_INTERVAL=${RVISOR_FUZZ_PING_INTERVAL:-0.005}
ktap_diag "seed $SEED, $NT requests as the tenant, $N from the underlay"

fresh_module || exit 1
dmesg_mark
netns za zb zc
underlay za 10.77.0.1 zb 10.77.0.2 24
ip -n za addr add fd4d::1/64 dev ul0 nodad

tenant_ns "$FUZZ" || exit 1
trap 'kill $CHAOS $FLOOD $LOAD 2>/dev/null; cleanup' EXIT

# A pair carrying traffic throughout (its own VNI, not in the fuzzers'
# name pools), 200 pings a second.
pair() {
	rvx za add st0 vni 4000 remote 10.77.0.2 && rvx zb add st0 vni 4000 remote 10.77.0.1 &&
		overlay za st0 192.168.77.1/24 && overlay zb st0 192.168.77.2/24
}
# tenant_devices: tz0..tz3, made in the underlay and moved to the tenant.
tenant_devices() {
	local k
	for k in 0 1 2 3; do
		rvx za add tz$k vni $((100 + k)) remote 10.77.0.2 &&
			ip -n za link set tz$k netns "$TENANT" || return 1
	done
}
# tconfig: the host's view of the tunnels of the devices it made for the
# tenant, a line each. (Those the tenant deleted are gone; it may create
# rvxlan devices of its own, whose underlay is its own namespace: no
# link-netns. They are not the host's and not listed.) Filtered in bash,
# not by grep: on the debug kernel under TCG each exec costs seconds.
tconfig() {
	local k l line links re
	links=$(nsenter -t "$TENANT" -n -- ip -d -o link show 2>/dev/null)
	for k in 0 1 2 3; do
		re="(^|"$'\n'")[0-9]+: tz${k}[:@][^"$'\n'"]* link-netns "
		[[ $links =~ $re ]] || continue
		line="tz$k"
		while IFS= read -r l; do
			if [[ $l =~ ^\ \ (vni|local|port|srcport|ttl|tos|df|learning|ageing|limit|remote)\  || $l == *" static" ]]; then
				line+=" ${l#  }"
			fi
		done < <(printf 'show tz%s\nfdb show tz%s\n' $k $k | nsenter -t "$TENANT" -n -- "$RVXLAN" -batch -)
		echo "$line"
	done
}
pair
tenant_devices
ip netns exec za timeout 600 ping -q -i "$PING_INTERVAL" 192.168.77.2 >/dev/null 2>&1 &
FLOOD=$!

before=$(tconfig)
# What the host sends on the underlay meanwhile: only the tenant's VNIs
# (100-103) and the host pair's (4000) may appear.
pcap=/tmp/rvx-fuzz-netlink.pcap
capture zb ul0 $pcap 30
start=$EPOCHSECONDS
# Without deletions, so the host's devices stay under attack throughout
# (deleting a device in its own namespace is the tenant's right; the
# underlay phase below deletes).
out=$(nsenter -t "$TENANT" -U -n -- /tmp/rvx-tenant/rtnl_fuzz "$SEED" "$NT" tz nodel)
rc=$?
comment_lines "$out"
ktap_diag "tenant: $NT requests in $((EPOCHSECONDS - start)) s"
ktap_check "tenant: $NT random requests sent and answered" eval "[ $rc -eq 0 ] && has_line \"\$out\" 'sent $NT'"
# What the tenant deleted is gone; what is left is as the host made it.
after=$(tconfig)
ktap_check "tenant: its changes reached rvxlan and were refused (EPERM among the answers)" \
	has_line_start "$out" "# Operation not permitted: "
# Four lines, each with its VNI: a device whose show failed would leave
# a bare name, the same before and after.
views=0
while read -r _ rest; do
	[[ " $rest " == *" vni "* ]] && views=$((views + 1))
done <<<"$before"
ktap_check "tenant: the host's view of its 4 devices' tunnels is unchanged" sh -c \
	'[ "$1" = 4 ] && [ "$2" = "$3" ]' _ "$views" "$before" "$after"
ktap_expect "tenant: the underlay's sockets are the host's only (one, on 4789)" \
	"1 1" "$(udp_socks za) $(udp_socks za 4789)"
kill -INT $CAPTURE_PID 2>/dev/null
wait $CAPTURE_PID 2>/dev/null
vnis=$("$RVISOR_BIN/pcap_read" $pcap vnis 10.77.0.1 4789)
# The host's IPv6 address on the underlay carries no tunnel: nothing.
vnis6=$("$RVISOR_BIN/pcap_read" $pcap vnis fd4d::1 4789) || vnis6="(unreadable)"
ktap_diag "VNIs the host sent while the tenant attacked: $vnis; from its IPv6 address: ${vnis6:-none}"
others=""
for v in $vnis; do
	case $v in 100 | 101 | 102 | 103 | 4000) ;; *) others="$others $v" ;; esac
done
ktap_check "tenant: every frame the host sent meanwhile carried the tenant's VNIs or the host pair's (the flood: positive control)" \
	eval 'has_word "$vnis" 4000 && [ -z "$others" ] && [ -z "$vnis6" ]'

# The underlay fuzzer, with device deletion, namespace deletion and
# module reloads running under it.
chaos() {
	local round=0
	while :; do
		sleep 2
		ip -n za link del "fz$((RANDOM % 8))" 2>/dev/null
		ip netns del zc 2>/dev/null
		ip netns add zc && ip -n zc link set lo up && rvx zc add zc0 vni 7 remote 10.77.0.9 &&
			ip -n zc link set zc0 up
		round=$((round + 1))
		if [ $((round % 5)) -eq 0 ]; then
			rmmod rvxlan && insmod "$RVISOR_MODULES/rvxlan.ko" && pair 2>/dev/null
		fi
	done
}
chaos &
CHAOS=$!
# Receive load on the VNIs the fuzzer's devices get (and those of
# devices that fail to register after ndo_init, which must never be
# reached).
# Bursts of 5,000 with pauses: load, without starving the fuzzer of CPU.
(
	while :; do
		ip netns exec zb "$RVISOR_BIN/vxlan_fuzz" "$SEED" 5000 10.77.0.1 4789 \
			0,1,2,3,4,5,6,7,8,9,10,100,200,255,256,299 02:00:00:00:00:01 >/dev/null 2>&1
		sleep 0.5
	done
) &
LOAD=$!
start=$EPOCHSECONDS
out=$(ip netns exec za "$FUZZ" "$SEED" "$N" fz)
rc=$?
kill $CHAOS $LOAD
wait $CHAOS $LOAD 2>/dev/null
# The chaos may have been stopped between its rmmod and insmod.
module_loaded rvxlan || insmod "$RVISOR_MODULES/rvxlan.ko"
comment_lines "$out"
ktap_diag "underlay: $N requests in $((EPOCHSECONDS - start)) s, with deletions, namespace deletions and module reloads"
ktap_check "underlay: $N random requests sent and answered" eval "[ $rc -eq 0 ] && has_line \"\$out\" 'sent $N'"
ktap_check "underlay: at least one device was created and changed (the fuzzer reaches rvxlan)" \
	has_line_start "$out" "# accepted: "
kill $FLOOD 2>/dev/null
ktap_check "rmmod afterwards" rmmod rvxlan
links=$(ip -n za -d link show && { ip -n zc -d link show 2>/dev/null || :; } && nsenter -t "$TENANT" -n -- ip -d link show) ||
	links="rvxlan (a namespace could not be listed)"
socks="$(udp_socks za) $(udp_socks zb)"
ktap_check "no rvxlan device and no tunnel socket left in any namespace" eval \
	'! has_word "$links" rvxlan && [ "$socks" = "0 0" ]'
[ "$socks" = "0 0" ] || ktap_diag "UDP sockets left in za and zb: $socks"
ktap_check "no warning, bug or oops in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -E 'WARNING:|BUG:|Oops|general protection|UBSAN|refcount_t'"
insmod "$RVISOR_MODULES/rvxlan.ko"
ktap_finish
