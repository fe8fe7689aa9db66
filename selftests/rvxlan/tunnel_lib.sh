# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared set-up of the rvxlan tunnel selftests (virtme-ng, bash): network
# namespaces joined by veth underlays, the rvxlan CLI, counters.
. "$(dirname "$0")/../lib/env.sh"

: "${RVISOR_TOOLS:?set by the selftest runner: directory holding the rvxlan CLI}"
RVXLAN=$RVISOR_TOOLS/rvxlan
# iproute2's link plugin for the kind rvxlan (tools/iproute2/link_rvxlan.c,
# built into build/lib/ip beside build/bin): `ip link ... type rvxlan`
# then takes the vxlan syntax. ip looks for link_<kind>.so in IP_LIB_DIR.
export IP_LIB_DIR=${RVISOR_IPLIB:-$RVISOR_TOOLS/../lib/ip}
RVX_NAMESPACES=""

# rvx NS ARGS...: the rvxlan CLI in namespace NS.
rvx() {
	local ns=$1
	shift
	"$RVXLAN" -n "$ns" "$@"
}

# counter NS DEV NAME: one of the device's `ethtool -S` counters.
counter() {
	local out k v
	out=$(ip netns exec "$1" ethtool -S "$2") || return 1
	while read -r k v; do
		[ "$k" = "$3:" ] && echo "$v"
	done <<<"$out"
	return 0
}

# Text tests in bash itself: on the debug kernel under TCG every exec
# (grep, tr, sh) costs one to four seconds.
# has_line TEXT LINE: one of TEXT's lines is LINE.
has_line() {
	[[ $'\n'$1$'\n' == *$'\n'"$2"$'\n'* ]]
}
# has_line_start TEXT PREFIX: one of TEXT's lines starts with PREFIX.
has_line_start() {
	[[ $'\n'$1 == *$'\n'"$2"* ]]
}
# has_word TEXT WORD: TEXT has WORD between non-word characters (grep -w).
has_word() {
	[[ $1 =~ (^|[^[:alnum:]_])$2([^[:alnum:]_]|$) ]]
}
# check_refused DESCRIPTION EXPECTED_MESSAGE STATUS OUTPUT: a command that
# exited STATUS printing OUTPUT failed and said EXPECTED_MESSAGE.
check_refused() {
	if [ "$3" -ne 0 ] && [[ $4 == *"$2"* ]]; then
		ktap_pass "$1: refused with the reason"
	else
		ktap_fail "$1: refused with the reason" "exit status $3; the reason should say: $2"
	fi
}
# comment_lines TEXT: prints TEXT's lines that start with '#'.
comment_lines() {
	local l
	while IFS= read -r l; do
		[[ $l == '#'* ]] && printf '%s\n' "$l"
	done <<<"$1"
	return 0
}
# elapsed_ms START: milliseconds since START, an $EPOCHREALTIME.
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}
# line_count TEXT: the number of TEXT's non-empty lines (grep -c .).
line_count() {
	local l n=0
	while IFS= read -r l; do
		[ -n "$l" ] && n=$((n + 1))
	done <<<"$1"
	echo "$n"
}

