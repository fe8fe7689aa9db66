#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test of the link and FDB ABI: one list of iproute2 and
# bridge commands (create with every supported option, change, bad
# values, unsupported attributes; FDB add, append, replace, delete of
# unicast and all-zeros entries) runs against Linux vxlan (type vxlan)
# and against rvxlan, in the same boot:
#   - side by side with Linux vxlan: rvxlan as kind "rvxlan", configured
#     by iproute2's vxlan code through its link plugin
#     (tools/iproute2/link_rvxlan.c, found through IP_LIB_DIR);
#   - when Linux vxlan is a module: rvxlan loaded as kind "vxlan"
#     (kind=vxlan, after rmmod vxlan). With CONFIG_VXLAN=y the kind is
#     Linux's for good: that part is skipped, and says why.
# Exit status, error message, `ip -d -j link show` (without ifindex and
# MAC addresses, which legitimately differ, and with info_kind checked to
# be the kind asked for, then normalised) and `bridge -j fdb show dev
# vx0` must be the same, but for the differences Documentation/rvxlan.rst
# lists, each of which is checked as that difference. Positive controls
# prove the comparison sees a changed field (the TTL, the kind, an FDB
# destination).
. "$(dirname "$0")/tunnel_lib.sh"

# The commands, one per line: "STEP|COMMAND". After each, every device in
# SHOW is shown, and vx0's FDB (`bridge -j fdb show dev vx0`). Run with
# `sh -c` in namespace abi, with $KIND the link kind under test.
# shellcheck disable=SC2016
STEPS='create|ip link add vx0 type $KIND id 100 remote 10.9.0.2 local 10.9.0.1 dstport 4789 srcport 1000 2000 ttl 32 tos inherit df set ageing 60 nolearning
show|:
ttl|ip link set vx0 type $KIND ttl 9
learning-ageing0|ip link set vx0 type $KIND learning ageing 0
remote|ip link set vx0 type $KIND remote 10.9.0.3
noproxy-change|ip link set vx0 type $KIND noproxy
vni-change|ip link set vx0 type $KIND id 101
port-change|ip link set vx0 type $KIND dstport 4790
range-change|ip link set vx0 type $KIND srcport 1 2
limit-change|ip link set vx0 type $KIND maxaddress 10
family-change|ip link set vx0 type $KIND remote fd00::3
mtu-change|ip link set vx0 mtu 1400 type $KIND ttl 3
fdb-add|bridge fdb add 02:00:00:00:00:01 dev vx0 dst 10.9.0.7
fdb-append|bridge fdb append 02:00:00:00:00:01 dev vx0 dst 10.9.0.8
fdb-add-exists|bridge fdb add 02:00:00:00:00:01 dev vx0 dst 10.9.0.9
fdb-replace|bridge fdb replace 02:00:00:00:00:02 dev vx0 dst 10.9.0.9
fdb-replace-again|bridge fdb replace 02:00:00:00:00:02 dev vx0 dst 10.9.0.10
flood-append|bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.11
flood-append-again|bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.11
flood-add|bridge fdb add 00:00:00:00:00:00 dev vx0 dst 10.9.0.12
flood-replace|bridge fdb replace 00:00:00:00:00:00 dev vx0 dst 10.9.0.12
flood-del|bridge fdb del 00:00:00:00:00:00 dev vx0 dst 10.9.0.3
flood-del-missing|bridge fdb del 00:00:00:00:00:00 dev vx0 dst 10.9.0.13
fdb-del-other|bridge fdb del 02:00:00:00:00:01 dev vx0 dst 10.9.0.8
fdb-del|bridge fdb del 02:00:00:00:00:02 dev vx0
fdb-del-missing|bridge fdb del 02:00:00:00:00:03 dev vx0
fdb-family|bridge fdb add 02:00:00:00:00:05 dev vx0 dst fd00::5
fdb-nodst|bridge fdb add 02:00:00:00:00:09 dev vx0
fdb-mcast-mac|bridge fdb add 01:00:5e:00:00:01 dev vx0 dst 10.9.0.7; r=$?; bridge fdb del 01:00:5e:00:00:01 dev vx0 2>/dev/null; exit $r
fdb-port|bridge fdb add 02:00:00:00:00:06 dev vx0 dst 10.9.0.7 port 4790; r=$?; bridge fdb del 02:00:00:00:00:06 dev vx0 2>/dev/null; exit $r
fdb-vni|bridge fdb add 02:00:00:00:00:07 dev vx0 dst 10.9.0.7 vni 200; r=$?; bridge fdb del 02:00:00:00:00:07 dev vx0 2>/dev/null; exit $r
fdb-via|bridge fdb add 02:00:00:00:00:08 dev vx0 dst 10.9.0.7 via lo; r=$?; bridge fdb del 02:00:00:00:00:08 dev vx0 2>/dev/null; exit $r
same-vni|ip link add vx1 type $KIND id 100 dstport 4789
bad-range|ip link add vx1 type $KIND id 5 dstport 4789 srcport 2000 1000
bad-mac|ip link add vx1 address 01:00:5e:00:00:01 type $KIND id 5 dstport 4789
bad-id|ip link add vx1 type $KIND id 16777216 dstport 4789
group-nodev|ip link add vx1 type $KIND id 5 group 239.1.1.1
ipv6|ip link add vx6 type $KIND id 6 remote fd00::2 local fd00::1 dstport 4789 hoplimit 7
ipv6-default|ip -6 link add vx5 type $KIND id 9 dstport 4789
default-port|ip link add vx7 type $KIND id 7
defaults-off|ip link add vx8 type $KIND id 8 dstport 4789 noproxy norsc nol2miss nol3miss noexternal noudp6zerocsumtx noudp6zerocsumrx noremcsumtx noremcsumrx noudpcsum
mc-local|ip link add vx9 type $KIND id 10 dstport 4789 local 10.9.0.1 remote 10.9.0.5 ttl auto
proxy|ip link add vx2 type $KIND id 20 dstport 4789 proxy
rsc|ip link add vx2 type $KIND id 20 dstport 4789 rsc
l2miss|ip link add vx2 type $KIND id 20 dstport 4789 l2miss
l3miss|ip link add vx2 type $KIND id 20 dstport 4789 l3miss
external|ip link add vx2 type $KIND dstport 4789 external
gbp|ip link add vx2 type $KIND id 20 dstport 4789 gbp
ttl-inherit|ip link add vx2 type $KIND id 20 dstport 4789 ttl inherit
flowlabel|ip link add vx2 type $KIND id 20 remote fd00::2 dstport 4789 flowlabel 5
udp6zerocsumtx|ip link add vx2 type $KIND id 20 remote fd00::2 dstport 4789 udp6zerocsumtx
remcsumtx|ip link add vx2 type $KIND id 20 dstport 4789 remcsumtx
udpcsum|ip link add vx2 type $KIND id 20 dstport 4789 udpcsum
dev|ip link add vx2 type $KIND id 20 dstport 4789 dev lo'
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
# FDB entries rvxlan does not take (a multicast MAC, a per-entry port,
# VNI or device): refused (bridge exits 255) where Linux adds them. The
# step deletes what it added, so that the next steps compare the rest.
for s in fdb-mcast-mac fdb-port fdb-vni fdb-via; do
	DIFFS="$DIFFS
