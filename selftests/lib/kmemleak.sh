# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# kmemleak, on a kernel that has it (the debug kernel, kconfig/debug.config).
# POSIX sh, for busybox in Bochs too.
#
#   . lib/kmemleak.sh
#   kmemleak_available && kmemleak_clear   # forget what is there now
#   report=$(kmemleak_report)              # what leaked since

KMEMLEAK=/sys/kernel/debug/kmemleak

# Whether this kernel has kmemleak (mounting debugfs if need be).
kmemleak_available() {
	[ -e $KMEMLEAK ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -w $KMEMLEAK ]
}

# Greys what is unreferenced now: "clear" only greys what a scan has
# reported, so scan first.
kmemleak_clear() {
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
}

# Prints kmemleak's report of unreferenced objects, empty if none. Two
# scans: an object whose contents changed since the previous scan is not
# reported (kmemleak's checksum), and one younger than 5 s is not either;
# the first scan settles both.
kmemleak_report() {
	echo scan >$KMEMLEAK
	sleep 6
	echo scan >$KMEMLEAK
	cat $KMEMLEAK
}
