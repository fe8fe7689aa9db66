#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm_attack on /dev/rvisor: guests that attack the host (see vm_attack.c);
# kvm_compare.sh runs the same guests on kvm_intel.
exec sh "$(dirname "$0")/vm_tests.sh" vm_attack