# udp_socks NS [PORT]: how many UDP sockets (IPv4 and IPv6) NS has, or
# how many are bound to PORT. From /proc/net/udp{,6}, not ss: ss first
# asks for the sock_diag module, which these kernels do not have, and
# each call waits for modprobe (1.3 s per ss on the test kernel).
udp_socks() {
	local out n=0 hex="" sl addr rest
	[ -n "${2:-}" ] && printf -v hex '%04X' "$2"
	out=$(nsenter --net="/run/netns/$1" cat /proc/net/udp /proc/net/udp6) || return 1
	while read -r sl addr rest; do
		# Skip the header lines ("sl local_address ...").
		[[ $sl == *: ]] || continue
		[ -z "$hex" ] || [ "${addr##*:}" = "$hex" ] || continue
		n=$((n + 1))
	done <<<"$out"
	echo "$n"
}
# tcp_listening NS PORT: a TCP socket listens on PORT in NS.
tcp_listening() {
	local out hex sl addr st rest
	printf -v hex '%04X' "$2"
	out=$(nsenter --net="/run/netns/$1" cat /proc/net/tcp /proc/net/tcp6) || return 1
	while read -r sl addr _ st rest; do
		# State 0A is TCP_LISTEN.
		[[ $sl == *: && ${addr##*:} == "$hex" && $st == 0A ]] && return 0
	done <<<"$out"
	return 1
}

# devstat NS DEV NAME: a standard link statistic (rx_packets ...).
devstat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# netns NAME...: fresh namespaces, deleted by cleanup.
netns() {
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		RVX_NAMESPACES="$RVX_NAMESPACES $ns"
	done
}

# underlay NS_A ADDR_A NS_B ADDR_B PREFIX [DEV_A DEV_B]: a veth pair between
# two namespaces, addressed (IPv4 or IPv6, no DAD wait) and up.
underlay() {
	local a=$1 aa=$2 b=$3 ba=$4 p=$5 da=${6:-ul0} db=${7:-ul0}
	ip link add "$da" netns "$a" type veth peer "$db" netns "$b" || return 1
	ip -n "$a" addr add "$aa/$p" dev "$da" nodad 2>/dev/null || ip -n "$a" addr add "$aa/$p" dev "$da"
	ip -n "$b" addr add "$ba/$p" dev "$db" nodad 2>/dev/null || ip -n "$b" addr add "$ba/$p" dev "$db"
	ip -n "$a" link set "$da" up && ip -n "$b" link set "$db" up
}

# overlay NS DEV ADDR/PREFIX: gives a tunnel device its inner address, up.
overlay() {
	ip -n "$1" addr add "$3" dev "$2" nodad 2>/dev/null || ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
}

# tcp_run NS_SERVER NS_CLIENT ADDR SECONDS [ARGS]: one iperf3 TCP run;
# sets MBIT (the receiver's Mbit/s, 0 when the run did not happen) and
# IPERF_OUT (the client's output, for tcp_check's diagnosis).
tcp_run() {
	local s=$1 c=$2 addr=$3 t=$4 spid i
	shift 4
	# Bounded: a stalled control connection would otherwise hang the
	# test (seen once under load).
	ip netns exec "$s" timeout 40 iperf3 -s -1 >/dev/null 2>&1 &
	spid=$!
	# Connect once the server listens, not after a fixed sleep: a client
	# refused because a loaded TCG machine was slow to start the server
	# looks exactly like a tunnel that carries nothing.
	for i in $(seq 100); do
		tcp_listening "$s" 5201 && break
		sleep 0.1
	done
	IPERF_OUT=$(ip netns exec "$c" timeout 30 iperf3 -c "$addr" -t "$t" "$@" 2>&1)
	MBIT=$(printf '%s\n' "$IPERF_OUT" |
		awk '/receiver$/ { v = $7; u = $8 } END { if (u == "Gbits/sec") v *= 1000; if (u == "Kbits/sec") v /= 1000; print v + 0 }')
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	return 0
}

# tcp_check DESCRIPTION: passes when the last tcp_run moved more than
# 1 Mbit/s; a failure shows what the client printed.
tcp_check() {
	if awk -v v="$MBIT" 'BEGIN { exit !(v > 1) }'; then
		ktap_pass "$1"
	else
		printf '%s\n' "$IPERF_OUT" | sed 's/^/# iperf3: /'
		ktap_fail "$1" "TCP moved $MBIT Mbit/s"
	fi
}

# pings NS ADDR [COUNT]: succeeds when every one of COUNT pings is answered.
pings() {
	ip netns exec "$1" ping -q -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null 2>&1
}

# capture NS DEV FILE SECONDS: dumpcap (tshark's capture engine, without
# the dissectors tshark loads first: 1.6 s to start on TCG instead of 19)
# on DEV in the background for SECONDS, returning once it really captures
# (it says so on stderr); CAPTURE_PID is set. Fails if it did not start
# within 30 s.
capture() {
	rm -f "$3" "$3.log"
	ip netns exec "$1" dumpcap -q -i "$2" -w "$3" -a "duration:$4" >/dev/null 2>"$3.log" &
	# shellcheck disable=SC2034 # for the caller
	CAPTURE_PID=$!
	for _ in $(seq 300); do
		grep -q "Capturing on" "$3.log" 2>/dev/null && { sleep 0.3; return 0; }
		sleep 0.1
	done
	ktap_diag "tshark did not start: $(cat "$3.log")"
	return 1
}

# tenant_ns PROGRAM...: a tenant: `sleep` holds a new user namespace and
# the network namespace it owns, uid and gid 0 there being 100000 on the
# host; TENANT is its pid (killed by cleanup). tn runs a command as the
# tenant's root (every capability in its user namespace, none outside),
# host_tn as the host's root in the tenant's network namespace. The
# PROGRAMs are copied to /tmp/rvx-tenant, readable by the tenant (the
# tree may not be).
tenant_ns() {
	unshare --user --net sleep 900 &
	TENANT=$!
	for _ in $(seq 100); do
		[ "$(readlink /proc/$TENANT/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	echo "0 100000 1" >/proc/$TENANT/uid_map &&
		echo "0 100000 1" >/proc/$TENANT/gid_map &&
		mkdir -p /tmp/rvx-tenant && cp "$@" /tmp/rvx-tenant/ && chmod -R a+rx /tmp/rvx-tenant
}
tn() { nsenter -t "$TENANT" -U -n -- "$@"; }
host_tn() { nsenter -t "$TENANT" -n -- "$@"; }

fresh_module() {
	unload_quietly rvxlan
	insmod "$RVISOR_MODULES/rvxlan.ko"
}

cleanup() {
	local ns
	[ -n "${TENANT:-}" ] && kill "$TENANT" 2>/dev/null
	for ns in $RVX_NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	RVX_NAMESPACES=""
}
trap cleanup EXIT
