#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rvxlan against Linux's own vxlan on the wire, over IPv4 and IPv6
# underlays: ping and TCP (iperf3) in both directions, and the captured
# packets decoded by tshark as VXLAN with the right VNI, flags, ports and
# UDP checksum; then rvxlan against rvxlan.
. "$(dirname "$0")/tunnel_lib.sh"

ktap_plan 23

fresh_module || exit 1
for fam in 4 6; do
	if [ $fam = 4 ]; then
		A=10.0.0.1 B=10.0.0.2 P=24 ia=192.168.4.1 ib=192.168.4.2
	else
		A=fd00::1 B=fd00::2 P=64 ia=192.168.6.1 ib=192.168.6.2
	fi
	netns ia$fam ib$fam
	underlay ia$fam $A ib$fam $B $P
	ktap_check "IPv$fam: rvxlan created with VNI 100 and a remote" \
		rvx ia$fam add rx0 vni 100 local $A remote $B
	ip -n ib$fam link add vx0 type vxlan id 100 local $B remote $A dstport 4789
	overlay ia$fam rx0 $ia/24
	overlay ib$fam vx0 $ib/24
	ktap_check "IPv$fam: ping rvxlan -> Linux vxlan" pings ia$fam $ib
	ktap_check "IPv$fam: ping Linux vxlan -> rvxlan" pings ib$fam $ia
	tcp_run ib$fam ia$fam $ib 2
	ktap_diag "IPv$fam: TCP rvxlan -> vxlan $MBIT Mbit/s"
	tcp_check "IPv$fam: TCP (iperf3) rvxlan -> Linux vxlan"
	tcp_run ib$fam ia$fam $ib 2 -R
	ktap_diag "IPv$fam: TCP vxlan -> rvxlan $MBIT Mbit/s"
	tcp_check "IPv$fam: TCP (iperf3) Linux vxlan -> rvxlan"

	pcap=/tmp/rvx-interop$fam.pcap
	# Checksums in software, so that the capture holds final ones (veth
	# would otherwise pass partial checksums across).
	ip netns exec ia$fam ethtool -K ul0 tx off >/dev/null
	capture ib$fam ul0 $pcap 5
	pings ia$fam $ib 5
	# ECN-capable (ECT(0)) inner packets, for the outer ECN field.
	ip netns exec ia$fam ping -q -c 2 -i 0.2 -W 2 -Q 2 $ib >/dev/null 2>&1
	wait $CAPTURE_PID
	src="ip.src == $A" ecn=ip.dsfield.ecn
	[ $fam = 6 ] && src="ipv6.src == $A" ecn=ipv6.tclass.ecn
	fields=$(tshark -r $pcap -o udp.check_checksum:TRUE -Y "vxlan && $src" -T fields -E separator=, \
		-e vxlan.flags -e vxlan.vni -e vxlan.reserved_16 -e vxlan.reserved8 -e udp.srcport -e udp.dstport \
		-e udp.checksum -e udp.checksum.status -e udp.payload -e $ecn 2>/dev/null |
		awk -F, -v OFS=, '{ gsub(/:/, "", $9); $9 = substr($9, 1, 16); print }' | sort -u)
	ktap_diag "IPv$fam: decoded (flags vni reserved16 reserved8 sport dport csum csum-status header-bytes ecn):"
	echo "$fields" | head -n 3 | sed 's/^/# /'
	ip netns exec ia$fam ethtool -K ul0 tx on >/dev/null
	n=$(echo "$fields" | grep -c .)
	ktap_check "IPv$fam: tshark decodes rvxlan's packets as VXLAN, VNI 100, only the I flag, reserved zero" \
		sh -c "[ $n -gt 0 ] && echo \"\$1\" | awk -F, '\$1 != \"0x0800\" || \$2 != 100 || (\$3 != \"\" && \$3 != 0) || \$4 != 0 || \$9 != \"0800000000006400\" { bad = 1 } END { exit bad }'" _ "$fields"
	ktap_check "IPv$fam: UDP destination 4789, source port in 32768..60999" \
		sh -c "echo \"\$1\" | awk -F, '\$6 != 4789 || \$5 < 32768 || \$5 >= 61000 { bad = 1 } END { exit bad }'" _ "$fields"
	if [ $fam = 4 ]; then
		ktap_check "IPv4: UDP checksum zero (allowed for IPv4, as Linux vxlan)" \
			sh -c "echo \"\$1\" | awk -F, '\$7 != \"0x0000\" { bad = 1 } END { exit bad }'" _ "$fields"
	else
		ktap_check "IPv6: UDP checksum present and verified good by tshark" \
			sh -c "echo \"\$1\" | awk -F, '\$7 == \"0x0000\" || \$8 != 1 { bad = 1 } END { exit bad }'" _ "$fields"
	fi
	ktap_expect "IPv$fam: outer ECN follows the inner (RFC 6040): ECT(0) inside gives ECT(0) outside, Not-ECT gives Not-ECT" \
		"0 2" "$(echo "$fields" | awk -F, '{ print $10 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"
	drops=$(($(counter ia$fam rx0 tx_no_route) + $(counter ia$fam rx0 tx_no_buffer) + $(counter ia$fam rx0 rx_inner_too_short)))
	ktap_expect "IPv$fam: no transmit or receive errors counted" 0 "$drops"
done

# rvxlan <-> rvxlan, IPv4 underlay.
netns ra rb
underlay ra 10.1.0.1 rb 10.1.0.2 24
rvx ra add rx0 vni 4242 remote 10.1.0.2 && rvx rb add rx0 vni 4242 remote 10.1.0.1
overlay ra rx0 192.168.42.1/24
overlay rb rx0 192.168.42.2/24
ktap_check "rvxlan <-> rvxlan: ping" pings ra 192.168.42.2
tcp_run rb ra 192.168.42.2 2
ktap_diag "rvxlan -> rvxlan TCP $MBIT Mbit/s"
tcp_check "rvxlan <-> rvxlan: TCP (iperf3)"
ktap_expect "rvxlan <-> rvxlan: the receiver learned the sender's MAC" 1 "$(counter rb rx0 learned_new)"
ktap_finish