$s|rc|0|255"
done
# Each refused-by-rvxlan device exists under Linux only: its show differs
# as a whole (present / absent), checked as such.
for s in proxy rsc l2miss l3miss external gbp ttl-inherit flowlabel udp6zerocsumtx remcsumtx udpcsum dev; do
	DIFFS="$DIFFS
$s|vx2:present|yes|no"
done

# The differences of every shown device (Documentation/rvxlan.rst),
# checked on each device both runs show, then left out of its comparison:
# a jq path and the values [LINUX, RVXLAN], in "cases" other values for
# some devices ("devs"), from some step on ("from": the step that set the
# field on both). udp_csum: rvxlan sends IPv4 UDP checksum zero
# (noudpcsum), Linux 6.12 computes it by default (vx8 asks noudpcsum of
# both); limit: Linux learns without bound (0, not shown), rvxlan bounds
# the table (4096 by default); max_mtu: Linux without a lower device
# allows 65535, rvxlan what fits a 64 KiB IPv4 datagram; mtu: Linux
# without a lower device keeps Ethernet's 1500, rvxlan takes what fits a
# 1500-byte underlay (1450 over IPv4, 1430 over IPv6: vx5, vx6); step
# mtu-change is refused by both ("Cannot change mtu").
FIELD_DIFFS='[
 {"path": ["linkinfo", "info_data", "udp_csum"], "want": [true, false],
  "cases": [{"devs": ["vx8"], "want": [false, false]}]},
 {"path": ["linkinfo", "info_data", "limit"], "want": [null, 4096]},
 {"path": ["max_mtu"], "want": [65535, 65485]},
 {"path": ["mtu"], "want": [1500, 1450],
  "cases": [{"devs": ["vx5", "vx6"], "want": [1500, 1430]}]}
]'

