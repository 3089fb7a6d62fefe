#!/bin/bash
# The Debian package (make deb, configs/debian/), as make test-deb runs it
# after building it:
#   package  lintian has nothing to say (no error, no warning); its
#            version is the binary's; it holds every file make install
#            installs, every configs/*.service and the bash completion;
#            Depends names the package of every library the binary needs
#   install  a fresh Debian 12 root from Debian's packages (mmdebstrap);
#            apt installs the .deb, resolving its dependencies; synacct
#            --version; the unit neither enabled nor started; synacct
#            check inside the root reports what the tree's synacct
#            reports on the same namespace; apt-get purge leaves no path
#            of the package and no file named synacct
# Not part of make test: .ci/run runs it once (make test-deb).
#   selftests/deb/deb.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(package install)
LAB_REQUIRE=require_deb

require_deb() {
	local t
	for t in dpkg-deb dpkg-parsechangelog lintian mmdebstrap; do
		command -v "$t" >/dev/null || t_skip_all "tool: $t is not installed (make test-deb installs it)"
	done
	VERSION=$(dpkg-parsechangelog -l "$SA_ROOT/configs/debian/changelog" -SVersion)
	DEB=$SA_ROOT/synacct_${VERSION}_$(dpkg --print-architecture).deb
	[ -f "$DEB" ] || { echo "Bail out! $DEB not built (make deb)"; exit 1; }
}

# dep_of SONAME: the host package that holds the library the binary links.
dep_of() {
	local path p
	path=$(ldd "$SYNACCT" | awk -v s="$1" '$1 == s { print $3 }')
	for p in "$path" "$(realpath "$path")"; do
		dpkg -S "$p" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return
	done
}

sc_package() {
	local out rc lib pkg missing= want got
	t_like "$("$SYNACCT" --version | head -n 1)" "^synacct ${VERSION//./\\.} \\(commit " \
		"the package's version ($VERSION, configs/debian/changelog) is the binary's"
	out=$(lintian --fail-on error,warning "$DEB" 2>&1); rc=$?
	out=$(echo "$out" | grep -v "^running with root privileges")
	t_is "$rc:$out" "0:" "lintian: no error, no warning (overrides: none)"

	# Every library the binary needs is a dependency (from shlibs).
	for lib in $(readelf -d "$SYNACCT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		pkg=$(dep_of "$lib")
		dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "${pkg%%:*}" ||
			missing+=" $lib($pkg)"
	done
	t_is "$missing" "" "Depends names the package of each library the binary needs ($(readelf -d "$SYNACCT" | grep -c NEEDED) libraries)"

	# What make install installs (PREFIX=/usr, units where Debian 12 keeps
	# them) is in the package, with the same modes.
	make -s -C "$SA_ROOT" install DESTDIR="$LAB_DIR/inst" PREFIX=/usr UNITDIR=/lib/systemd/system \
		>"$LAB_DIR/make.out" 2>&1 || t_diag "$LAB_DIR/make.out"
	want=$(cd "$LAB_DIR/inst" && find . -type f -printf '%m %p\n' | sort)
	dpkg-deb -x "$DEB" "$LAB_DIR/pkg"
	# (dh_compress compresses the man page and the docs)
	got=$(cd "$LAB_DIR/pkg" && find . -type f -printf '%m %p\n' |
		sed 's#^\(.* ./usr/share/\(man\|doc\)/.*\)\.gz$#\1#' | sort)
	t_is "$(comm -23 <(echo "$want") <(echo "$got"))" "" \
		"the package holds every file make install installs ($(echo "$want" | wc -l)), with its mode"
	want=$(cd "$SA_ROOT/configs" && ls *.service | sed 's#^#./lib/systemd/system/#')
	t_is "$(cd "$LAB_DIR/pkg" && ls ./lib/systemd/system/*.service)" "$want" "every configs/*.service is in the package"
	want=$(cd "$SA_ROOT/configs" && ls *.bash-completion 2>/dev/null | sed 's#^#./usr/share/bash-completion/completions/#; s#\.bash-completion$##')
	t_is "$(cd "$LAB_DIR/pkg" && ls ./usr/share/bash-completion/completions/* 2>/dev/null)" "$want" \
		"the bash completion, when configs/ has one, is in the package"
	t_is "$(grep -l '^ExecStart=/usr/sbin/synacct ' "$LAB_DIR"/pkg/lib/systemd/system/*.service | wc -l)" \
		"$(ls "$SA_ROOT"/configs/*.service | wc -l)" "each unit runs /usr/sbin/synacct"
	# The Makefile's build packages and the package's Build-Depends are one
	# list (make and gcc come with build-essential).
	want=$(make -s -C "$SA_ROOT" --no-print-directory --eval='sa-print-debs: ; @echo $(BUILD_DEB_PKGS)' sa-print-debs |
		tr ' ' '\n' | grep -vx -e make -e gcc | sort | paste -sd' ')
	got=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$SA_ROOT/configs/debian/control" | sed 's/^Build-Depends://' |
		grep -v '^[A-Z]' | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep . | grep -vx -e debhelper-compat -e perl | sort | paste -sd' ')
	t_is "$got" "$want" "configs/debian/control's Build-Depends are the Makefile's BUILD_DEB_PKGS (and debhelper-compat, perl for the unit tests)"
	t_is "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" "/etc/synacct/synacct.conf" \
		"the config is a conffile (dpkg keeps the administrator's, purge removes it)"
}

