# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The shell library of ivhost's test scripts: result lines, the
# kernel-problem scan of a log, kmemleak, and commands under a timeout.
# Sourced, by a path relative to the sourcing script (the same path on
# the host and in the test VM, which sees the repository over 9p):
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib/ivhost-lib.sh"
#
# Every name it defines starts with ivt_ (functions) or IVT_ (state).
# tools/testing/README lists the functions; tools/testing/lib/selftest
# checks them.

# ------------------------------------------------------------ results ---
# A result line is "RESULT <name> PASS|FAIL|SKIP [detail]".  It goes to
# the result channel, which is what harnesses read (never the console):
#
#   host mode (the default): the channel is stdout; with a file
#     (ivt_results_host FILE) every line is also appended to it, and
#     ivt_collect adds other runners' lines to it;
#   guest mode (ivt_results_guest): the channel is $IVHOST_RESULTS (the
#     VM's second serial port, /dev/ttyS1; stdout when unset), and the
#     line is echoed to the console as "== RESULT ..." for humans.
IVT_CHANNEL=""		# a file or device; empty: stdout
IVT_CONSOLE=0
IVT_FILE=""
IVT_PREFIX=""
IVT_PASSED=0
IVT_FAILED=0
IVT_SKIPPED=0
IVT_START=$(date +%s)

# ivt_results_host [FILE]: host mode; FILE (emptied) collects every line.
# shellcheck disable=SC2120 # optional arguments
ivt_results_host() {
	IVT_CHANNEL=""
	IVT_CONSOLE=0
	IVT_FILE=${1:-}
	[ -z "$IVT_FILE" ] || : >"$IVT_FILE"
}

# ivt_results_guest [PREFIX]: guest mode; PREFIX goes before every name.
# shellcheck disable=SC2120 # optional arguments
ivt_results_guest() {
	IVT_CHANNEL=${IVHOST_RESULTS:-}
	IVT_CONSOLE=1
	IVT_PREFIX=${1:-}
}

# Count one verdict (a line with another word there is not a result).
ivt_count() {	# PASS|FAIL|SKIP
	case "$1" in
	PASS) IVT_PASSED=$((IVT_PASSED + 1)) ;;
	FAIL) IVT_FAILED=$((IVT_FAILED + 1)) ;;
	SKIP) IVT_SKIPPED=$((IVT_SKIPPED + 1)) ;;
	esac
}

# ivt_result NAME PASS|FAIL|SKIP [DETAIL]: report one result.
ivt_result() {
	local line="RESULT $IVT_PREFIX$1 $2${3:+ $3}"

	ivt_count "$2"
	[ -z "$IVT_FILE" ] || echo "$line" >>"$IVT_FILE"
	if [ -n "$IVT_CHANNEL" ]; then
		echo "$line" >>"$IVT_CHANNEL"
	else
		echo "$line"
	fi
	[ "$IVT_CONSOLE" -eq 0 ] || echo "== $line"
}

# ivt_tap_diag OLD LINE: OLD with LINE added when LINE is one of the
# kselftest harness's "# file.c:N:test:..." diagnostics (a failed
# expectation, a TH_LOG), keeping the first two, for a FAIL's detail.
ivt_tap_diag() {
	local re='^# [A-Za-z0-9_./-]+\.c:[0-9]+:'

	if [[ "$2" =~ $re ]] && [[ "$1" != *" | "* ]]; then
		local d=${2#\# }
		echo "${1:+$1 | }${d:0:200}"
	else
		echo "$1"
	fi
}

# ivt_fail: count a failure that has no result line of its own (a
# sub-runner that failed and reported its own lines).
ivt_fail() {
	IVT_FAILED=$((IVT_FAILED + 1))
}

# ivt_failed: 1 if anything failed so far, else 0 (an exit status).
ivt_failed() {
	[ "$IVT_FAILED" -eq 0 ] && echo 0 || echo 1
}

# ivt_collect FILE [--print]: take the RESULT lines another runner wrote
# into FILE (CRs stripped): count them, append them to the host file and,
# with --print, show them on stdout.
ivt_collect() {
	local line verdict

	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ "$line" == "RESULT "* ]] || continue
		verdict=${line#RESULT * }
		ivt_count "${verdict%% *}"
		[ -z "$IVT_FILE" ] || echo "$line" >>"$IVT_FILE"
		[ "${2:-}" != --print ] || echo "$line"
	done < <(grep -a '^RESULT ' "$1" 2>/dev/null)
}