NS=abi
# run_steps OUT KIND: runs STEPS with $KIND = KIND in a fresh namespace;
# writes per step OUT/STEP.rc and OUT/STEP.err, and one line of
# OUT/links.jsonl, {"step": STEP, "links": `ip -d -j link show`} (every
# device of the namespace after the step), deleting vx2 after each step
# so that steps stay independent. No exec more than the commands need:
# under TCG each costs tens of milliseconds (compare() does the rest in
# one jq).
run_steps() {
	local out=$1 kind=$2 step cmd
	rm -rf "$out" && mkdir -p "$out"
	ip netns del $NS 2>/dev/null
	ip netns add $NS && ip -n $NS link set lo up
	while IFS='|' read -r step cmd; do
		KIND=$kind ip netns exec $NS sh -c "$cmd" >/dev/null 2>"$out/$step.err"
		echo $? >"$out/$step.rc"
		{
			printf '{"step": "%s", "kind": "%s", "links": ' "$step" "$kind"
			ip -n $NS -d -j link show || printf '[]'
			printf ', "fdb": '
			bridge -n $NS -j fdb show dev vx0 2>/dev/null || printf '[]'
			printf '}\n'
		} >>"$out/links.jsonl"
		ip -n $NS link del vx2 2>/dev/null
	done <<<"$STEPS"
	ip netns del $NS
}

# listed STEP WHAT: prints the DIFFS entry for STEP and WHAT, if any.
listed() {
	local l
	while IFS= read -r l; do
		[[ $l == "$1|$2|"* ]] && { printf '%s\n' "$l"; return 0; }
	done <<<"$DIFFS"
	return 1
}

# The comparison of the shown devices, in jq: for each step and each
# device in $show, "present STEP DEV A B" when one run has it and the
# other not; for a device both have, "missing ..." for each FIELD_DIFFS
# entry not seen as listed and "differs STEP DEV: PATH=A/B ..." for any
# other field that differs. Normalised first: no ifindex or MAC
# addresses (they legitimately differ), info_kind "KIND" when it is the
# kind the run asked for (else left as it is: a difference).
# shellcheck disable=SC2016
JQ_COMPARE='
def norm: . as $r | $r.links
	| map(select(.ifname | IN($show[]))
		| del(.ifindex, .address, .broadcast)
		| if .linkinfo.info_kind == $r.kind then .linkinfo.info_kind = "KIND" else . end)
	| INDEX(.ifname);
def leaves: [paths((type != "object" and type != "array") or . == [] or . == {})];
def show($p): "\($p | map(tostring) | join("."))";
def diffs($u; $v): ($u | leaves) + ($v | leaves) | unique
	| map(select(. as $p | ($u | getpath($p)) != ($v | getpath($p))))
	| map(. as $p | "\(show($p))=\($u | getpath($p) | tojson)/\($v | getpath($p) | tojson)");
