# SPDX-License-Identifier: GPL-2.0
#
# tools/testing/bench/report, every backend side by side: gawk functions
# that report's render_md and chart_data programs take in (their
# helpers: has, MED, KEYS, USED, cellpps, ratio, pct, row, goal,
# close_call, gp, q, val, num, panel_common).
#
# Devices in the keys: vhost (vhost_net), ivhost, ivhost-packed (the
# kernel devices), ivhost-user, ivhost-user-packed, dpdk, dpdk-packed
# (the vhost-user backends, tools/testing/bench/bench-vu); dpdk-other and
# dpdk-nice19 are DPDK's split figures with its polling lcore at
# SCHED_OTHER nice 0 and nice 19 instead of SCHED_IDLE.  NA[key] holds
# the reason a figure was not measured (BENCHNA lines).

function vu_init(   a, j) {
	NB = split("vhost ivhost ivhost-packed ivhost-user ivhost-user-packed dpdk dpdk-packed", B, " ")
	split("vhost_net|ivhost|ivhost packed|ivhost-user|ivhost-user packed|DPDK|DPDK packed", a, "|")
	for (j = 1; j <= NB; j++) BN[B[j]] = a[j]
}

function vu_key(w, b, d, s, m) { return w "/" b "/" d "/" s "/" m }

function vu_any(   k) {
	for (k in KEYS) if (k ~ /^w[123m]+\/(ivhost-packed|ivhost-user|dpdk)/) return 1
	for (k in NA) if (k ~ /(ivhost-packed|ivhost-user|dpdk)/) return 1
	return 0
}

# "n/a" cells get their reason in a note under the table.
function vu_cell(k, fmt) {
	USED[k] = 1
	if (has(k)) return fmt == "" ? commas(MED[k]) : sprintf(fmt, MED[k])
	if (k in NA) { NANOTE[k] = NA[k]; return "n/a*" }
	return "n/a"
}

function vu_notes(   k, o, n, i, ks) {
	n = 0
	for (k in NANOTE) o[sortkey(k)] = k
	n = asorti(o, ks)
	if (!n) return
	print ""
	print "n/a*: not measured:"
	print ""
	for (i = 1; i <= n; i++) print "- `" o[ks[i]] "`: " NANOTE[o[ks[i]]]
	delete NANOTE
}

function vu_header(first, cols,   c, a, i, n) {
	n = split(cols, a, "|")
	c = first; al = "--- | --- | ---:"
	for (i = 1; i <= n; i++) { c = c " | " a[i]; al = al " | ---:" }
	row(c); row(al)
}

function vu_pps_table(   wi, di, si, bi, c) {
	vu_header("workload | dir | size", "vhost_net|ivhost|ivhost packed|ivhost-user|ivhost-user packed|DPDK|DPDK packed")
	for (wi = 1; wi <= 4; wi++) for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
		c = W[wi] " | " D[di] " | " SZ[si]
		for (bi = 1; bi <= NB; bi++) c = c " | " vu_cell(vu_key(W[wi], B[bi], D[di], SZ[si], "pps"), "")
		row(c)
	}
	if ("vhost-packed" in NA)
		print "\nvhost_net packed: not measured: " NA["vhost-packed"] "."
	vu_notes()
}

function vu_ratio_table(   wi, di, si, w, d, s, c, p) {
	vu_header("workload | dir | size", "ivhost/vhost_net|ivhost-user/DPDK split|ivhost-user/DPDK packed|packed/split ivhost|packed/split ivhost-user|packed/split DPDK")
	for (wi = 1; wi <= 4; wi++) for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
		w = W[wi]; d = D[di]; s = SZ[si]
		p = "/" d "/" s "/pps"
		c = w " | " d " | " s " | " ratio(w "/ivhost" p, w "/vhost" p)
		c = c " | " ratio(w "/ivhost-user" p, w "/dpdk" p) " | " ratio(w "/ivhost-user-packed" p, w "/dpdk-packed" p)
		c = c " | " ratio(w "/ivhost-packed" p, w "/ivhost" p) " | " ratio(w "/ivhost-user-packed" p, w "/ivhost-user" p)
		c = c " | " ratio(w "/dpdk-packed" p, w "/dpdk" p)
		row(c)
	}
}

