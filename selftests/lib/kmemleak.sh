# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# kmemleak, on a kernel that has it (the debug kernel, kconfig/debug.config).
# POSIX sh, for busybox in Bochs too.
#
#   . lib/kmemleak.sh
#   kmemleak_available && kmemleak_mark    # what is there now is boot's
#   report=$(kmemleak_report)              # what leaked since

KMEMLEAK=/sys/kernel/debug/kmemleak

# Whether this kernel has kmemleak (mounting debugfs if need be).
kmemleak_available() {
	[ -e $KMEMLEAK ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -w $KMEMLEAK ]
}

# kmemleak_mark: objects allocated from now on are the tests'; what boot
# left unreferenced is not theirs, and kmemleak_report leaves it out.
#
# The mark is the kernel's jiffies, which kmemleak stamps on every object
# when it is allocated. User space reads it through a tracing instance
# whose trace clock is "uptime" (trace_clock_jiffies(): jiffies since
# INITIAL_JIFFIES, in USER_HZ units, which are jiffies with HZ=100 as
# kconfig/rvisor.config sets it). That costs a few writes; the
# alternative, a scan now and "clear", is two minutes of a Bochs boot of
# the debug kernel. It is slightly weaker: an object allocated before the
# mark that a test leaves unreferenced is not reported (with scan and
# clear it was). Without tracefs it falls back to scan and clear.
KMEMLEAK_SINCE=/tmp/rvisor-kmemleak-since
# INITIAL_JIFFIES with HZ=100: (unsigned int)(-300 * HZ).
KMEMLEAK_INITIAL_JIFFIES=4294937296
kmemleak_mark() {
	_t=/sys/kernel/tracing
	[ -d $_t/instances ] || mount -t tracefs tracefs $_t 2>/dev/null
	_i=$_t/instances/rvisor-kmemleak-mark
	_ticks=""
	if mkdir $_i 2>/dev/null; then
		echo uptime >$_i/trace_clock &&
			echo rvisor-kmemleak-mark >$_i/trace_marker &&
			_ticks=$(awk '/tracing_mark_write: rvisor-kmemleak-mark/ {
				for (i = 1; i < NF; i++) if ($(i + 1) == "tracing_mark_write:") { sub(/:$/, "", $i); print $i; exit } }' $_i/trace)
		rmdir $_i
	fi
	case $_ticks in
	'' | *[!0-9]*)
		# (kmemleak_report says "mark 0".)
		echo scan >$KMEMLEAK
		echo clear >$KMEMLEAK
		echo 0 >$KMEMLEAK_SINCE ;;
	*) echo $((KMEMLEAK_INITIAL_JIFFIES + _ticks)) >$KMEMLEAK_SINCE ;;
	esac
}

# Prints kmemleak's report of unreferenced objects allocated since
# kmemleak_mark, empty if none. Two scans: an object whose contents
# changed since the previous scan is not reported (kmemleak's checksum),
# and one younger than 5 s is not either; the first scan settles both.
kmemleak_report() {
	echo scan >$KMEMLEAK
	sleep 6
	echo scan >$KMEMLEAK
	awk -v since="$(cat $KMEMLEAK_SINCE 2>/dev/null || echo 0)" '
		# An object is left out only when the line after its header is
		# exactly what print_unreferenced() prints (mm/kmemleak.c)
		#   comm "NAME", pid N, jiffies J
		# and J is before the mark; anything else (an unexpected format,
		# a task name with a newline in it) is printed.
		function flush() {
			if (obj != "" && !(boot))
				printf "%s", obj
			else if (obj != "")
				skipped++
			obj = ""
			boot = 0
		}
		/^unreferenced object / { flush(); obj = $0 "\n"; line = 0; next }
		obj != "" {
			obj = obj $0 "\n"
			line++
			if (line == 1 && $0 ~ /^  comm ".*", pid [0-9]+, jiffies [0-9]+$/ && $NF + 0 < since + 0)
				boot = 1
		}
		END {
			flush()
			printf "# kmemleak: mark %s, %d unreferenced object(s) from before it (boot) not judged\n",
				since, skipped + 0 >"/dev/stderr"
		}' $KMEMLEAK
}
