#!/bin/sh
# make install: installs driveshaft into $DESTDIR$PREFIX (and $DESTDIR/etc).
#
#   $PREFIX/sbin/driveshaft                      the master
#   $PREFIX/libexec/driveshaft/driveshaft-worker  found by the master from
#                                                 its own location
#   $PREFIX/share/man/man8/driveshaft{,-worker}.8
#   $PREFIX/share/doc/driveshaft/                 README.md, examples/
#   /etc/init.d/driveshaft, /etc/default/driveshaft
#   /etc/rsyslog.d/driveshaft.conf, /etc/logrotate.d/driveshaft
#   /etc/driveshaft/jobs.json                     the example config, 0640:
#                 it may hold endpoint credentials; root's, group
#                 $SERVICE_GROUP (default driveshaft) when that group exists
#                 and we are root, so the service user can read it
#   systemd unit: /lib/systemd/system with PREFIX=/usr, else
#                 $PREFIX/lib/systemd/system
#
# Files an operator edits (/etc/default/driveshaft, /etc/driveshaft/jobs.json)
# are installed only where there is none yet.
set -eu
: "${PREFIX:=/usr/local}" "${DESTDIR:=}" "${BUILD:=build}" "${VERSION:=0}"
: "${SYSCONFDIR:=/etc}" "${SERVICE_GROUP:=driveshaft}"
cd "$(dirname "$0")/.."
sbindir=$PREFIX/sbin
libexecdir=$PREFIX/libexec/driveshaft
mandir=$PREFIX/share/man
docdir=$PREFIX/share/doc/driveshaft
if [ "$PREFIX" = /usr ]; then unitdir=/lib/systemd/system; else
	unitdir=$PREFIX/lib/systemd/system; fi

# file mode source destination [sed script]
put() {
	install -d "$DESTDIR$(dirname "$4")"
	sed -e "s|@SBINDIR@|$sbindir|g" -e "s|@VERSION@|$VERSION|g" "$3" > "$DESTDIR$4.tmp"
	chmod "$2" "$DESTDIR$4.tmp"
	mv "$DESTDIR$4.tmp" "$DESTDIR$4"
}
# the same, unless the operator has one
put_new() {
	[ -e "$DESTDIR$3" ] && { echo "install: keeping $DESTDIR$3"; return 0; }
	put file "$1" "$2" "$3"
}

# The jobs config is the operator's once installed: kept as it is.
install_jobs_config() {
	jobs=$SYSCONFDIR/driveshaft/jobs.json
	[ -e "$DESTDIR$jobs" ] && { echo "install: keeping $DESTDIR$jobs"; return 0; }
	put file 640 contrib/jobs.example.json "$jobs"
	if [ "$(id -u)" = 0 ] && getent group "$SERVICE_GROUP" >/dev/null; then
		chgrp "$SERVICE_GROUP" "$DESTDIR$jobs"
	else
		echo "install: $DESTDIR$jobs is 0640 without the group $SERVICE_GROUP: chgrp it to the service user's group"
	fi
}

install -d "$DESTDIR$sbindir" "$DESTDIR$libexecdir"
install -m 755 "$BUILD/driveshaft" "$DESTDIR$sbindir/driveshaft"
install -m 755 "$BUILD/driveshaft-worker" "$DESTDIR$libexecdir/driveshaft-worker"
put file 644 contrib/man/driveshaft.8 "$mandir/man8/driveshaft.8"
put file 644 contrib/man/driveshaft-worker.8 "$mandir/man8/driveshaft-worker.8"
put file 755 contrib/init.d/driveshaft "$SYSCONFDIR/init.d/driveshaft"
put_new 644 contrib/default/driveshaft "$SYSCONFDIR/default/driveshaft"
put file 644 contrib/driveshaft.service "$unitdir/driveshaft.service"
put file 644 contrib/rsyslog.d/driveshaft.conf "$SYSCONFDIR/rsyslog.d/driveshaft.conf"
put file 644 contrib/logrotate.d/driveshaft "$SYSCONFDIR/logrotate.d/driveshaft"
install_jobs_config
put file 644 README.md "$docdir/README.md"
put file 644 contrib/endpoint/job.php "$docdir/examples/job.php"
put file 644 contrib/jobs.example.json "$docdir/examples/jobs.json"
put file 644 contrib/jobs.fastcgi.example.json "$docdir/examples/jobs-fastcgi.json"
put file 644 contrib/php-fpm.example.conf "$docdir/examples/php-fpm-driveshaft.conf"
put file 644 contrib/logconfig.example "$docdir/examples/logconfig"
