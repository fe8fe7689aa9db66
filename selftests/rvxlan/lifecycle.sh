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
	udp_socks "$1" 4789
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
"$RVXLAN" -n la -batch /tmp/rvx-many
sed 's/^add \(rv[0-9]*\).*/link set \1 up/' /tmp/rvx-many | ip -n la -batch -
ms=$((($(date +%s%N) - start) / 1000000))
ktap_diag "$N devices created, configured and up in $ms ms"
ktap_expect "$N devices with VNIs 1..$N created and up" $N "$(ip -n la -o link show up | grep -c ': rv[0-9]*:')"
ktap_expect "all $N share one tunnel socket" 1 "$(sockets la)"
rvx lb add rx777 vni 777 remote 10.7.0.1
overlay la rv777 192.168.77.1/24
overlay lb rx777 192.168.77.2/24
ktap_check "VNI 777 among $N answers ping" pings la 192.168.77.2 2
# One `ip -j -s` for all 1000 counters: a shell loop over sysfs forks
# 2000 times, a minute on TCG.
ktap_expect "... and of the $N devices only rv777 received anything" rv777 \
	"$(ip -n la -j -s link show | jq -r '.[] | select((.ifname | test("^rv[0-9]+$")) and .stats64.rx.packets > 0) | .ifname')"
# 100 deleted one by one (one RTM_DELLINK each, as `ip -batch` sends them),
# the rest in one request for their group, which the core unregisters as
# one batch (rtnl_group_dellink -> unregister_netdevice_many). One by one
# costs what Linux vxlan's does (about 45 ms each on TCG, the core's RCU
# waits): 100 show that path without a 40 s wait.
head -n 100 /tmp/rvx-many | sed 's/^add \(rv[0-9]*\).*/link del \1/' >/tmp/rvx-del
tail -n +101 /tmp/rvx-many | sed 's/^add \(rv[0-9]*\).*/link set \1 group 7/' >/tmp/rvx-group
ip -n la -batch /tmp/rvx-group
start=$(date +%s%N)
ip -n la -batch /tmp/rvx-del
ms=$((($(date +%s%N) - start) / 1000000))
start=$(date +%s%N)
ip -n la link del group 7
ktap_diag "100 devices deleted one by one in $ms ms, $((N - 100)) as one group in $((($(date +%s%N) - start) / 1000000)) ms"
ktap_expect "all $N deleted, their socket closed" "0 0" "$(ip -n la -o link show | grep -c ': rv[0-9]*:') $(sockets la)"
ktap_check "rmmod afterwards" rmmod rvxlan
ktap_check "no warning, bug or leak report in the kernel log" sh -c \
	"! dmesg | tail -n +$((DMESG_MARK + 1)) | grep -Ei 'warning|bug|oops|leak|refcount'"
ktap_finish
