#!/usr/bin/env bash
# Builds the Debian package minidynamo_<version>_<arch>.deb (docs/operations.md, "Install from the
# Debian package"): the binary in /usr/bin, /etc/minidynamo/node.conf (every flag of
# `minidynamo node`, commented out at its default, but the data dir), the systemd unit, and the
# minidynamo user and /var/lib/minidynamo made at install by systemd-sysusers and systemd-tmpfiles.
#
#   scripts/package.sh [--binary PATH] [--out DIR]
#
# Without --binary it builds first (scripts/build.sh) and packages build/bin/minidynamo. The
# package goes to --out (default build/); its path is printed. The version is $PACKAGE_VERSION,
# or 0.1.0+git<number of commits>.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
out="build"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ]; then
  scripts/build.sh
  binary=build/bin/minidynamo
fi
[ -x "$binary" ] || { echo "package: $binary is not an executable" >&2; exit 1; }
version="${PACKAGE_VERSION:-0.1.0+git$(git rev-list --count HEAD 2>/dev/null || echo 0)}"
arch="$(dpkg --print-architecture)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
install -D -m 0755 "$binary" "$root/usr/bin/minidynamo"
strip --strip-unneeded "$root/usr/bin/minidynamo"
install -D -m 0644 deploy/systemd/minidynamo.service "$root/lib/systemd/system/minidynamo.service"
install -D -m 0644 deploy/debian/minidynamo.sysusers "$root/usr/lib/sysusers.d/minidynamo.conf"
install -D -m 0644 deploy/debian/minidynamo.tmpfiles "$root/usr/lib/tmpfiles.d/minidynamo.conf"
install -D -m 0644 docs/operations.md "$root/usr/share/doc/minidynamo/operations.md"

# The config file: the binary's own list of its flags (so it names every one), commented out at
# their defaults but the data dir. A clean environment: no MINIDYNAMO_* variable leaks in.
mkdir -p "$root/etc/minidynamo"
{
  cat <<'HEADER'
# /etc/minidynamo/node.conf: the flags of `minidynamo node` (see `minidynamo node --help` and
# /usr/share/doc/minidynamo/operations.md), one `name = value` a line, strings in double quotes,
# lists as ["a", "b"]. Flags on the command line and MINIDYNAMO_<NAME> environment variables
# override this file.
#
# Before the first start, say which cluster this node belongs to: `nodes` (the founding members,
# the same list on each of them) or `join` (a member's address), and how others reach it: `host`,
# or `listen` and `advertise`. Then: systemctl enable --now minidynamo
#
# Below, every flag under its help text; those commented out are at their defaults.

HEADER
  env -i "$root/usr/bin/minidynamo" node --print-config --data-dir /var/lib/minidynamo
} > "$root/etc/minidynamo/node.conf"
chmod 0644 "$root/etc/minidynamo/node.conf"

# Depends: the shared libraries the binary links, as dpkg-shlibdeps finds them.
mkdir -p "$work/src/debian"
printf 'Source: minidynamo\n\nPackage: minidynamo\nArchitecture: any\n' > "$work/src/debian/control"
depends="$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/minidynamo" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$root" | cut -f1)/" deploy/debian/control.in > "$root/DEBIAN/control"
echo /etc/minidynamo/node.conf > "$root/DEBIAN/conffiles"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"

mkdir -p "$out"
deb="$out/minidynamo_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