# ivt_step TEXT: a progress line with the seconds since the start.
ivt_step() {
	echo "---- $* ($(( $(date +%s) - IVT_START ))s)"
}

# ivt_summary [--short]: the closing lines, from the counters:
#   ---- done in Ns; results in FILE     (with a host file)
#   failed:                              (the FAIL lines, from the file)
#   N passed, M failed, K skipped        (--short: "N passed, M failed")
# Returns non-zero when anything failed.
# shellcheck disable=SC2120 # optional arguments
ivt_summary() {
	if [ "${1:-}" = --short ]; then
		echo "$IVT_PASSED passed, $IVT_FAILED failed"
		[ "$IVT_FAILED" -eq 0 ]
		return
	fi
	if [ -n "$IVT_FILE" ]; then
		echo "---- done in $(( $(date +%s) - IVT_START ))s; results in $IVT_FILE"
		if grep -q '^RESULT [^ ]* FAIL\( \|$\)' "$IVT_FILE"; then
			echo "failed:"
			grep '^RESULT [^ ]* FAIL\( \|$\)' "$IVT_FILE" | sed 's/^RESULT /  /'
		fi
	fi
	echo "$IVT_PASSED passed, $IVT_FAILED failed, $IVT_SKIPPED skipped"
	[ "$IVT_FAILED" -eq 0 ]
}

# --------------------------------------------------- kernel log checks ---
# What the kernel prints when something is wrong: WARN, BUG and oops,
# KASAN, UBSAN, KFENCE, KCSAN, lockdep, RCU, hung tasks and lockups,
# panics, list and refcount corruption, kmemleak reports, a segfault in
# an ivhost program.
IVT_KERNEL_PROBLEM_RE='(WARNING:|BUG:|kernel BUG at|Oops|general protection fault|KASAN:|UBSAN:|KFENCE:|KCSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked for more than|rcu_(sched|preempt) (self-)?detected stall|detected stalls on CPUs|soft lockup|hard LOCKUP|Call Trace:|Kernel panic|list_(add|del) corruption|refcount_t: |unreferenced object|kernel stack overflow|Unable to handle kernel|segfault at .* in ivhost)'

# ivt_kernel_problems [-n] LOG|- [EXTRA_RE]: print the kernel's problem
# lines in LOG (a console log or dmesg output; - for stdin), with their
# line numbers for -n.  Only lines the kernel printed count: they carry
# a printk timestamp "[    1.234567]", so a test's own output cannot
# trigger this.  EXTRA_RE adds patterns (an alternation).  Returns 0
# when it found something.
ivt_kernel_problems() {
	local num=() re=$IVT_KERNEL_PROBLEM_RE

	[ "$1" != -n ] || { num=(-n); shift; }
	[ -z "${2:-}" ] || re="(${re}|$2)"
	grep -a "${num[@]}" -E '^\[ *[0-9]+\.[0-9]+\] .*'"$re" "$1"
}

# ivt_dmesg_mark: remember where the kernel log ends now;
# ivt_dmesg_problems [EXTRA_RE] then prints the problem lines since.
ivt_dmesg_mark() {
	IVT_DMESG_START=$(dmesg | wc -l)
}
# shellcheck disable=SC2120 # optional arguments
ivt_dmesg_problems() {
	dmesg | tail -n +"$(( ${IVT_DMESG_START:-0} + 1 ))" |
		ivt_kernel_problems - "${1:-}"
}