function vu_share_table(   wi, di, si, bi, c, p) {
	vu_header("workload | dir | size", "vhost_net|ivhost|ivhost packed|ivhost-user|ivhost-user packed|DPDK|DPDK packed")
	for (wi = 2; wi <= 4; wi++) for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
		c = W[wi] " | " D[di] " | " SZ[si]
		p = "/" D[di] "/" SZ[si] "/pps"
		for (bi = 1; bi <= NB; bi++) c = c " | " pct(W[wi] "/" B[bi] p, "w1/" B[bi] p)
		row(c)
	}
}

function vu_drop_table(   wi, di, si, bi, c, k, m) {
	vu_header("workload | dir | size", "miss/1k ivhost-user|miss/1k ivhost-user packed|miss/1k DPDK|miss/1k DPDK packed|drops ivhost-user|drops ivhost-user packed|drops DPDK|drops DPDK packed")
	for (wi = 1; wi <= 4; wi++) for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
		c = W[wi] " | " D[di] " | " SZ[si]
		for (m = 1; m <= 2; m++) for (bi = 4; bi <= NB; bi++) {
			k = vu_key(W[wi], B[bi], D[di], SZ[si], m == 1 ? "miss_per_1k" : "drops")
			if (m == 1 && W[wi] == "w1") { USED[k] = 1; c = c " | -"; continue }
			c = c " | " vu_cell(k, m == 1 ? "%.2f" : "")
		}
		row(c)
	}
}

# DPDK's polling lcore on the one vCPU: what was chosen, and what the
# other policies measured in the same run.
function vu_dpdk_note(   d, k, a, alt, i, n, txt) {
	print ""
	if (DPDK_OWN_CPU) {
		print "### DPDK with a CPU of its own"
		print ""
		print "This VM has two vCPUs (no icount: wall-clock time, figures depend on the host). testpmd runs as DPDK is deployed: its forwarding lcore polls on CPU 1 at the normal policy, and the bench (guest driver and VMM) is pinned to CPU 0 for every vhost-user backend; ivhost-user's threads may run on either CPU. DPDK's w3/w3m use the same packet count as the others. Forwarding is `io retry` (100 us, 100 retries)."
		return
	}
	print "### DPDK on one vCPU"
	print ""
	print "testpmd polls: its forwarding lcore never sleeps, and QEMU 7.2's icount gives the VM one vCPU, which the bench (guest driver and VMM in one program) and testpmd share. DPDK 22.11's testpmd has no sleep or interrupt mode for the vhost PMD (`dpdk-testpmd -- --help`: only `--no-lsc-interrupt`, `--no-rmv-interrupt`), so the setup is the scheduler's: testpmd's main and forwarding lcores both on CPU 0 (`--lcores 0@0,1@0`), the forwarding thread at SCHED_IDLE, so it has the CPU whenever the guest driver waits for a call and gives it up as soon as the driver is runnable; its other threads (vhost-user messages and IOTLB, interrupts) keep SCHED_OTHER. That holds for w1 and w2, where the datapath sends no messages. In w3 and w3m every buffer costs IOTLB messages, which testpmd's control thread applies under the IOTLB lock the forwarding lcore holds through each burst; the lcore signals the guest's call eventfd inside the burst, the guest driver preempts it there and sends the next message, and the control thread spins on the lock while the SCHED_IDLE lcore holding it gets 3/1027 of the vCPU. Observed: w3m rx 64 made no visible progress in 3 minutes of wall time (the lock is our reading of DPDK 22.11's vhost library, not traced): a priority inversion of the single vCPU, not of DPDK on real cores. DPDK's w3 and w3m therefore run with the lcore at SCHED_OTHER (each inversion then lasts up to a scheduler slice) and fewer packets (BENCHINFO above): read them as DPDK sharing one CPU, not as its per-buffer cost, and the w3/w3m goals against DPDK with that in mind. Forwarding is `io retry` (delay 100 us, 100 retries), as check-vhost-user runs it behind the vIOMMU: plain `io` drops the frame for the guest whose buffer missed in the IOTLB (a host run of w3m rx: about 4 frames dropped per frame received). ivhost-user sleeps in epoll between kicks and needs no such setting. Both backends serve the bench from a network namespace on a tap of their own; RX frames go into that tap from an AF_PACKET socket, as for the kernel devices. The traced figures (wait %) and w4 time the kernel device's worker with kprobes: not measured for the daemons."
	n = split("dpdk-other|SCHED_OTHER nice 0;dpdk-nice19|SCHED_OTHER nice 19", alt, ";")
	txt = ""
	for (d = 1; d <= 2; d++) for (i = 1; i <= n; i++) {
		split(alt[i], a, "|")
		k = "w1/" a[1] "/" D[d] "/64/pps"; USED[k] = 1
		USED["w1/" a[1] "/" D[d] "/64/drops"] = 1
		if (!has(k)) continue
		txt = txt sprintf("%s%s 64 with the forwarding lcore at %s: %s pps (%s of SCHED_IDLE's)",
			txt == "" ? "" : "; ", D[d], a[2], commas(MED[k]), pct(k, "w1/dpdk/" D[d] "/64/pps"))
	}
	if (txt != "") print "\nMeasured in the same run, DPDK w1 split: " txt "."
}