def order: [$A[].step] | to_entries | map({key: .value, value: .key}) | from_entries;
def want($f; $step; $dev): first(($f.cases // [])[]
		| select((.devs == null or (.devs | index([$dev])))
			and (.from == null or order[.from] <= order[$step]))
		| .want) // $f.want;
def missing($x; $y; $step; $dev): $fd[] | . as $f | want($f; $step; $dev) as $w
	| [($x | getpath($f.path)), ($y | getpath($f.path))] | select(. != $w)
	| "missing field difference \(show($f.path)) in \($step) \($dev): want \($w | map(tojson) | join("/")), got \(map(tojson) | join("/"))";
([$A[] | {key: .step, value: norm}] | from_entries) as $a
| ([$B[] | {key: .step, value: norm}] | from_entries) as $b
| (($A[] | {step, fdb: (.fdb | sort_by(tojson))}) as $fa
	| ($B[] | select(.step == $fa.step) | .fdb | sort_by(tojson)) as $fb
	| select($fa.fdb != $fb)
	| "differs \($fa.step) fdb: \(diffs($fa.fdb; $fb) | join(" "))"),
($A[].step as $step | $show[] as $dev
| $a[$step][$dev] as $x | $b[$step][$dev] as $y
| if ($x == null) != ($y == null) then
	"present \($step) \($dev) \(if $x then "yes" else "no" end) \(if $y then "yes" else "no" end)"
  elif $x == null then empty
  else
	missing($x; $y; $step; $dev),
	([$x, $y] | map(delpaths([$fd[].path])) | diffs(.[0]; .[1])
		| select(length > 0) | "differs \($step) \($dev): \(join(" "))")
  end)'

# compare A B: prints each difference between the runs in A and B that
# DIFFS does not list exactly, one per line ("differs ..."); prints
# "listed ..." for each listed difference seen, and "missing ..." for each
# listed one not seen.
compare() {
	local a=$1 b=$2 step cmd what va vb want line dev
	local -A present=()
	while IFS='|' read -r step cmd; do
		for what in rc err; do
			va=$(<"$a/$step.$what") vb=$(<"$b/$step.$what")
			if want=$(listed "$step" "$what"); then
				[ "$want" = "$step|$what|$va|$vb" ] && echo "listed $want" ||
					echo "missing $want (got '$va' / '$vb')"
			elif [ "$what" = err ] && [ "$(<"$b/$step.rc")" != "$(<"$a/$step.rc")" ]; then
				:	# a listed rc difference carries its own message
			elif [ "$va" != "$vb" ]; then
				echo "differs $step $what: '$va' / '$vb'"
			fi
		done
	done <<<"$STEPS"
	# shellcheck disable=SC2086
	while IFS= read -r line; do
		case $line in
		present\ *)
			read -r _ step dev va vb <<<"$line"
			present[$step|$dev]=1
			if want=$(listed "$step" "$dev:present"); then
				[ "$want" = "$step|$dev:present|$va|$vb" ] && echo "listed $want" ||
					echo "missing $want (got $va / $vb)"
			else
				echo "differs $step $dev present: $va / $vb"
			fi ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(jq -n -r --slurpfile A "$a/links.jsonl" --slurpfile B "$b/links.jsonl" \
		--argjson show "$(printf '"%s"\n' $SHOW | jq -s -c .)" --argjson fd "$FIELD_DIFFS" \
		"$JQ_COMPARE" || echo "differs: jq failed")
	# A listed presence difference that did not happen.
	while IFS= read -r line; do
		[[ $line == *:present\|* ]] || continue
		IFS='|' read -r step what _ <<<"$line"
		[ -n "${present[$step|${what%:present}]:-}" ] || echo "missing $line (both runs the same)"
	done <<<"$DIFFS"
}

# judge A B WHAT: the three checks of one comparison of runs A and B
# (WHAT names the rvxlan run), the differences printed as diagnostics.
judge() {
	local result
	result=$(compare "$1" "$2")
	printf '%s\n' "$result" | sed "s/^/# $3: /"
	ktap_expect "$3: every difference is a listed one" 0 "$(grep -c '^differs' <<<"$result")"
	ktap_expect "$3: every listed difference is there as listed" 0 "$(grep -c '^missing' <<<"$result")"
	ktap_check "$3: unsupported attributes are refused by name" \
		grep -q "rvxlan does not support IFLA_VXLAN_PROXY (proxy)" "$2/proxy.err"
}

ktap_plan 17

A=/tmp/rvx-abi-linux B=/tmp/rvx-abi-rvxlan C=/tmp/rvx-abi-kind-vxlan
unload_quietly rvxlan
if ! module_loaded vxlan && ! [ -d /sys/module/vxlan ] && ! modprobe vxlan 2>/dev/null; then
	ktap_skip_rest "no Linux vxlan in this kernel (module or built in)"
