#!/bin/bash
# install.sh - "make install DESTDIR=..." and the systemd unit it installs.
#
# Installs the build tree into a temporary DESTDIR (twice: the second must
# keep an edited configuration), checks every file and the paths the unit
# was generated with, uninstalls (the edited configuration stays, nothing
# else does), and checks the unit with systemd-analyze: "verify" must be
# clean and "security --offline=true" must rate it 2.0 or lower.
. "$(dirname "$0")/lib.sh"

SY_MAX_EXPOSURE=2.0

: "${SY_BUILDDIR:=${SY_BIN%/src/switchyard}}"
if [ ! -f "$SY_BUILDDIR/Makefile" ]; then
	fail "no Makefile in the build directory $SY_BUILDDIR"
	exit 1
fi

# make in the build tree, as a fresh top-level make: the jobserver of the
# "make check" running us is not ours to use.
sy_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    make -s -C "$SY_BUILDDIR" "$@"
}

# The installation directories, as make expands them.
eval "$(sy_make -f Makefile -f - sy-print-dirs <<'EOF'
sy-print-dirs:
	@echo "sbindir='$(sbindir)' sysconfdir='$(sysconfdir)' mandir='$(mandir)'"
	@echo "includedir='$(includedir)' pkgdatadir='$(pkgdatadir)'"
	@echo "pkgconfigdir='$(pkgconfigdir)'"
	@echo "unitdir='$(SYSTEMD_UNITDIR)'"
EOF
)"
# shellcheck disable=SC2154
if [ -z "${sbindir:-}" ] || [ -z "${unitdir:-}" ]; then
	fail "cannot read the installation directories from the Makefile"
	exit 1
fi
info "sbindir $sbindir, sysconfdir $sysconfdir, unit directory $unitdir"

root=$SY_TMP/root
conf=$root$sysconfdir/switchyard/switchyard.json
unit=$root$unitdir/switchyard.service
expected="$root$sbindir/switchyard
$root$includedir/switchyard.h
$root$pkgconfigdir/switchyard.pc
$root$mandir/man8/switchyard.8
$root$mandir/man5/switchyard.json.5
$root$mandir/man3/switchyard-handler.3
$unit
$root$unitdir/switchyard.socket
$conf
$root$pkgdatadir/switchyard.schema.json
$root$pkgdatadir/switchyard.json
$root$pkgdatadir/fastapi-scenarios.json"

# -- install -------------------------------------------------------------------
if sy_make install DESTDIR="$root" >"$SY_TMP/install.log" 2>&1; then
	ok "make install DESTDIR=..."
else
	fail "make install DESTDIR=... failed:"
	tail -20 "$SY_TMP/install.log" | sed 's/^/#   /'
	exit 1
fi
installed=$(cd "$root" && find . -type f | sed "s|^\.|$root|" | sort)
if [ "$installed" = "$(printf '%s\n' "$expected" | sort)" ]; then
	ok "installed exactly the $(printf '%s\n' "$expected" | wc -l) expected files"
else
	fail "installed files differ from the expected ones:"
	diff <(printf '%s\n' "$expected" | sort) <(printf '%s\n' "$installed") |
	    sed 's/^/#   /'
fi
check "the installed binary runs" "$root$sbindir/switchyard" -V
# conf/switchyard.json and the pid_file the unit's RuntimeDirectory holds,
# so that "switchyard -s reload" works out of the box.
check "the installed configuration is conf/switchyard.json with a pid_file" \
    eval 'diff "$SY_SRCDIR/conf/switchyard.json" "$conf" | grep -qx "> *\"pid_file\": \"/run/switchyard/switchyard.pid\"," &&
        [ "$(diff "$SY_SRCDIR/conf/switchyard.json" "$conf" | grep -c "^[<>]")" = 1 ]'
check "the installed manual pages name the configured paths ($sysconfdir)" \
    eval 'grep -q "$sysconfdir/switchyard/switchyard.json" "$root$mandir/man8/switchyard.8" &&
        { [ "$sysconfdir" = /usr/local/etc ] || ! grep -q /usr/local/etc "$root$mandir/man8/switchyard.8" "$root$mandir/man5/switchyard.json.5"; }'
check "the installed configuration passes -t" \
    "$root$sbindir/switchyard" -t -c "$conf"
check "the installed header is include/switchyard.h" \
    cmp -s "$root$includedir/switchyard.h" "$SY_SRCDIR/include/switchyard.h"

