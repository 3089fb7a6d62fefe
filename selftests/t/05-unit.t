#!/bin/bash
# C unit tests (selftests/unit/, built by make unit): the agent's parsers
# and arithmetic on fixed input.  They need no privilege, and prove it:
# run as root, they are run as user nobody with every capability dropped.
# Arguments are suite names (selftests/bin/unit ports mib ...).
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SA_BIN:-$root/selftests/bin}/unit
fixtures=$root/selftests/unit/fixtures
[ -x "$bin" ] || { echo "Bail out! $bin not built (make unit)"; exit 1; }
[ "$(id -u)" -eq 0 ] || exec env SA_FIXTURES="$fixtures" "$bin" "$@"

drop=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
      --bounding-set=-all --no-new-privs)
command -v setpriv >/dev/null || drop=(runuser -u nobody --)
# nobody may not reach the tree (a checkout under /root): a copy then.
if ! "${drop[@]}" test -x "$bin" -a -r "$fixtures/netstat-6.18"; then
	tmp=$(mktemp -d /tmp/synacct-unit.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	cp -r "$bin" "$fixtures" "$tmp/" && chmod -R a+rX "$tmp" ||
		{ echo "Bail out! cannot copy the unit tests to $tmp"; exit 1; }
	bin=$tmp/unit fixtures=$tmp/fixtures
fi
echo "# as $("${drop[@]}" id -un) (uid $("${drop[@]}" id -u)), no capabilities"
"${drop[@]}" env SA_FIXTURES="$fixtures" "$bin" "$@"
