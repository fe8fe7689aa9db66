#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packet fuzzing of rvxlan's receive path (vxlan_fuzz): seeded, mutated
# VXLAN datagrams over an IPv4 and an IPv6 underlay at an endpoint with
# up and down devices (one with a small MTU), then the accounting check:
# each datagram that reached the tunnel socket was delivered or counted
# under exactly one drop reason, so the sums must equal what was sent;
# nothing was lost below (UDP and IP counters), the device drops show in
# rx_dropped too, the tunnel still works, and the kernel log is clean.
#
# RVISOR_FUZZ_PACKETS datagrams per family (default 500000), seed
# RVISOR_FUZZ_SEED (default 1; the same seed sends the same datagrams).
# Then a remote floods RVISOR_FUZZ_MACS distinct source MACs (default
# 100000), twice, at a device whose FDB limit is RVISOR_FUZZ_MAC_LIMIT
# (default 65536): exactly the limit is learned, the table grows past what
# softirq may allocate (the work item), and traffic keeps flowing.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 11
FUZZ=$RVISOR_BIN/vxlan_fuzz
N=${RVISOR_FUZZ_PACKETS:-500000}
SEED=${RVISOR_FUZZ_SEED:-1}
MACS=${RVISOR_FUZZ_MACS:-100000}
LIMIT=${RVISOR_FUZZ_MAC_LIMIT:-65536}
ktap_diag "seed $SEED, $N datagrams per family"

fresh_module || exit 1
dmesg_mark
netns fa fb
underlay fa 10.8.0.1 fb 10.8.0.2 24
ip -n fa addr add fd00:8::1/64 dev ul0 nodad
ip -n fb addr add fd00:8::2/64 dev ul0 nodad
# IPv4 endpoint: two up devices (one with MTU 1000), one down; IPv6: one
# up, one down. f4a has a peer in fa for the ping afterwards.
rvx fb add f4a vni 100 remote 10.8.0.1
rvx fb add f4b vni 101 remote 10.8.0.1
rvx fb add f4c vni 102 remote 10.8.0.1
rvx fb add f6a vni 100 remote fd00:8::1
rvx fb add f6b vni 200 remote fd00:8::1
ip -n fb link set f4b mtu 1000
# No traffic of their own on the overlays (router solicitations, MLD):
# what the devices receive is the fuzzer's alone.
# (f4b has none: IPv6 needs an MTU of 1280.)
for d in f4a f4c f6a f6b; do ip netns exec fb sysctl -qw net.ipv6.conf.$d.disable_ipv6=1; done
overlay fb f4a 192.168.80.2/24
for d in f4b f6a; do ip -n fb link set $d up; done
rvx fa add p4 vni 100 remote 10.8.0.2
ip netns exec fa sysctl -qw net.ipv6.conf.p4.disable_ipv6=1
overlay fa p4 192.168.80.1/24
own=$(ip netns exec fb cat /sys/class/net/f4a/address)