# ------------------------------------------------------------ kmemleak ---
IVT_KMEMLEAK=/sys/kernel/debug/kmemleak

# ivt_kmemleak_start: mount debugfs if needed and remember the leaks
# kmemleak already reported (boot, earlier stages: not this run's).
# They are remembered, not cleared, so that an outer run still sees
# them.  Returns non-zero when the kernel has no kmemleak.
ivt_kmemleak_start() {
	mountpoint -q /sys/kernel/debug 2>/dev/null ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	[ -w "$IVT_KMEMLEAK" ] || return 1
	# none reported yet is the usual case: grep's status is not ours
	IVT_KMEMLEAK_BEFORE=$(grep '^unreferenced object' "$IVT_KMEMLEAK" || true)
}

# ivt_kmemleak_scan: make kmemleak report what leaked.  It reports an
# object once it is older than 5 s and unchanged over two scans.
ivt_kmemleak_scan() {
	sleep 6
	echo scan >"$IVT_KMEMLEAK"
	sleep 1
	echo scan >"$IVT_KMEMLEAK"
}

# ivt_kmemleak_new: print kmemleak's reports (backtraces too) of the
# objects that were not reported at ivt_kmemleak_start.
ivt_kmemleak_new() {
	IVT_KB=${IVT_KMEMLEAK_BEFORE:-} awk '
		BEGIN {
			n = split(ENVIRON["IVT_KB"], b, "\n")
			for (i = 1; i <= n; i++)
				old[b[i]] = 1
		}
		/^unreferenced object/ { show = !($0 in old) }
		show' "$IVT_KMEMLEAK"
}

# ivt_kmemleak_check NAME [DETAIL]: scan, and report NAME: FAIL when
# objects leaked since ivt_kmemleak_start (they are printed), SKIP
# without kmemleak, else PASS.  DETAIL ends the FAIL line's detail ("... after DETAIL").
ivt_kmemleak_check() {
	local new n

	if [ ! -w "$IVT_KMEMLEAK" ]; then
		ivt_result "$1" SKIP "no kmemleak in this kernel"
		return 0
	fi
	ivt_kmemleak_scan
	new=$(ivt_kmemleak_new)
	n=$(grep -c '^unreferenced object' <<<"$new")
	if [ "$n" -gt 0 ]; then
		echo "$new"
		ivt_result "$1" FAIL "$n new unreferenced objects${2:+ after $2}"
		return 1
	fi
	ivt_result "$1" PASS
}

# ------------------------------------------------------------ timeouts ---
# ivt_timeout SECS COMMAND...: run COMMAND, killed (TERM, then KILL 10 s
# later) after SECS seconds (0: no limit).  Returns its status, 124 when
# it timed out.
ivt_timeout() {
	local secs=$1 rc

	shift
	# 0: no limit; the command runs here, so it may be a shell function
	if [ "$secs" = 0 ]; then
		"$@"
		return
	fi
	timeout -k 10 "$secs" "$@"
	rc=$?
	[ "$rc" -ne 137 ] || [ "$secs" = 0 ] || rc=124
	return "$rc"
}

# ivt_rc_detail RC SECS: "timed out after SECSs" for 124, else "rc=RC".
ivt_rc_detail() {
	if [ "$1" -eq 124 ]; then
		echo "timed out after ${2}s"
	else
		echo "rc=$1"
	fi
}

# ivt_check NAME SECS COMMAND...: run COMMAND under ivt_timeout and
# report NAME: PASS when it exits 0, else FAIL with its status or the
# timeout.
ivt_check() {
	local name=$1 secs=$2 rc

	shift 2
	ivt_timeout "$secs" "$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ivt_result "$name" PASS
	else
		ivt_result "$name" FAIL "$(ivt_rc_detail "$rc" "$secs")"
	fi
	return "$rc"
}
