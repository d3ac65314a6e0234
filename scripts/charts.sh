# scripts/charts.sh - progress lines and gnuplot charts for scripts/loadtest
# and scripts/bench (sourced by bash, not run).
#
# Progress goes to stderr, a line a step, and only when stderr is a
# terminal, so a run redirected to a file or piped into another program
# stays quiet:
#
#	progress_start 12		# 12 steps in all
#	progress "scenario /ping"	# "[1/12] scenario /ping"
#	progress "scenario /cpu"	# "[2/12] scenario /cpu, ~40 s left"
#
# The time left is the mean time of the steps done so far times the steps
# to go (nothing is said before the first step is over).
#
# The charts are PNG files drawn by gnuplot (Debian gnuplot-nox) with the
# pngcairo terminal, small enough to commit (a few tens of KB): a bar per
# row of a data file, or a cluster of bars, on a log scale when the
# values span more than two decades.

PROGRESS_TOTAL=0 PROGRESS_DONE=0 PROGRESS_T0=0

progress_start() { # steps
	PROGRESS_TOTAL=$1 PROGRESS_DONE=0 PROGRESS_T0=$SECONDS
}

progress() { # what the next step does
	local left=''
	PROGRESS_DONE=$((PROGRESS_DONE + 1))
	[[ -t 2 ]] || return 0
	if ((PROGRESS_DONE > 1)); then
		left=", ~$(((SECONDS - PROGRESS_T0) * (PROGRESS_TOTAL - PROGRESS_DONE + 1) /
			(PROGRESS_DONE - 1))) s left"
	fi
	printf '[%d/%d] %s%s\n' "$PROGRESS_DONE" "$PROGRESS_TOTAL" "$1" "$left" >&2
}

# chart_dir DIR: create it and print its absolute path; gnuplot must be
# there (checked before anything runs, not after minutes of load).
chart_dir() {
	command -v gnuplot >/dev/null 2>&1 ||
		die "--plot needs gnuplot: install the Debian package gnuplot-nox (apt-get install gnuplot-nox)"
	mkdir -p "$1" || die "cannot create the chart directory '$1'"
	(cd "$1" && pwd)
}

# The terminal, fonts and style every chart shares.
chart_head() { # png title
	cat <<EOF
set terminal pngcairo size 1000,440 font "DejaVu Sans,10" noenhanced
set output "$1"
set title "$2"
set style fill solid 0.85 border -1
set grid ytics lc rgb "#dddddd"
set key inside top right vertical opaque box lc rgb "#cccccc"
set xtics nomirror rotate by -20 font ",8"
set ytics nomirror
set border 3
set bmargin 5
# room for the last rotated x label, which runs right of its bar
set rmargin 30
# A bar's value as text: whole numbers from 100 on, 3 digits below.
fmt(v) = v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v)
EOF
}

# chart_log DATAFILE COLUMN...: "set logscale y" when the positive values
# of those columns span more than two decades, with the range to match.
chart_log() {
	local f=$1
	shift
	awk -v cols="$*" 'BEGIN { n = split(cols, c, " ") }
		/^#/ { next }
		# A quoted label is one column, as gnuplot reads it.
		{ sub(/^"[^"]*"/, "label") }
		{ for (i = 1; i <= n; i++) { v = $(c[i]) + 0
			if (v > 0 && (min == "" || v < min)) min = v
			if (v > max) max = v } }
		END { if (min != "" && max / min > 100)
			printf "set logscale y\nset yrange [%g:%g]\n", 10 ^ int(log(min) / log(10) - 1), max * 30
		      else
			printf "set yrange [0:%g]\n", max * 1.5 }' "$f"
}

# chart_bars PNG TITLE YLABEL DATAFILE: one bar per row of DATAFILE, whose
# columns are: label (no spaces), group (no spaces: the bar's colour and
# the key, e.g. the mode), value. Each bar carries its value as text, and
# its label names the group too, so colour is never the only signal.
chart_bars() {
	local png=$1 title=$2 ylabel=$3 dat=$4 groups
	# The groups in order of appearance; a fourth column, the colour.
	groups=$(awk '!/^#/ && !seen[$2]++ { printf "%s ", $2 }' "$dat")
	awk -v groups="$groups" 'BEGIN { n = split(groups, g, " ")
		split("1f4e99 9a3b00 1d6b2f 7b2d8e 8f1020 00707a", c, " ")
		for (i = 1; i <= n; i++) col[g[i]] = c[(i - 1) % 6 + 1] }
		!/^#/ { print $1, $2, $3, col[$2] }' "$dat" >"$dat.c"
	{
		chart_head "$png" "$title"
		echo "set ylabel \"$ylabel\""
		chart_log "$dat" 3
		cat <<EOF
set boxwidth 0.7
set xrange [-0.6:$(grep -vc '^#' "$dat") - 0.4]
groups = "$groups"
colors = "#1f4e99 #9a3b00 #1d6b2f #7b2d8e #8f1020 #00707a"
plot "$dat.c" using 0:3:(int("0x".strcol(4))):xtic(strcol(1)."\\n(".strcol(2).")") \\
	with boxes lc rgb variable notitle, \\
     "$dat.c" using 0:3:(fmt(\$3)) with labels offset 0,0.7 font ",9" notitle, \\
     for [k = 1:words(groups)] NaN with boxes lc rgb word(colors, k) title word(groups, k)
EOF
	} | gnuplot || die "gnuplot failed on $png"
	rm -f "$dat.c"
}

# chart_cluster PNG TITLE YLABEL DATAFILE NAMES [LINE_Y LINE_TITLE]: per
# row a cluster of bars, one per value column (label first, then the
# values; NAMES the values' titles, space-separated), and optionally a
# dashed horizontal line at LINE_Y (a bound or a target).
chart_cluster() {
	local png=$1 title=$2 ylabel=$3 dat=$4 names=$5 line_y=${6:-} line_t=${7:-}
	local n i cols='' plot=''
	n=$(wc -w <<<"$names")
	for ((i = 2; i <= n + 1; i++)); do cols+=" $i"; done
	for ((i = 1; i <= n; i++)); do
		plot+="${plot:+, }\"$dat\" using $((i + 1)):xtic(1) title \"$(cut -d' ' -f"$i" <<<"$names")\" lc rgb word(colors, $i)"
	done
	for ((i = 1; i <= n; i++)); do
		# Bar i of a cluster of n (gap 1): centred at x + (i - 1 - (n - 1) / 2) / (n + 1).
		plot+=", \"$dat\" using (\$0 + ($i - 1 - ($n - 1) / 2.0) / ($n + 1)):$((i + 1)):(fmt(\$$((i + 1)))) with labels offset 0,0.7 font \",8\" notitle"
	done
	[[ -z $line_y ]] ||
		plot+=", $line_y with lines dt 2 lw 2 lc rgb \"#8f1020\" title \"$line_t\""
	{
		chart_head "$png" "$title"
		echo "set ylabel \"$ylabel\""
		# The line, when any, is inside the range too.
		chart_log <(cat "$dat"; [[ -z $line_y ]] || echo "line $line_y") $cols
		cat <<EOF
set xrange [-0.6:$(grep -vc '^#' "$dat") - 0.4]
set style data histogram
set style histogram cluster gap 1
set boxwidth 0.9 relative
colors = "#1f4e99 #9a3b00 #1d6b2f #7b2d8e"
plot $plot
EOF
	} | gnuplot || die "gnuplot failed on $png"
}
