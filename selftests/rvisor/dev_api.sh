#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The /dev/rvisor ioctl ABI (dev_ioctl), and an open file pinning the module.
. "$(dirname "$0")/../lib/env.sh"

ktap_plan 5
require_vmx
unload_quietly rvisor
ktap_check "insmod rvisor.ko" insmod "$RVISOR_MODULES/rvisor.ko"
if "$RVISOR_BIN/dev_ioctl" /dev/rvisor >/tmp/dev_ioctl.out 2>&1; then ok=0; else ok=1; fi
sed 's/^/# /' /tmp/dev_ioctl.out
ktap_expect "dev_ioctl: KVM system ioctls (see its output above)" 0 "$ok"

exec 3</dev/rvisor
if rmmod rvisor 2>/dev/null; then pinned=no; else pinned=yes; fi
ktap_expect "rmmod refused while /dev/rvisor is open" yes "$pinned"
exec 3<&-
ktap_check "rmmod after close" rmmod rvisor
ktap_check "module gone" sh -c '! grep -q "^rvisor " /proc/modules'
ktap_finish
