#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Devices deleted and the module unloaded while traffic flows; 1,000
# devices sharing one socket created, used and deleted; nothing left
# behind (sockets, devices) and nothing in the kernel log.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 13
N=1000

# pair: rvxlan devices in la and lb (VNI 9), addressed and up.
pair() {
	rvx la add rx0 vni 9 remote 10.7.0.2 && rvx lb add rx0 vni 9 remote 10.7.0.1 &&
		overlay la rx0 192.168.70.1/24 && overlay lb rx0 192.168.70.2/24
}
# flood SECONDS: ping flood and TCP through the pair, in the background;
# both end by themselves even when the tunnel goes away under them.
flood() {
	ip netns exec la timeout $(($1 + 2)) ping -q -f -w "$1" 192.168.70.2 >/dev/null 2>&1 &
	FLOOD=$!
	ip netns exec la timeout $(($1 + 2)) iperf3 -c 192.168.70.2 -t "$1" >/dev/null 2>&1 &
	IPERF=$!
}
sockets() {
	ip netns exec "$1" ss -uln | grep -c ':4789 '
}

fresh_module || exit 1
dmesg_mark
netns la lb
underlay la 10.7.0.1 lb 10.7.0.2 24
pair
ip netns exec lb iperf3 -s -D >/dev/null 2>&1
sleep 1
flood 6
sleep 2
ktap_check "delete the receiving device while traffic flows" ip -n lb link del rx0
sleep 1
ktap_check "delete the sending device while traffic flows" ip -n la link del rx0
wait $FLOOD $IPERF 2>/dev/null
ktap_expect "no tunnel socket left on either side" "0 0" "$(sockets la) $(sockets lb)"

pair
flood 8
sleep 3
ktap_check "rmmod while traffic flows" rmmod rvxlan
wait $FLOOD $IPERF 2>/dev/null
ktap_check "the devices went with the module" sh -c "! ip -n la link show rx0 2>/dev/null && ! ip -n lb link show rx0 2>/dev/null"
ktap_expect "no tunnel socket left" "0 0" "$(sockets la) $(sockets lb)"
pkill -f "iperf3 -s" 2>/dev/null

insmod "$RVISOR_MODULES/rvxlan.ko"
start=$(date +%s%N)
seq $N | sed 's/.*/add rv& vni & remote 10.7.0.2/' >/tmp/rvx-many
ip netns exec la "$RVXLAN" -batch /tmp/rvx-many
sed 's/^add \(rv[0-9]*\).*/link set \1 up/' /tmp/rvx-many | ip -n la -batch -
ms=$((($(date +%s%N) - start) / 1000000))
ktap_diag "$N devices created, configured and up in $ms ms"
ktap_expect "$N devices with VNIs 1..$N created and up" $N "$(ip -n la -o link show up | grep -c ': rv[0-9]*:')"
ktap_expect "all $N share one tunnel socket" 1 "$(sockets la)"
rvx lb add rx777 vni 777 remote 10.7.0.1
overlay la rv777 192.168.77.1/24
overlay lb rx777 192.168.77.2/24
ktap_check "VNI 777 among $N answers ping" pings la 192.168.77.2 2
ktap_expect "... and of the $N devices only rv777 received anything" rv777 \
	"$(ip netns exec la sh -c 'for d in /sys/class/net/rv*; do [ $(cat $d/statistics/rx_packets) -gt 0 ] && basename $d; done')"
start=$(date +%s%N)
sed 's/^add \(rv[0-9]*\).*/link del \1/' /tmp/rvx-many | ip -n la -batch -
ktap_diag "$N devices deleted in $((($(date +%s%N) - start) / 1000000)) ms"
ktap_expect "all $N deleted, their socket closed" "0 0" "$(ip -n la -o link show | grep -c ': rv[0-9]*:') $(sockets la)"
ktap_check "rmmod afterwards" rmmod rvxlan
ktap_check "no warning, bug or leak report in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -Ei 'warning|bug|oops|leak|refcount'"
ktap_finish