# in_root CMD...: CMD in the Debian root, as root, no prompt.
in_root() {
	DEBIAN_FRONTEND=noninteractive chroot "$ROOT" "$@"
}

sc_install() {
	local t0 t1 rc out host mine p left= src=()
	ROOT=$LAB_DIR/root
	# Debian's own archive, as this machine's apt reaches it.
	[ -f /etc/apt/sources.list.d/debian.sources ] && src=(/etc/apt/sources.list.d/debian.sources)
	t0=$(date +%s)
	# In a mount namespace of its own: the root's /proc, /sys and /dev it
	# mounts while it installs stay out of the host's mount table.
	unshare -m mmdebstrap --variant=apt --skip=cleanup/apt/lists bookworm "$ROOT" "${src[@]}" \
		>"$LAB_DIR/mmdebstrap.out" 2>&1
	rc=$?
	t1=$(date +%s)
	t_is "$rc" 0 "mmdebstrap: a fresh Debian 12 root ($((t1 - t0)) s)"
	[ "$rc" -eq 0 ] || { t_diag "$LAB_DIR/mmdebstrap.out"; return; }
	[ -s "$ROOT/etc/resolv.conf" ] || cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	cp "$DEB" "$ROOT/tmp/"
	t0=$(date +%s)
	in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$DEB")" >"$LAB_DIR/apt.out" 2>&1
	rc=$?
	t1=$(date +%s)
	t_is "$rc" 0 "apt-get install ./$(basename "$DEB"): dependencies resolved from Debian ($((t1 - t0)) s)"
	[ "$rc" -eq 0 ] || { t_diag "$LAB_DIR/apt.out"; return; }
	rm "$ROOT/tmp/$(basename "$DEB")"
	t_is "$(in_root dpkg-query -W -f='${Status} ${Version}' synacct)" "install ok installed $VERSION" "installed"
	in_root dpkg -L synacct | grep -vx '/\.' >"$LAB_DIR/paths"
	# Built from a copy of the tree without git: no commit to name.
	t_is "$(in_root synacct --version 2>&1 | head -n 1)" "synacct $VERSION (commit unknown)" \
		"synacct --version in the root"
	# Not enabled (no link in any .wants directory), so nothing starts it
	# before the administrator has configured it.
	t_is "$(find "$ROOT/etc/systemd" -name '*synacct*' 2>/dev/null)" "" "the unit is not enabled"

	# synacct check against the lab's server namespace with a listener:
	# the packaged binary in the root (its /proc and /sys, the host's
	# kernel) reports what the tree's reports.
	lab_server 8080 --accept all
	host=$(ip netns exec "$SRV" "$SYNACCT" check --json 2>&1; echo "rc=$?")
	mine=$(ip netns exec "$SRV" sh -c 'mount -t proc proc "$1/proc" && mount --rbind /sys "$1/sys" &&
		exec chroot "$1" synacct check --json' sh "$ROOT" 2>&1; echo "rc=$?")
	t_like "$host" '"listeners":\[\{[^]]*"port":8080.*"status":"ok"\}.rc=0$' \
		"synacct check (the tree's): the lab's listener on 8080, status ok"
	t_is "$mine" "$host" "synacct check in the root: the same report, the same exit status"

	t0=$(date +%s)
	in_root apt-get purge -y synacct >"$LAB_DIR/purge.out" 2>&1
	rc=$?
	t1=$(date +%s)
	t_is "$rc" 0 "apt-get purge synacct ($((t1 - t0)) s)"
	t_is "$(in_root dpkg-query -W -f='${Status}' synacct 2>/dev/null)" "" "dpkg knows the package no more"
	# Each of its paths is gone, but a directory another package owns.
	while read -r p; do
		[ -e "$ROOT$p" ] || [ -L "$ROOT$p" ] || continue
		[ -d "$ROOT$p" ] && in_root dpkg -S "$p" >/dev/null 2>&1 && continue
		left+=" $p"
	done <"$LAB_DIR/paths"
	t_is "$left" "" "purge removed each of the package's $(wc -l <"$LAB_DIR/paths") paths (dpkg -L) but directories other packages own"
	t_is "$(find "$ROOT" -xdev -name '*synacct*' | sed "s#^$ROOT##")" "" \
		"... and no file named synacct is left anywhere (config, systemd state)"
}

lab_main "$@"
