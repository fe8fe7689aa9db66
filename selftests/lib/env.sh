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

has_vmx() {
	grep -qw vmx /proc/cpuinfo
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
	grep -q "^$1 " /proc/modules
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

# Unloads kvm_intel and the modules it needs.
unload_kvm() {
	rmmod kvm_intel kvm irqbypass 2>/dev/null || { rmmod kvm_intel; rmmod kvm; rmmod irqbypass; }
}

# Kernel log lines since the last call to dmesg_mark.
dmesg_mark() {
	DMESG_MARK=$(dmesg | wc -l)
}

dmesg_new() {
	dmesg | tail -n +"$((DMESG_MARK + 1))"
}
