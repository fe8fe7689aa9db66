#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A tenant attacks its rvxlan device from inside its namespace: a network
# namespace owned by a user namespace of its own, whose root (an
# unprivileged uid on the host) holds CAP_NET_ADMIN there but not over the
# underlay. It may use the device (up, down, addresses, ping); it may not
# change its tunnel at all (VNI, port, source ports, remotes, local
# address, learning, outer header: as Linux vxlan_changelink), add FDB
# destinations or flood-list remotes, probe which VNIs exist, create
# devices on the host's underlay, or see the shared socket's counters.
# The host's root may re-point the device; nobody changes its VNI or port.
# Then two findings of the attacker review: the configuration sequence
# that oopsed the host (an IPv6 FDB destination left after the remotes
# were cleared, sent through an IPv4 socket), and a device given its VNI
# while up, which stayed dead.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 33

fresh_module || exit 1
dmesg_mark
netns h1 h2
underlay h1 10.9.0.1 h2 10.9.0.2 24

# The tenant, with its own copy of the CLI.
tenant_ns "$RVXLAN" || exit 1
TRVXLAN=/tmp/rvx-tenant/rvxlan

# refused_by WHO DESCRIPTION EXPECTED_MESSAGE COMMAND...: COMMAND, run by
# WHO (tn, host_tn or rvx), fails and says why.
refused_by() {
	local who=$1 desc=$2 want=$3 out rc
	shift 3
	out=$("$who" "$@" 2>&1)
	rc=$?
	ktap_diag "$desc: $out"
	check_refused "$desc" "$want" "$rc" "$out"
}
# tsocks PORT: UDP sockets bound to PORT in the underlay h1.
tsocks() {
	udp_socks h1 "$1"
}
# tconfig: the tenant device's tunnel configuration and static FDB
# entries, as the host sees them (no counters: they move with traffic).
tconfig() {
	local l
	while IFS= read -r l; do
		if [[ $l =~ ^\ \ (vni|local|port|srcport|ttl|tos|df|learning|ageing|limit|remote)\  || $l == *" static" ]]; then
			printf '%s\n' "$l"
		fi
	done < <(printf 'show tA\nfdb show tA\n' | host_tn "$RVXLAN" -batch -)
}
NOCAP="needs CAP_NET_ADMIN in the underlay namespace"

rvx h1 add tA vni 100 remote 10.9.0.2
rvx h2 add tA vni 100 remote 10.9.0.1
rvx h1 add tB remote 10.9.0.2
rvx h1 fdb add tA 02:00:00:00:00:77 via 10.9.0.2
overlay h2 tA 192.168.90.2/24
ip -n h1 link set tA netns "$TENANT"
ip -n h1 link set tB netns "$TENANT"
# The attacker is real: in a user namespace other than ours, an
# unprivileged uid on the host, seeing its device, yet unable to move it
# back into the underlay.
echo secret >/tmp/rvx-tenant-secret && chmod 600 /tmp/rvx-tenant-secret
ktap_check "the tenant's root: own user namespace, cannot read root's files, holds its device, cannot move it to the underlay" \
	sh -c "[ \"\$(nsenter -t $TENANT -U -n -- readlink /proc/self/ns/user)\" != \"\$(readlink /proc/self/ns/user)\" ] && \
	       ! nsenter -t $TENANT -U -n -- cat /tmp/rvx-tenant-secret 2>/dev/null && \
	       nsenter -t $TENANT -U -n -- ip link show tA >/dev/null && \
	       ! nsenter -t $TENANT -U -n -- ip link set tA netns h1 2>/dev/null"
ktap_check "the tenant addresses its device, brings it up and reaches its other host" sh -c \
	"nsenter -t $TENANT -U -n -- ip addr add 192.168.90.1/24 dev tA && \
	 nsenter -t $TENANT -U -n -- ip link set tA up && \
	 nsenter -t $TENANT -U -n -- ping -q -c 3 -i 0.2 -W 2 192.168.90.2 >/dev/null"
before=$(tconfig)