# -- the unit's paths ----------------------------------------------------------
if grep -q '@[a-z]*@' "$unit"; then
	fail "the unit has unsubstituted @...@: $(grep '@[a-z]*@' "$unit")"
fi
want="ExecStart=$sbindir/switchyard -c $sysconfdir/switchyard/switchyard.json"
if grep -qxF "$want" "$unit"; then
	ok "the unit runs $sbindir/switchyard with $sysconfdir/switchyard/switchyard.json"
else
	fail "the unit has no line \"$want\": $(grep '^ExecStart=' "$unit")"
fi
want="ExecStartPre=$sbindir/switchyard -t -c $sysconfdir/switchyard/switchyard.json"
check "the unit checks the configuration before starting" grep -qxF "$want" "$unit"
for line in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' \
    Restart=on-failure "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN" \
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN" DynamicUser=yes \
    "SystemCallFilter=bpf capset" \
    RuntimeDirectory=switchyard LogsDirectory=switchyard; do
	check "the unit sets $line" grep -qxF "$line" "$unit"
done
check "the unit sets LimitNOFILE=" grep -q '^LimitNOFILE=[0-9]' "$unit"

# -- a second install keeps an edited configuration ----------------------------
sed -i 's/"workers": 2/"workers": 3/' "$conf"
cp "$conf" "$SY_TMP/edited.json"
if sy_make install DESTDIR="$root" >"$SY_TMP/install2.log" 2>&1; then
	check "a second make install keeps the edited configuration" \
	    cmp -s "$conf" "$SY_TMP/edited.json"
	check "and says so" grep -q 'keeping the existing' "$SY_TMP/install2.log"
else
	fail "the second make install failed:"
	tail -20 "$SY_TMP/install2.log" | sed 's/^/#   /'
fi

# -- systemd-analyze ---------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd-analyze not found: install the Debian package systemd (scripts/deps test)"
else
	out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
	level=$(printf '%s\n' "$out" |
	    sed -n 's/.*Overall exposure level for switchyard.service: \([0-9.]*\).*/\1/p')
	if [ -z "$level" ]; then
		fail "systemd-analyze security printed no exposure level:"
		printf '%s\n' "$out" | tail -5 | sed 's/^/#   /'
	elif awk -v l="$level" -v m="$SY_MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'; then
		ok "systemd-analyze security: exposure $level (at most $SY_MAX_EXPOSURE)"
	else
		fail "systemd-analyze security: exposure $level, above $SY_MAX_EXPOSURE:"
		printf '%s\n' "$out" | grep '✗' | sed 's/^/#   /'
	fi

	# verify wants the commands to exist: the same unit, pointing into
	# DESTDIR, under the same name; the man pages for Documentation=.
	mkdir -p "$SY_TMP/verify"
	sed "s|$sbindir/switchyard|$root$sbindir/switchyard|g" "$unit" \
	    >"$SY_TMP/verify/switchyard.service"
	cp "$root$unitdir/switchyard.socket" "$SY_TMP/verify/"
	man=--man=yes
	if ! command -v man >/dev/null 2>&1; then
		info "no man(1): Documentation= not checked"
		man=--man=no
	fi
	if out=$(MANPATH=$root$mandir systemd-analyze verify "$man" \
	    "$SY_TMP/verify/switchyard.service" \
	    "$SY_TMP/verify/switchyard.socket" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify: clean (service and socket)"
	else
		fail "systemd-analyze verify:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
fi

# -- uninstall -----------------------------------------------------------------
if sy_make uninstall DESTDIR="$root" >"$SY_TMP/uninstall.log" 2>&1; then
	left=$(cd "$root" && find . -type f | sed "s|^\.|$root|")
	if [ "$left" = "$conf" ]; then
		ok "make uninstall removes everything but the edited configuration"
	else
		fail "after make uninstall: $(echo $left)"
	fi
else
	fail "make uninstall failed:"
	tail -20 "$SY_TMP/uninstall.log" | sed 's/^/#   /'
fi
# Unchanged, it goes too.
cp "${SY_BIN%/src/switchyard}/conf/switchyard.installed.json" "$conf"
if sy_make uninstall DESTDIR="$root" >/dev/null 2>&1 &&
    [ -z "$(cd "$root" && find . -type f)" ]; then
	ok "make uninstall removes an unchanged configuration"
else
	fail "make uninstall leaves: $(cd "$root" && find . -type f)"
fi
