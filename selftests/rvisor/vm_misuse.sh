#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm_misuse on /dev/rvisor (see vm_misuse.c).
exec sh "$(dirname "$0")/vm_tests.sh" vm_misuse