DEV_DROPS="rx_reserved_bits rx_inner_too_short rx_too_big rx_own_source rx_device_down rx_ecn_ce_not_ect"
SOCK_DROPS="sock_rx_truncated sock_rx_no_vni_flag sock_rx_unknown_vni sock_rx_vni_down"
# What the layers below the tunnel socket dropped (UDP errors, failed
# reassemblies), from nstat.
LOST="UdpInErrors UdpRcvbufErrors UdpInCsumErrors Udp6InErrors Udp6RcvbufErrors Udp6InCsumErrors IpReasmFails Ip6ReasmFails"
# snapshot DEV...: every counter the sums below need, read in one go
# inside fb (on the debug kernel under TCG each exec costs seconds, and a
# sum used to take forty): each device's ethtool -S counters, rx_packets
# and rx_dropped as C[DEV.NAME], and the namespace's nstat counters as
# C[-.NAME].
declare -A C
snapshot() {
	local dev=- k v rest
	C=()
	while read -r k v rest; do
		if [ "$k" = "@dev" ]; then
			dev=$v
		elif [ -n "$v" ]; then
			C[$dev.${k%:}]=$v
		fi
	done < <(ip netns exec fb bash -c '
		for d; do
			echo "@dev $d"
			ethtool -S "$d" || exit 1
			read -r v <"/sys/class/net/$d/statistics/rx_packets" && echo "rx_packets: $v"
			read -r v <"/sys/class/net/$d/statistics/rx_dropped" && echo "rx_dropped: $v"
		done
		echo "@dev -"
		nstat -az 2>/dev/null' _ "$@")
}
# sum DEV... -- NAME...: the sum of counters NAME of devices DEV (- for
# nstat's) in the last snapshot.
sum() {
	local devs=() d k s=0
	while [ "$1" != -- ]; do
		devs+=("$1")
		shift
	done
	shift
	for d in "${devs[@]}"; do
		for k in "$@"; do
			s=$((s + ${C[$d.$k]:-0}))
		done
	done
	echo "$s"
}
# The sums of a snapshot, for devices DEV...: accounted (delivered plus
# every drop counter of the devices, and the socket counters once: the
# first device's view of its endpoint), lost, the devices' drops, their
# rx_dropped.
# shellcheck disable=SC2086 # the counter lists: one word a counter
sums() {
	accounted=$(($(sum "$@" -- rx_packets $DEV_DROPS) + $(sum "$1" -- $SOCK_DROPS)))
	lost=$(sum - -- $LOST)
	drops=$(sum "$@" -- $DEV_DROPS)
	dropped=$(sum "$@" -- rx_dropped)
}

# fuzz FAMILY ADDR DEV...: sends N datagrams to ADDR and checks the sums.
fuzz() {
	local fam=$1 addr=$2 out start ms before lost0 drops0 dropped0 rc sent k v rest
	shift 2
	snapshot "$@"
	sums "$@"
	before=$accounted lost0=$lost drops0=$drops dropped0=$dropped
	start=$EPOCHREALTIME
	out=$(ip netns exec fa "$FUZZ" "$SEED" "$N" "$addr" 4789 100,101,102,200 "$own")
	rc=$?
	ms=$(elapsed_ms "$start")
	comment_lines "$out"
	while read -r k v rest; do
		[ "$k" = sent ] && sent=$v
	done <<<"$out"
	ktap_diag "IPv$fam: $sent datagrams in $ms ms"
	ktap_check "IPv$fam: $N mutated datagrams sent" test "$rc.${sent:-0}" = "0.$N"
	sleep 1
	snapshot "$@"
	sums "$@"
	ktap_diag "IPv$fam: delivered or dropped with a reason: $((accounted - before)); lost below the socket: $((lost - lost0))"
	ktap_expect "IPv$fam: every datagram delivered or counted under one drop reason (sums match)" \
		"$N 0" "$((accounted - before)) $((lost - lost0))"
	# rx_dropped also counts delivered frames the stack then drops (an
	# EtherType nobody handles): at least the device's own drops.
	local dd=$((drops - drops0)) rd=$((dropped - dropped0))
	ktap_diag "IPv$fam: device drops $dd, rx_dropped $rd"
	ktap_check "IPv$fam: every device drop is in rx_dropped too" eval "[ $dd -gt 0 ] && [ $rd -ge $dd ]"
}

fuzz 4 10.8.0.2 f4a f4b f4c
fuzz 6 fd00:8::2 f6a f6b
ktap_check "the tunnel still works: ping across after the fuzzing" pings fa 192.168.80.2

# A remote floods 100,000 source MACs at a limit of 65,536, twice (what
# was refused while the table grew is learned the second time): the
# table grows far beyond what softirq may allocate, in process context;
# exactly the limit is learned, the rest counted; traffic keeps flowing.
# A device of its own (VNI 300), so that nothing was learned before.
rvx fb add fm0 vni 300 remote 10.8.0.1 limit "$LIMIT"
ip netns exec fb sysctl -qw net.ipv6.conf.fm0.disable_ipv6=1
ip -n fb link set fm0 up
ip netns exec fa ping -q -i 0.2 -w 30 192.168.80.2 >/tmp/rvx-fuzz-ping 2>&1 &
ping_pid=$!
start=$EPOCHREALTIME
ok=1
for _ in 1 2; do
	ip netns exec fa "$FUZZ" macs "$MACS" 10.8.0.2 4789 300 >/dev/null || ok=0
	sleep 1
done
ktap_diag "$((2 * MACS)) frames from $MACS MACs in $(elapsed_ms "$start") ms"
snapshot fm0
learned=${C[fm0.learned_new]:-} full=${C[fm0.learn_full]:-0}
ktap_diag "learned $learned, refused (learn_full) $full"
ktap_expect "$MACS source MACs at limit $LIMIT: exactly the limit learned" "1 $LIMIT" "$ok $learned"
ktap_check "... the rest refused and counted learn_full" test "$full" -ge $((MACS - LIMIT))
# SIGINT: ping prints its summary on SIGINT, not on SIGTERM (with -q that
# summary is all it prints, and without it the check below has nothing).
kill -INT $ping_pid 2>/dev/null
wait $ping_pid 2>/dev/null
summary=$(</tmp/rvx-fuzz-ping)
re='([0-9]+) packets transmitted, ([0-9]+) received'
tx=0 rx=0
[[ $summary =~ $re ]] && tx=${BASH_REMATCH[1]} rx=${BASH_REMATCH[2]}
ktap_diag "meanwhile: $tx pings sent, $rx answered"
ktap_check "... and traffic kept flowing meanwhile (at least half the pings answered)" \
	test "$tx" -gt 0 -a $((2 * rx)) -ge "$tx"
ktap_check "no warning, bug or oops in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -E 'WARNING:|BUG:|Oops|general protection|UBSAN|refcount_t'"
ktap_finish