refused_by tn "tenant: another VNI" "$NOCAP" "$TRVXLAN" set tA vni 200
refused_by tn "tenant: another remote" "$NOCAP" "$TRVXLAN" set tA remote 10.9.0.3
refused_by tn "tenant: no remote" "$NOCAP" "$TRVXLAN" set tA noremote
refused_by tn "tenant: a local address" "$NOCAP" "$TRVXLAN" set tA local 10.9.0.1
refused_by tn "tenant: learning on (learned remotes are chosen by whoever sends)" "$NOCAP" \
	"$TRVXLAN" set tA learning on
refused_by tn "tenant: TTL (the outer header is the underlay's)" "$NOCAP" "$TRVXLAN" set tA ttl 9
refused_by tn "tenant: a static FDB destination (rvxlan CLI)" "$NOCAP" \
	"$TRVXLAN" fdb add tA 02:00:00:00:00:99 via 10.9.0.3
refused_by tn "tenant: replacing the host's static entry" "$NOCAP" \
	"$TRVXLAN" fdb add tA 02:00:00:00:00:77 via 10.9.0.3 replace
refused_by tn "tenant: a flood-list remote (iproute2 bridge fdb append)" "$NOCAP" \
	bridge fdb append 00:00:00:00:00:00 dev tA dst 10.9.0.3
refused_by tn "tenant: deleting the flood-list remote (bridge fdb del)" "$NOCAP" \
	bridge fdb del 00:00:00:00:00:00 dev tA dst 10.9.0.2
refused_by tn "tenant: VNI 100, taken on that underlay, for its VNI-less device: EPERM, not EEXIST" "$NOCAP" \
	"$TRVXLAN" set tB vni 100
# The old attack: down, change, up.
tn ip link set tA down
refused_by tn "tenant, device down: another UDP port (an underlay socket on 8472)" "$NOCAP" \
	"$TRVXLAN" set tA port 8472
refused_by tn "tenant, device down: another VNI" "$NOCAP" "$TRVXLAN" set tA vni 200
tn ip link set tA up
ktap_check "tenant: a device on the underlay it sees as link-netns 0 (IFLA_LINK_NETNSID) is refused" sh -c \
	"! nsenter -t $TENANT -U -n -- ip link add evil link-netnsid 0 type rvxlan 2>/dev/null && \
	 ! nsenter -t $TENANT -U -n -- ip link show evil 2>/dev/null"
ktap_check "tenant: its own rvxlan device gets its own namespace as underlay, not the host's" sh -c \
	"nsenter -t $TENANT -U -n -- $TRVXLAN add own0 vni 100 remote 10.9.0.2 && \
	 ! nsenter -t $TENANT -U -n -- ip -d link show own0 | grep -q link-netns && \
	 nsenter -t $TENANT -U -n -- ip link del own0"
# Stray frames for VNI 555 (no device on host 1) reach host 1's socket;
# hv0 lives in the underlay and shares that socket with tA.
rvx h1 add hv0 vni 999 remote 10.9.0.2
rvx h2 add sv0 vni 555 remote 10.9.0.1
overlay h2 sv0 192.168.93.2/24
ip netns exec h2 ping -q -c 2 -W 1 192.168.93.1 >/dev/null 2>&1
stray=$(counter h1 hv0 sock_rx_unknown_vni)
ktap_diag "host 1's socket counted $stray frames of unknown VNIs"
ktap_check "the shared socket's counters (every tenant's stray frames): the underlay sees them, the tenant 0" sh -c \
	"[ ${stray:-0} -gt 0 ] && [ \$(nsenter -t $TENANT -U -n -- ethtool -S tA | awk '\$1 ~ /^sock_rx_/ { s += \$2 } END { print s + 0 }') -eq 0 ]"
# (A view without the VNI or the host's static entry would be no view:
# then this fails.)
after=$(tconfig)
has_line "$before" "  vni 100" && has_line "$before" "02:00:00:00:00:77 via 10.9.0.2 static" ||
	after="(the view before the attacks lacks the VNI or the static entry)"
ktap_expect "after the attacks: configuration and static FDB as before" "$before" "$after"
ktap_expect "after the attacks: the underlay has one tunnel socket, on 4789, none on 8472" "1 0" \
	"$(tsocks 4789) $(tsocks 8472)"
