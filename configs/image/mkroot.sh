#!/bin/sh
# The image's root file system, from Debian's packages (make image):
#   configs/image/mkroot.sh DEB DIR
# mmdebstrap's extract variant unpacks synacct's .deb (DEB) and the
# packages apt resolves as its dependencies (its runtime libraries) into
# DIR, and nothing else: no Essential set, no shell, no apt, no dpkg.
# Extracted, not installed, so this does what their installation would
# have done that synacct needs, and strips what nothing in the image runs.
set -eu
deb=$(realpath "$1")
root=$2
debdir=$(dirname "$deb")
src=
# Debian's archive as this machine's apt reaches it.
[ -f /etc/apt/sources.list.d/debian.sources ] && src=/etc/apt/sources.list.d/debian.sources
rm -rf "$root" && mkdir -p "$(dirname "$root")"
# apt reads the .deb inside the root, at the path given on the command
# line: the setup hook copies it there, and it goes with the rest below.
unshare -m mmdebstrap --quiet --variant=extract --skip=cleanup/apt \
	--setup-hook="mkdir -p \"\$1$debdir\" && cp \"$deb\" \"\$1$debdir/\"" \
	--include="$deb" bookworm "$root" $src
# A dpkg status database, so that image scanners see which Debian
# packages (and versions) the image holds.
mkdir -p "$root/var/lib/dpkg"
for f in "$root"/var/cache/apt/archives/*.deb "$root$deb"; do
	[ -f "$f" ] || continue
	dpkg-deb -f "$f" Package Version Architecture Maintainer Installed-Size Multi-Arch Source Depends Pre-Depends Description |
		sed '1a Status: install ok installed'
	echo
done >"$root/var/lib/dpkg/status"
[ -s "$root/var/lib/dpkg/status" ] || { echo "mkroot.sh: no package in $root" >&2; exit 1; }
# The dynamic loader finds the libraries in the multiarch directories
# through its cache (libc-bin's trigger, which did not run).
ldconfig -r "$root"
# Documentation but the licences, translations, apt's caches and lists,
# the copied .deb, the host's resolver and name (podman and the kubelet
# bind their own), lintian overrides, glibc's iconv modules (gconv: only
# iconv_open of a charset other than UTF-8 and ASCII loads one, and
# nothing synacct links does): nothing in the image reads them.
find "$root/usr/share/doc" ! -type d ! -name copyright -delete
rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/locale" \
	"$root/usr/share/lintian" "$root/usr/share/bash-completion" \
	"$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/gconv" \
	"$root/var/cache/apt" "$root/var/lib/apt" "$root/etc/apt" "$root/etc/dpkg" \
	"$root/$(echo "$debdir" | cut -d/ -f2)" "$root/etc/resolv.conf" "$root/etc/hostname"
mkdir -p "$root/run/synacct" "$root/sys/fs/bpf" "$root/proc" "$root/tmp" "$root/var/log/pods"
chmod 1777 "$root/tmp"