function vu_tables() {
	vu_init()
	if (!vu_any()) return
	print ""
	printf "## All backends, split and packed rings (packets/s, median of %d run%s)\n\n", NRUNS, (NRUNS == 1 ? "" : "s")
	print "The kernel devices (vhost_net, ivhost: /dev/vhost-net, /dev/ivhost-net) and the vhost-user backends (ivhost-user, DPDK's vhost in dpdk-testpmd), measured the same way by ivhost-bench in the same VM run. Packets per vhost-user figure: see the BENCHINFO lines above."
	print ""
	vu_pps_table()
	print ""
	print "### Ratios"
	print ""
	vu_ratio_table()
	print ""
	print "### Each workload as a share of the same backend's w1"
	print ""
	vu_share_table()
	print ""
	print "### vhost-user: misses and drops"
	print ""
	print "miss/1k: IOTLB MISS messages per 1000 packets; drops: RX frames sent into the tap and never received, TX frames the tap never saw (warmup included)."
	print ""
	vu_drop_table()
	vu_dpdk_note()
}

# The issue's vhost-user targets, as rows of the Goals table.
function vu_goals(   di, si, li, d, s, lay, sfx, a, b, v, wi, w, n, tot, k, nd) {
	vu_init()
	if (!vu_any()) return
	for (li = 1; li <= 2; li++) {
		lay = li == 1 ? "split" : "packed"; sfx = li == 1 ? "" : "-packed"
		for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
			d = D[di]; s = SZ[si]
			a = "w2/ivhost-user" sfx "/" d "/" s "/pps"; b = "w1/ivhost-user" sfx "/" d "/" s "/pps"
			if (has(a) && has(b) && MED[b] != 0) {
				v = 100 * MED[a] / MED[b]
				goal("ivhost-user w2 within 2% of its w1", d " " s " " lay, sprintf("%.1f%%", v), ">= 98%",
					(v >= 98 ? "**met**" : "not met") close_call(v, 98, a, b))
			} else goal("ivhost-user w2 within 2% of its w1", d " " s " " lay, "n/a", ">= 98%", "n/a")
		}
	}
	for (wi = 3; wi <= 4; wi++) for (li = 1; li <= 2; li++) {
		w = W[wi]; lay = li == 1 ? "split" : "packed"; sfx = li == 1 ? "" : "-packed"
		for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
			d = D[di]; s = SZ[si]
			a = w "/ivhost-user" sfx "/" d "/" s "/pps"; b = w "/dpdk" sfx "/" d "/" s "/pps"
			if (has(a) && has(b) && MED[b] != 0) {
				v = MED[a] / MED[b]
				goal(w " ivhost-user >= 2x DPDK", d " " s " " lay, sprintf("%.2fx", v), ">= 2x",
					(v >= 2 ? "**met**" : "not met") close_call(v, 2, a, b) \
					(DPDK_OWN_CPU ? " (DPDK polling on a CPU of its own)" : \
					" (DPDK sharing one vCPU: see \"DPDK on one vCPU\")"))
			} else goal(w " ivhost-user >= 2x DPDK", d " " s " " lay, "n/a", ">= 2x", "n/a")
		}
	}
	# no frame dropped on a miss: every ivhost-user figure with misses
	for (li = 1; li <= 2; li++) {
		lay = li == 1 ? "split" : "packed"; sfx = li == 1 ? "" : "-packed"
		n = tot = 0
		for (wi = 2; wi <= 4; wi++) for (di = 1; di <= 2; di++) for (si = 1; si <= nsz; si++) {
			k = vu_key(W[wi], "ivhost-user" sfx, D[di], SZ[si], "drops")
			if (!has(k)) continue
			n++; tot += MED[k]
		}
		nd = n ? sprintf("%d dropped (%d figures, w2-w3m)", tot, n) : "n/a"
		goal("ivhost-user: no frame dropped on a miss", lay, nd, "0",
			!n ? "n/a" : tot == 0 ? "**met**" : "not met")
	}
}

