#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm_exits on /dev/rvisor (see vm_exits.c).
exec sh "$(dirname "$0")/vm_tests.sh" vm_exits
