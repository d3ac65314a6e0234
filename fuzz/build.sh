#!/bin/sh
# fuzz/build.sh - build the libFuzzer targets fuzz/build/fuzz_http and
# fuzz/build/fuzz_config with clang, ASan and UBSan, from the project's
# sources (every src/*.c and src/handlers/*.c but src/main.c).
#
# Needs ./configure to have been run once (for autoconfig.h), clang with
# libFuzzer, and the -dev packages the project builds with (libevent,
# jansson, libhttp-parser, libsystemd). Nothing outside fuzz/ is written:
# objects go to fuzz/build/obj.
#
# Usage: fuzz/build.sh   (CC=clang-14 to pick a compiler, OUT=dir for
# another build directory than fuzz/build)
#
# HTTP_PARSER_C=/path/to/http_parser.c fuzz/build.sh compiles that copy of
# http-parser with coverage instead of linking the system -lhttp_parser,
# so that libFuzzer is also guided by the parser's states. Use the version
# the system has (Debian 12: upstream 2.9.4 plus the post-release commits
# and the CVE-2020-8287 fix); a finding must then be confirmed with the
# default build, which is what the daemon runs.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$top/fuzz/build}
CC=${CC:-clang}

if [ ! -f "$top/autoconfig.h" ]; then
	echo "build.sh: $top/autoconfig.h is missing: run ./configure first" >&2
	exit 1
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer $SAN \
	-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-DHAVE_CONFIG_H -DSYSCONFDIR=\"/etc\" \
	-I$top -I$top/include -I$top/src \
	$(pkg-config --cflags libevent jansson)"
HP_LIB=-lhttp_parser
if [ -n "${HTTP_PARSER_C:-}" ]; then
	HP_LIB=
fi
LIBS="$(pkg-config --libs libevent_pthreads libevent jansson) \
	$HP_LIB $(pkg-config --libs libsystemd 2>/dev/null || true) \
	-lpthread"

mkdir -p "$out/obj"
objs=
for src in "$top"/src/*.c "$top"/src/handlers/*.c; do
	case $src in
	*/src/main.c) continue ;;
	esac
	obj=$out/obj/$(echo "${src#$top/src/}" | tr / _ | sed 's/\.c$/.o/')
	# Instrumented for coverage, but without libFuzzer's main().
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs="$objs $obj"
done
if [ -n "${HTTP_PARSER_C:-}" ]; then
	# Its own header, not /usr/include's, and the same flags upstream uses.
	$CC $CFLAGS -fsanitize=fuzzer-no-link -I"$(dirname "$HTTP_PARSER_C")" \
	    -DHTTP_PARSER_STRICT=0 -c "$HTTP_PARSER_C" -o "$out/obj/http_parser.o"
	objs="$objs $out/obj/http_parser.o"
fi

for t in fuzz_http fuzz_config; do
	$CC $CFLAGS -fsanitize=fuzzer "$top/fuzz/$t.c" $objs $LIBS \
	    -o "$out/$t"
	echo "built $out/$t"
done