ktap_check "after the attacks: the tenant still reaches its other host" \
	tn ping -q -c 3 -i 0.2 -W 2 192.168.90.2

# The host's root, in the tenant's namespace: may re-point, may not
# change the VNI either.
ktap_check "host root: re-points the tenant's device (remotes, FDB destination)" sh -c \
	"nsenter -t $TENANT -n -- $RVXLAN set tA remote 10.9.0.2 remote 10.9.0.4 && \
	 nsenter -t $TENANT -n -- $RVXLAN fdb add tA 02:00:00:00:00:99 via 10.9.0.4 && \
	 nsenter -t $TENANT -n -- $RVXLAN show tA | grep -qx '  remote 10.9.0.4'"
refused_by host_tn "host root: another VNI" "Cannot change VNI" "$RVXLAN" set tA vni 200
refused_by host_tn "host root: another UDP port" "Cannot change port" "$RVXLAN" set tA port 8472
refused_by host_tn "host root: other source ports" "Cannot change port range" \
	"$RVXLAN" set tA srcport 1000 2000

# The oops: an IPv6 tunnel, a static entry via IPv6, the remotes cleared;
# the family used to follow the (now absent) addresses back to IPv4.
netns p1 p2
underlay p1 fd00:9::1 p2 fd00:9::2 64
rvx p1 add vx0 vni 10 remote fd00:9::2
rvx p2 add vx0 vni 10 remote fd00:9::1
ip -n p2 link set vx0 address 02:00:00:00:00:02
rvx p1 fdb add vx0 02:00:00:00:00:02 via fd00:9::2
rvx p1 set vx0 noremote
overlay p1 vx0 192.168.91.1/24
overlay p2 vx0 192.168.91.2/24
ip -n p1 neigh add 192.168.91.2 lladdr 02:00:00:00:00:02 dev vx0
ktap_check "IPv6 remote, FDB entry via IPv6, remotes cleared: the device stays IPv6 and pings through the entry" \
	pings p1 192.168.91.2
# As Linux vxlan's FDB: a bare EAFNOSUPPORT.
refused_by rvx "... then an IPv4 FDB destination" "Address family not supported" \
	p1 fdb add vx0 02:00:00:00:00:03 via 10.9.0.2
refused_by rvx "... then an IPv4 remote" "New group address family does not match old group" p1 set vx0 remote 10.9.0.2
ktap_expect "... nothing sent to a destination of the other family, nothing unroutable" "0 0" \
	"$(counter p1 vx0 tx_wrong_family) $(counter p1 vx0 tx_no_route)"

# A device up before it has a VNI sends nothing, and works once it has
# one: its socket (port 4790, no other device there) opens then, and
# closes when it goes down.
rvx h1 add vn0 remote 10.9.0.2 port 4790
rvx h2 add vn0 vni 300 remote 10.9.0.1 port 4790
overlay h1 vn0 192.168.92.1/24
overlay h2 vn0 192.168.92.2/24
ktap_check "a device up without a VNI has no socket and sends nothing (counted tx_no_destination)" eval \
	'[ "$(udp_socks h1 4790)" = 0 ] && ! ip netns exec h1 ping -q -c 1 -W 1 192.168.92.2 >/dev/null 2>&1 &&
	 [ "$(counter h1 vn0 tx_no_destination)" -gt 0 ]'
ktap_check "given VNI 300 while up, it opens its socket and reaches VNI 300 on the other host" eval \
	'rvx h1 set vn0 vni 300 && [ "$(udp_socks h1 4790)" = 1 ] &&
	 ip netns exec h1 ping -q -c 3 -i 0.2 -W 2 192.168.92.2 >/dev/null'
ktap_check "... and down, its socket closes" eval \
	'ip -n h1 link set vn0 down && [ "$(udp_socks h1 4790)" = 0 ]'

ktap_check "no warning, bug or oops in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -E 'WARNING:|BUG:|Oops|general protection|UBSAN|refcount_t'"
ktap_finish