# chart-backends.png: pps of every backend, one panel per packet size.
function vu_chart(   si, s, f, wi, di, x, bi, k, items, tics, ncol, col, any, C, off) {
	vu_init()
	if (!vu_any()) return
	split("#4C72B0 #DD8452 #F2B27F #55A868 #8FD19E #C44E52 #E8959A", C, " ")
	gp("set terminal " TERM_ " size 1400,700")
	gp("set output \"chart-backends.png\"")
	gp("set bmargin 8")
	gp(sprintf("set multiplot layout 1,%d title %s", nsz, q("all backends, split and packed rings - throughput, median of " NRUNS " run" (NRUNS == 1 ? "" : "s"))))
	for (si = 1; si <= nsz; si++) {
		s = SZ[si]; f = "chart-backends-" s ".dat"
		col = "# x\tlabel"
		for (bi = 1; bi <= NB; bi++) col = col "\t" B[bi]
		print col > (OUT "/" f)
		tics = ""
		delete any
		for (wi = 1; wi <= 4; wi++) for (di = 1; di <= 2; di++) {
			x = (wi - 1) * 2.4 + (di - 1)
			col = x "\t" D[di]
			for (bi = 1; bi <= NB; bi++) {
				k = vu_key(W[wi], B[bi], D[di], s, "pps")
				if (has(k)) any[bi] = 1
				col = col "\t" val(k)
			}
			print col > (OUT "/" f)
			tics = tics (tics == "" ? "" : ", ") "\"" D[di] "\" " x
		}
		close(OUT "/" f)
		panel_common()
		gp("set boxwidth 0.12")
		gp("set key top right horizontal samplen 1 font \",8\" opaque")
		gp("set title " q(s "-byte packets"))
		gp("set xrange [-0.6:9]")
		gp("set xtics (" tics ")")
		gp("set ylabel \"thousand packets/s\"")
		for (wi = 1; wi <= 4; wi++)
			gp(sprintf("set label %s at first %g, graph -0.07 center font \",9\"", q(WL[wi]), (wi - 1) * 2.4 + 0.5))
		items = ""
		for (bi = 1; bi <= NB; bi++) {
			if (!(bi in any)) continue
			off = (bi - (NB + 1) / 2) * 0.13
			items = items ", " q(f) sprintf(" using ($1%+.2f):($%d/1000)", off, bi + 2) \
				" with boxes lc rgb " q(C[bi]) " title " q(BN[B[bi]])
		}
		if (items == "") gp("plot 2 notitle")
		else gp("plot " substr(items, 3))
	}
	gp("unset multiplot")
}
