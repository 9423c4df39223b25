#!/bin/sh
# run.sh: builds the libFuzzer harnesses of t/fuzz/ and runs each one for a
# bounded time on its seed corpus in t/fuzz/corpus/<target>/. Not part of
# `make check`.
#
#   t/fuzz/run.sh [seconds] [target ...]    (default 60 s, every target)
#
# Targets: response config qmon_msg text status admin fcgi gm upgrade_state.
# Binaries, the grown corpus and any crash-* / leak-* / timeout-* files go
# to build/fuzz/.
set -eu

cd "$(dirname "$0")/../.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-response config qmon_msg text status admin fcgi gm upgrade_state}
OUT=build/fuzz
CC=${CC_FUZZ:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -I."
PKG="$(pkg-config --cflags --libs libcjson gearmand libcurl) -lm"

mkdir -p "$OUT"
srcs() {
	case $1 in
	response) echo worker/response.c worker/json.c common/text.c ;;
	config)	echo config/config.c config/cfg_util.c config/pool.c \
		    config/json_syntax.c config/server.c config/queue.c \
		    common/text.c ;;
	qmon_msg) echo common/qmon_msg.c ;;
	admin)	echo common/admin.c common/qmon_msg.c master/queue_view.c ;;
	fcgi)	echo worker/fcgi.c ;;
	text)	echo common/text.c ;;
	gm)	echo worker/gm_proto.c ;;
	status)	echo master/status_reply.c master/metrics.c master/table.c \
		    master/metrics_queue.c master/slot_page.c master/pidmap.c \
		    common/slot.c \
		    common/buf.c common/text.c common/parse.c ;;
	upgrade_state) echo master/upgrade_state.c \
		    master/upgrade_state_read.c master/upgrade_state_decode.c \
		    master/upgrade_state_check.c master/metrics.c \
		    master/metrics_queue.c master/queue_view.c \
		    common/qmon_msg.c common/buf.c common/slot.c ;;
	*)	echo "run.sh: unknown target $1" >&2; exit 1 ;;
	esac
}

rc=0
for t in $TARGETS; do
	bin=$OUT/fuzz_$t
	echo "== build $t"
	# shellcheck disable=SC2046,SC2086
	$CC $CFLAGS '-DDS_VERSION="0.1.0"' -o "$bin" t/fuzz/fuzz_$t.c \
	    $(srcs "$t") $PKG
	mkdir -p "$OUT/corpus_$t" "$OUT/artifacts_$t"
	echo "== run $t for ${SECS}s"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 \
	    -artifact_prefix="$OUT/artifacts_$t/" \
	    "$OUT/corpus_$t" "t/fuzz/corpus/$t" || rc=1
done
exit $rc
