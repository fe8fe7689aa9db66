# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Where the tests find what they load, in either guest. The runner sets:
#   RVISOR_MODULES  directory holding rvisor.ko and rvxlan.ko
#   RVISOR_KMODS    directory holding the kernel's own modules the tests use
#                   (kvm.ko, kvm-intel.ko, irqbypass.ko, vxlan.ko ...)
#   RVISOR_BIN      directory holding the compiled test programs
#   RVISOR_REQUIRE_VMX=1  on a machine that must have VMX (Bochs): a test
#                   that finds no VMX fails instead of skipping.

: "${RVISOR_MODULES:?set by the selftest runner}"
: "${RVISOR_BIN:?set by the selftest runner}"

. "$(dirname "$0")/../lib/ktap.sh"

# Text tests and waits use the shell's own read, not grep or cat: on the
# debug kernel in Bochs each fork and exec costs about half a second of
# emulated CPU, and a polling loop takes that from the very program it
# waits for.

# has_text FILE TEXT: a line of FILE contains TEXT.
has_text() {
	[ -r "$1" ] || return 1
	while IFS= read -r _l || [ -n "$_l" ]; do
		case $_l in *"$2"*) return 0 ;; esac
	done <"$1"
	return 1
}

# count_text TEXT FILE...: sets COUNT to the number of lines of the FILEs
# that contain TEXT (grep -c, summed).
count_text() {
	_t=$1
	shift
	COUNT=0
	for _f; do
		[ -r "$_f" ] || continue
		while IFS= read -r _l || [ -n "$_l" ]; do
			case $_l in *"$_t"*) COUNT=$((COUNT + 1)) ;; esac
		done <"$_f"
	done
}

# first_line FILE PREFIX: sets LINE to the first line of FILE that starts
# with PREFIX (empty if none).
# shellcheck disable=SC2034 # LINE: the result, for the caller
first_line() {
	LINE=
	[ -r "$1" ] || return 0
	while IFS= read -r _l || [ -n "$_l" ]; do
		case $_l in "$2"*) LINE=$_l && return 0 ;; esac
	done <"$1"
}

# wait_text FILE TEXT TENTHS: waits until FILE has a line containing TEXT,
# at most TENTHS tenths of a second, polling every half second.
wait_text() {
	i=0
	while ! has_text "$1" "$2" && [ $i -lt "$3" ]; do
		sleep 0.5
		i=$((i + 5))
	done
}

# centi S: sets C to seconds S (as /proc/uptime prints them) in
# hundredths, without leading zeros (the shell would read octal).
centi() {
	C=${1%.*}${1#*.}
	while [ "${C#0}" != "$C" ]; do C=${C#0}; done
	: "${C:=0}"
}

# The Linux guest's command line in linux_boot.sh and qemu_boot.sh: the
# serial console, a PC with PIC and PIT only (no local or I/O APIC, ACPI
# or PCI), few boot messages to carry through the serial port.
# shellcheck disable=SC2034 # used by the tests that source this file
LINUX_GUEST_CMDLINE="console=ttyS0 nolapic noapic acpi=off pci=off nokaslr mce=off io_delay=none panic=-1 loglevel=4"

# run_typing OUT PROMPT LINE CMD...: runs CMD with its stdin a fifo and its
# output in OUT; once OUT shows PROMPT (unless PROMPT is empty), writes LINE
# to it, as a user typing on the console. Sets RC to CMD's status.
run_typing() {
	_out=$1 _prompt=$2 _line=$3
	shift 3
	rm -f "$_out" "$_out.in"
	mkfifo "$_out.in"
	"$@" <"$_out.in" >"$_out" 2>&1 &
	_pid=$!
	exec 3>"$_out.in"
	if [ -n "$_prompt" ]; then
		wait_text "$_out" "$_prompt" 6000
		echo "$_line" >&3
	fi
	wait "$_pid"
	# shellcheck disable=SC2034 # the result, for the caller
	RC=$?
	exec 3>&-
	rm -f "$_out.in"
}

# pins: sets ACQ and REL to /proc/vmstat's pin counters, with every
# CPU's pending delta folded in first (stat_refresh): unfolded per-CPU
# deltas made a baseline of "-13 pins outstanding", and a clean run then
# looked like a leak. Read by the shell itself (see above).
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	# shellcheck disable=SC2034 # ACQ and REL: the results, for the caller
	while read -r k v; do
		case $k in
		nr_foll_pin_acquired) ACQ=$v ;;
		nr_foll_pin_released) REL=$v ;;
		esac
	done </proc/vmstat
}

# online_cpus: sets NCPUS to the number of processors /proc/cpuinfo lists.
online_cpus() {
	NCPUS=0
	while IFS= read -r _l; do
		case $_l in processor*) NCPUS=$((NCPUS + 1)) ;; esac
	done </proc/cpuinfo
}

has_vmx() {
	while IFS= read -r _l; do
		case $_l in flags*) case " $_l " in *" vmx "*) return 0 ;; esac ;; esac
	done </proc/cpuinfo
	return 1
}