fi
# iproute2 finds the plugin (tunnel_lib.sh exports IP_LIB_DIR): without it
# `type rvxlan id 100` would be "Garbage instead of arguments".
ktap_check "iproute2 takes the vxlan syntax for kind rvxlan ($IP_LIB_DIR/link_rvxlan.so)" \
	sh -c 'ip link help rvxlan 2>&1 | grep -q "Usage: ... vxlan id VNI"'

# Linux vxlan, then rvxlan as kind rvxlan beside it (the same boot).
run_steps "$A" vxlan
# What each step did under Linux, for the reader of the log.
while IFS='|' read -r step _; do
	err=$(<"$A/$step.err")
	ktap_diag "Linux vxlan: $step: exit $(<"$A/$step.rc") ${err//$'\n'/ / }"
done <<<"$STEPS"
ktap_check "Linux vxlan: the create step succeeded" test "$(cat $A/create.rc)" = 0
ktap_check "insmod rvxlan.ko (kind rvxlan, beside Linux vxlan)" insmod "$RVISOR_MODULES/rvxlan.ko"
run_steps "$B" rvxlan
ktap_check "rvxlan (type rvxlan): the create step succeeded" test "$(cat $B/create.rc)" = 0
judge "$A" "$B" "type rvxlan"
# Positive controls on a copy of B: ctl_edit STEP DEV JQ: B with device DEV of step STEP changed by JQ.
ctl_edit() {
	rm -rf "$B.ctl" && cp -r "$B" "$B.ctl"
	jq -c --arg s "$1" --arg d "$2" "if .step == \$s then .links |= map(if .ifname == \$d then $3 else . end) else . end" \
		<"$B/links.jsonl" >"$B.ctl/links.jsonl"
}
# A TTL changed in one run is a difference.
ctl_edit ttl vx0 '.linkinfo.info_data.ttl = 99'
ctl=$(compare "$A" "$B.ctl")
ktap_check "positive control: the comparison sees a changed TTL" has_line_start "$ctl" "differs ttl vx0:"
# And a device of another kind than asked for is a difference.
ctl_edit show vx0 '.linkinfo.info_kind = "vxlan"'
ctl=$(compare "$A" "$B.ctl")
ktap_check "positive control: the comparison sees another info_kind" has_line_start "$ctl" "differs show vx0:"
# And an FDB entry with another destination.
rm -rf "$B.ctl" && cp -r "$B" "$B.ctl"
jq -c 'if .step == "fdb-replace-again" then .fdb |= map(if .mac == "02:00:00:00:00:02" then .dst = "10.9.0.99" else . end) else . end' \
	<"$B/links.jsonl" >"$B.ctl/links.jsonl"
ctl=$(compare "$A" "$B.ctl")
ktap_check "positive control: the comparison sees a changed FDB destination" has_line_start "$ctl" "differs fdb-replace-again fdb:"
ktap_check "rmmod rvxlan" rmmod rvxlan

# rvxlan as kind vxlan: only where Linux vxlan is a module that can go.
if [ -d /sys/module/vxlan ] && ! module_loaded vxlan; then
	why="Linux vxlan is built in (CONFIG_VXLAN=y): the kind vxlan is Linux's for good, rvxlan cannot take it in this kernel"
	ktap_diag "SKIP kind=vxlan: $why"
	for t in "rmmod vxlan" "insmod rvxlan.ko kind=vxlan" "kind vxlan: every difference is a listed one" \
		"kind vxlan: every listed difference is there as listed" \
		"kind vxlan: unsupported attributes are refused by name" "rmmod rvxlan; Linux vxlan loads again"; do
		ktap_skip "$t" "$why"
	done
else
	ktap_check "rmmod vxlan" rmmod vxlan
	ktap_check "insmod rvxlan.ko kind=vxlan" insmod "$RVISOR_MODULES/rvxlan.ko" kind=vxlan
	run_steps "$C" vxlan
	judge "$A" "$C" "kind vxlan"
	ktap_check "rmmod rvxlan; Linux vxlan loads again" sh -c 'rmmod rvxlan && modprobe vxlan'
fi
rm -rf "$A" "$B" "$B.ctl" "$C"
ktap_finish
