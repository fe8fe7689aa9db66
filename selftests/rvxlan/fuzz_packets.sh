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
# accounted DEV...: delivered plus every drop counter of DEVs, and the
# socket counters once (the first device's view of its endpoint).
accounted() {
	local first=$1 d
	{
		for d in "$@"; do
			devstat fb "$d" rx_packets
			ip netns exec fb ethtool -S "$d" | awk -v l="$DEV_DROPS" \
				'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i] ":"] = 1 } $1 in w { print $2 }'
		done
		ip netns exec fb ethtool -S "$first" | awk -v l="$SOCK_DROPS" \
			'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i] ":"] = 1 } $1 in w { print $2 }'
	} | awk '{ s += $1 } END { print s + 0 }'
}
# dev_drops DEV...: the devices' drop counters, and their rx_dropped.
dev_drops() {
	local d
	for d in "$@"; do
		ip netns exec fb ethtool -S "$d" | awk -v l="$DEV_DROPS" \
			'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i] ":"] = 1 } $1 in w { print $2 }'
	done | awk '{ s += $1 } END { print s + 0 }'
}
rx_dropped() {
	local d
	for d in "$@"; do devstat fb "$d" rx_dropped; done | awk '{ s += $1 } END { print s + 0 }'
}
# lost: datagrams the layers below the tunnel socket dropped (UDP errors,
# failed reassemblies), in fb.
lost() {
	ip netns exec fb nstat -az 2>/dev/null | awk '$1 ~ /^(UdpInErrors|UdpRcvbufErrors|UdpInCsumErrors|Udp6InErrors|Udp6RcvbufErrors|Udp6InCsumErrors|IpReasmFails|Ip6ReasmFails)$/ { s += $2 } END { print s + 0 }'
}

# fuzz FAMILY ADDR DEV...: sends N datagrams to ADDR and checks the sums.
fuzz() {
	local fam=$1 addr=$2 out start ms before after lost0 drops0 dropped0
	shift 2
	before=$(accounted "$@")
	lost0=$(lost)
	drops0=$(dev_drops "$@")
	dropped0=$(rx_dropped "$@")
	start=$(date +%s%N)
	out=$(ip netns exec fa "$FUZZ" "$SEED" "$N" "$addr" 4789 100,101,102,200 "$own")
	local rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "$out" | grep '^#'
	local sent
	sent=$(echo "$out" | awk '$1 == "sent" { print $2 }')
	ktap_diag "IPv$fam: $sent datagrams in $ms ms"
	ktap_check "IPv$fam: $N mutated datagrams sent" sh -c "[ $rc -eq 0 ] && [ '${sent:-0}' = $N ]"
	sleep 1
	after=$(accounted "$@")
	ktap_diag "IPv$fam: delivered or dropped with a reason: $((after - before)); lost below the socket: $(($(lost) - lost0))"
	ktap_expect "IPv$fam: every datagram delivered or counted under one drop reason (sums match)" \
		"$N 0" "$((after - before)) $(($(lost) - lost0))"
	# rx_dropped also counts delivered frames the stack then drops (an
	# EtherType nobody handles): at least the device's own drops.
	local dd=$(($(dev_drops "$@") - drops0)) rd=$(($(rx_dropped "$@") - dropped0))
	ktap_diag "IPv$fam: device drops $dd, rx_dropped $rd"
	ktap_check "IPv$fam: every device drop is in rx_dropped too" sh -c "[ $dd -gt 0 ] && [ $rd -ge $dd ]"
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
start=$(date +%s%N)
ok=1
for _ in 1 2; do
	ip netns exec fa "$FUZZ" macs "$MACS" 10.8.0.2 4789 300 >/dev/null || ok=0
	sleep 1
done
ktap_diag "$((2 * MACS)) frames from $MACS MACs in $((($(date +%s%N) - start) / 1000000)) ms"
learned=$(counter fb fm0 learned_new)
full=$(counter fb fm0 learn_full)
ktap_diag "learned $learned, refused (learn_full) $full"
ktap_expect "$MACS source MACs at limit $LIMIT: exactly the limit learned" "1 $LIMIT" "$ok $learned"
ktap_check "... the rest refused and counted learn_full" sh -c "[ $full -ge $((MACS - LIMIT)) ]"
kill $ping_pid 2>/dev/null
wait $ping_pid 2>/dev/null
ktap_diag "meanwhile: $(grep -o '[0-9]* packets transmitted.*loss' /tmp/rvx-fuzz-ping)"
ktap_check "... and traffic kept flowing meanwhile (at least half the pings answered)" sh -c \
	"awk '/packets transmitted/ { exit !(\$1 > 0 && \$4 * 2 >= \$1) }' /tmp/rvx-fuzz-ping"
ktap_check "no warning, bug or oops in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -E 'WARNING:|BUG:|Oops|general protection|UBSAN|refcount_t'"
ktap_finish
