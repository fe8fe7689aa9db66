# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# KTAP output for shell selftests. POSIX sh: the same tests run under
# bash in virtme-ng and under busybox ash in the Bochs initramfs.
#
#   . lib/ktap.sh
#   ktap_plan 3
#   ktap_check "device exists" test -c /dev/rvisor
#   ktap_result "answer is 12" "$([ "$v" = 12 ] && echo 0 || echo 1)" "got $v"
#   ktap_skip "needs VMX" "no VMX on this CPU"
#   ktap_finish      # exits 0 (all passed), 4 (all skipped), 1 (any failed)

KTAP_PLANNED=0
KTAP_N=0
KTAP_FAILED=0
KTAP_SKIPPED=0

# Exit status meaning "skipped" (kselftest's KSFT_SKIP).
KSFT_SKIP=4

ktap_plan() {
	KTAP_PLANNED=$1
	echo "KTAP version 1"
	echo "1..$1"
}

ktap_diag() {
	echo "# $*"
}

ktap_pass() {
	KTAP_N=$((KTAP_N + 1))
	echo "ok $KTAP_N $1"
}

# ktap_fail DESCRIPTION [WHY]
ktap_fail() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAILED=$((KTAP_FAILED + 1))
	[ -n "${2:-}" ] && ktap_diag "$2"
	echo "not ok $KTAP_N $1"
}

# ktap_skip DESCRIPTION WHY
ktap_skip() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIPPED=$((KTAP_SKIPPED + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

# ktap_check DESCRIPTION COMMAND...: passes when the command succeeds.
ktap_check() {
	_desc=$1
	shift
	if "$@"; then
		ktap_pass "$_desc"
	else
		ktap_fail "$_desc" "failed: $*"
	fi
}

# ktap_expect DESCRIPTION EXPECTED ACTUAL
ktap_expect() {
	if [ "$2" = "$3" ]; then
		ktap_pass "$1"
	else
		ktap_fail "$1" "expected '$2', got '$3'"
	fi
}

# Skips the remaining planned tests with one reason, then finishes.
ktap_skip_rest() {
	while [ "$KTAP_N" -lt "$KTAP_PLANNED" ]; do
		ktap_skip "test $((KTAP_N + 1))" "$1"
	done
	ktap_finish
}

ktap_finish() {
	if [ "$KTAP_N" -ne "$KTAP_PLANNED" ]; then
		ktap_diag "planned $KTAP_PLANNED tests but ran $KTAP_N"
		exit 1
	fi
	ktap_diag "Totals: pass:$((KTAP_N - KTAP_FAILED - KTAP_SKIPPED)) fail:$KTAP_FAILED skip:$KTAP_SKIPPED"
	[ "$KTAP_FAILED" -eq 0 ] || exit 1
	[ "$KTAP_N" -gt 0 ] && [ "$KTAP_SKIPPED" -eq "$KTAP_N" ] && exit "$KSFT_SKIP"
	exit 0
}
