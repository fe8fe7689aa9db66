#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm_smp on /dev/rvisor (see vm_smp.c).
exec sh "$(dirname "$0")/vm_tests.sh" vm_smp
