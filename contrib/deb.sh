#!/bin/sh
# make deb: builds $BUILD/driveshaft_VERSION_ARCH.deb with dpkg-deb from a
# `make install PREFIX=/usr` tree: binaries built with Debian's hardening
# flags and stripped, man pages and changelog compressed, copyright, the
# maintainer scripts of contrib/debian, every file under /etc a conffile,
# Depends from dpkg-shlibdeps. Prints the path of the .deb.
set -eu
: "${VERSION:?}" "${BUILD:=build}"
cd "$(dirname "$0")/.."
top=$PWD
arch=$(dpkg --print-architecture)
obj=$BUILD/deb-obj
stage=$top/$BUILD/deb/driveshaft
deb=$top/$BUILD/driveshaft_${VERSION}_$arch.deb
export DEB_BUILD_MAINT_OPTIONS=hardening=+all

# _FORTIFY_SOURCE marks write(2) and ftruncate(2) warn_unused_result, which
# a (void) cast does not silence; the places that ignore them mean to
make --no-print-directory BUILD="$obj" \
	CFLAGS="$(dpkg-buildflags --get CFLAGS) -Wno-unused-result" \
	CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
	LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
	"$obj/driveshaft" "$obj/driveshaft-worker" >/dev/null
rm -rf "$stage"
PREFIX=/usr DESTDIR=$stage BUILD=$obj VERSION=$VERSION sh contrib/install.sh >/dev/null

strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$stage/usr/sbin/driveshaft" "$stage/usr/libexec/driveshaft/driveshaft-worker"
gzip -9n "$stage/usr/share/man/man8/driveshaft.8" \
	"$stage/usr/share/man/man8/driveshaft-worker.8"
doc=$stage/usr/share/doc/driveshaft
install -m 644 contrib/debian/copyright "$doc/copyright"
when=$(git log -1 --format=%ct 2>/dev/null || date +%s)
{
	printf 'driveshaft (%s) unstable; urgency=medium\n\n' "$VERSION"
	printf '  * Release %s: see /usr/share/doc/driveshaft/README.md.\n\n' "$VERSION"
	printf ' -- Driveshaft maintainers <driveshaft@example.org>  %s\n' \
		"$(LC_ALL=C date -R -u -d "@$when")"
} | gzip -9n > "$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

# 0640 on purpose: the jobs config may hold endpoint credentials, and the
# postinst gives it the service user's group
install -d "$stage/usr/share/lintian/overrides"
echo "driveshaft: non-standard-file-perm 0640 != 0644 [etc/driveshaft/jobs.json]" \
	> "$stage/usr/share/lintian/overrides/driveshaft"
chmod 644 "$stage/usr/share/lintian/overrides/driveshaft"

install -d -m 755 "$stage/DEBIAN"
for f in postinst prerm postrm; do
	install -m 755 "contrib/debian/$f" "$stage/DEBIAN/$f"
done
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') > "$stage/DEBIAN/conffiles"
chmod 644 "$stage/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control beside it
shl=$top/$BUILD/deb/shlibs
rm -rf "$shl" && mkdir -p "$shl/debian"
printf 'Source: driveshaft\n\nPackage: driveshaft\nArchitecture: any\n' > "$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O "$stage/usr/sbin/driveshaft" \
	"$stage/usr/libexec/driveshaft/driveshaft-worker" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
size=$(du -k -s --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
	-e "s|@DEPENDS@|$depends|" contrib/debian/control.in > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' |
	sort | xargs md5sum) > "$stage/DEBIAN/md5sums"
chmod 644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 755 {} +

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