# Exits the test when the CPU has no VMX: loudly skipped, or failed where
# VMX is required.
require_vmx() {
	if has_vmx; then
		return 0
	fi
	if [ "${RVISOR_REQUIRE_VMX:-0}" = 1 ]; then
		ktap_diag "this machine must have VMX but /proc/cpuinfo has no vmx flag"
		ktap_fail "VMX present"
		ktap_skip_rest "no VMX"
	fi
	ktap_diag "SKIP: no VMX on this CPU; run the Bochs suite (make check) for VMX tests"
	ktap_skip_rest "no VMX on this CPU"
}

module_loaded() {
	while read -r _m _rest; do
		[ "$_m" = "$1" ] && return 0
	done </proc/modules
	return 1
}

# Unloads a module if loaded, ignoring errors (test set-up and clean-up).
unload_quietly() {
	module_loaded "$1" && rmmod "$1" 2>/dev/null
	return 0
}

# Skips the rest of the test unless kvm_intel and the modules it needs are
# in RVISOR_KMODS (the Bochs suites have them: a skip there is a failure).
require_kvm_modules() {
	for m in irqbypass kvm kvm-intel; do
		[ -f "${RVISOR_KMODS:-}/$m.ko" ] || ktap_skip_rest "$m.ko not available"
	done
}

# Whether kvm_intel is built into the kernel (the debug kernel's, booted
# with kvm.enable_virt_at_load=0: it takes VMX only while a VM exists).
kvm_builtin() {
	[ -d /sys/module/kvm_intel ] && [ ! -e /sys/module/kvm_intel/initstate ]
}

# Skips the rest of the test unless kvm_intel can run: built in, or its
# modules in RVISOR_KMODS.
require_kvm() {
	kvm_builtin || require_kvm_modules
}

# Makes kvm_intel available: loads its modules unless it is built in.
load_kvm() {
	kvm_builtin && return 0
	insmod "$RVISOR_KMODS/irqbypass.ko" 2>/dev/null
	insmod "$RVISOR_KMODS/kvm.ko" 2>/dev/null
	insmod "$RVISOR_KMODS/kvm-intel.ko"
}

# Unloads kvm_intel and the modules it needs.
unload_kvm() {
	kvm_builtin && return 0
	rmmod kvm_intel kvm irqbypass 2>/dev/null || { rmmod kvm_intel; rmmod kvm; rmmod irqbypass; }
}

# Kernel log lines since the last call to dmesg_mark.
dmesg_mark() {
	DMESG_MARK=$(dmesg | wc -l)
}

dmesg_new() {
	dmesg | tail -n +"$((DMESG_MARK + 1))"
}

# Around stack dumps a test asks the kernel for (sysrq-l): kernel_log.sh
# does not count the Call Trace lines between these markers.
kmsg_dump_begin() {
	echo "rvisor-selftest: requested dump begin" >/dev/kmsg
}

kmsg_dump_end() {
	echo "rvisor-selftest: requested dump end" >/dev/kmsg
}

# run_watched SECONDS OUT CMD...: runs CMD with output to OUT; if it has
# not finished after SECONDS, reports where each of its tasks sleeps or
# spins (state, wchan, kernel stack, and the kernel's own sysrq-w and
# sysrq-l dumps) before killing it, so that a stall is diagnosable rather
# than a silent timeout. Returns CMD's status (137 if killed).
run_watched() {
	limit=$1 out=$2
	shift 2
	"$@" >"$out" 2>&1 &
	pid=$!
	# One timer that signals this shell, not a poll with `sleep 1` each
	# second: on the debug kernel in Bochs each such fork and exec cost
	# about half a second of the emulated CPU time the command needs.
	# The trap makes the signal interrupt the wait (POSIX: wait returns
	# above 128) and stays set, a no-op, so that a timer that fires
	# after all cannot kill the shell.
	late=0
	trap 'late=1' USR1
	(sleep "$limit" && kill -USR1 $$) >/dev/null 2>&1 &
	timer=$!
	wait "$pid"
	rc=$?
	if [ "$late" = 0 ]; then
		# Its sleep first: then the timer ends without signalling.
		pkill -P "$timer" sleep 2>/dev/null
		kill "$timer" 2>/dev/null
		trap : USR1
		return "$rc"
	fi
	trap : USR1
	if kill -0 "$pid" 2>/dev/null; then
		echo "# $1 still running after $limit s: its tasks"
		for t in /proc/[0-9]*; do
			comm=$(cat "$t/comm" 2>/dev/null) || continue
			[ "$comm" = "$(basename "$1")" ] || continue
			for task in "$t"/task/*; do
				echo "# task ${task##*/}: $(cut -d' ' -f3 "$task/stat" 2>/dev/null)" \
					"wchan $(cat "$task/wchan" 2>/dev/null)"
				sed 's/^/#   /' "$task/stack" 2>/dev/null
			done
		done
		if [ -w /proc/sysrq-trigger ]; then
			dmesg_mark
			kmsg_dump_begin
			echo w >/proc/sysrq-trigger
			echo l >/proc/sysrq-trigger
			sleep 2
			kmsg_dump_end
			dmesg_new | sed 's/^/# sysrq: /' | head -n 200
		fi
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid"
}
