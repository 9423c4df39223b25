#!/bin/sh
# Installs what the build and the tests need, on Debian, when run as root;
# elsewhere prints the exact command and fails. `deps.sh bench`: only what
# make bench needs beyond that (it is not part of make check).
set -u

missing=""
need_pkg() { # package, test command
	pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}

if [ "${1:-}" = bench ]; then
	need_pkg nginx          test -x /usr/sbin/nginx
	need_pkg valgrind       command -v callgrind_annotate
	need_pkg strace         command -v strace
	need_pkg iproute2       command -v ss
else
need_pkg gcc            command -v cc
need_pkg make           command -v make
need_pkg pkg-config     command -v pkg-config
need_pkg libgearman-dev pkg-config --exists gearmand
need_pkg libcurl4-openssl-dev pkg-config --exists libcurl
need_pkg libcjson-dev   pkg-config --exists libcjson
need_pkg check          pkg-config --exists check
need_pkg gearman-job-server test -x /usr/sbin/gearmand
need_pkg gearman-tools  command -v gearadmin
need_pkg python3        command -v python3
need_pkg procps         command -v ps
need_pkg prometheus     command -v promtool
# the operators' kit (t/integration/test_ops_*.py): the PHP example endpoint,
# rsyslog and logrotate with the contrib snippets, the man pages, the .deb
# and its lint, the unit file's verification, the init script's helpers
need_pkg php-cli        command -v php
# FastCGI pools against a real php-fpm (t/integration/test_fastcgi*.py)
need_pkg php-fpm        sh -c 'ls /usr/sbin/php-fpm*'
need_pkg rsyslog        test -x /usr/sbin/rsyslogd
need_pkg logrotate      test -x /usr/sbin/logrotate
need_pkg man-db         command -v man
need_pkg groff-base     command -v groff
need_pkg dpkg-dev       command -v dpkg-shlibdeps
need_pkg lintian        command -v lintian
need_pkg systemd        command -v systemd-analyze
need_pkg adduser        test -x /usr/sbin/adduser
need_pkg util-linux     command -v unshare
# the multi-host scenario's network namespaces (t/multihost/)
need_pkg iproute2       command -v ip
need_pkg shellcheck     command -v shellcheck
need_pkg cppcheck       command -v cppcheck
need_pkg file           command -v file
# counts the queue monitor's sends (t/integration/test_queue.py)
need_pkg strace         command -v strace
fi

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		{ echo "deps: '$cmd' failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: as root run: $cmd" >&2
exit 1
