#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / uninstall into a scratch DESTDIR (the real system is never touched), and the
# installed files checked against the binary they describe:
#
#   (a) make install DESTDIR=$tmp PREFIX=/usr: every file in place with its mode
#   (b) man -l --warnings renders xl4.8 and xl4.conf.5 without a warning (groff -ww too)
#   (c) every option 'xl4 help CMD' prints, for every command, appears in that command's
#       section of xl4.8: the man page cannot drift from the generated help
#   (d) the bash completion's command list and per-command option lists equal the help's,
#       and completing a few command lines gives the expected words
#   (e) systemd-analyze verify accepts the installed unit (skipped, loudly, without it)
#   (f) make uninstall DESTDIR=$tmp PREFIX=/usr leaves no file behind
#
# Prints "e2e install: N passed, N failed". Needs the built binary ($O/xl4), not root.
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$root/$O" ;; esac
XL4=$O/xl4
pass=0 fail=0

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check NAME CMD...: passes when CMD succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

[ -x "$XL4" ] || { echo "FATAL: $XL4 not built (make O=$O)"; exit 1; }
tmp=$(mktemp -d /tmp/xl4-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

# Commands from 'xl4 --help' (help and version take no options).
mapfile -t cmds < <("$XL4" --help | awk '/^Commands:/ {on=1; next} on && /^$/ {exit} on {print $1}' |
	grep -vx -e help -e version)
[ ${#cmds[@]} -ge 10 ] || { echo "FATAL: could not read the command list from xl4 --help"; exit 1; }

# help_opts CMD: every option of CMD's help, one a line (short and long forms).
help_opts() {
	"$XL4" help "$1" | awk '/^Options:/ {on=1; next} on' |
		grep -oP '^\s+\K(-[A-Za-z0-9], )?--[A-Za-z0-9-]+' | tr -d ',' | tr ' ' '\n'
}

echo "== (a) make install"
if make -s -C "$root" O="$O" install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	ok "make install exits 0"
else
	bad "make install exits 0"; cat "$tmp/install.log"
fi
declare -A want=(
	[usr/sbin/xl4]=755
	[usr/share/man/man8/xl4.8]=644
	[usr/share/man/man5/xl4.conf.5]=644
	[usr/share/bash-completion/completions/xl4]=644
	[usr/lib/systemd/system/xl4.service]=644
	[usr/share/doc/xl4/xl4.conf]=644
)
for f in "${!want[@]}"; do
	mode=$(stat -c %a "$dest/$f" 2>/dev/null)
	check "$f installed, mode ${want[$f]} (got ${mode:-missing})" [ "$mode" = "${want[$f]}" ]
done
n=$(find "$dest" -type f | wc -l)
check "nothing else installed ($n files)" [ "$n" -eq ${#want[@]} ]
unit=$dest/usr/lib/systemd/system/xl4.service
check "unit's ExecStart names PREFIX's binary" \
	grep -qx 'ExecStart=/usr/sbin/xl4 daemon -c /etc/xl4/xl4.conf' "$unit"
check "installed binary runs" bash -c '"$1" version >/dev/null' _ "$dest/usr/sbin/xl4"
mkdir -p "$tmp/sd"
make -s -C "$root" O="$O" install DESTDIR="$tmp/sd" PREFIX=/opt/x SYSTEMD_DIR=/etc/systemd/system >/dev/null 2>&1
check "SYSTEMD_DIR and PREFIX honoured" \
	grep -qx 'ExecStart=/opt/x/sbin/xl4 daemon -c /etc/xl4/xl4.conf' "$tmp/sd/etc/systemd/system/xl4.service"

echo "== (b) man pages render without warnings"
for page in man8/xl4.8 man5/xl4.conf.5; do
	f=$dest/usr/share/man/$page
	out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >"$tmp/page.txt")
	check "man -l --warnings $page: no warning${out:+ ($out)}" test -z "$out" -a -s "$tmp/page.txt"
	out=$(groff -man -ww -z "$f" 2>&1)
	check "groff -man -ww $page: no warning${out:+ ($out)}" [ -z "$out" ]
done

echo "== (c) every option of 'xl4 help CMD' is in xl4.8"
man8=$dest/usr/share/man/man8/xl4.8
for c in "${cmds[@]}"; do
	# The command's section: from its .SS "xl4 CMD ..." line to the next .SS/.SH, roff
	# hyphens made plain.
	sed -n "/^\.SS \"xl4 $c[ \"]/,/^\.S[SH] /p" "$man8" | sed 's/\\-/-/g' >"$tmp/sec"
	if [ ! -s "$tmp/sec" ]; then
		bad "xl4.8 has a section for '$c'"
		continue
	fi
	missing=()
	while read -r o; do
		grep -qP -- "(?<![A-Za-z0-9-])\Q$o\E(?![A-Za-z0-9-])" "$tmp/sec" || missing+=("$o")
	done < <(help_opts "$c")
	check "xl4.8 '$c' lists all $(help_opts "$c" | wc -l) options${missing[*]:+ (missing: ${missing[*]})}" \
		[ ${#missing[@]} -eq 0 ]
done

echo "== (d) bash completion matches the help"
comp=$dest/usr/share/bash-completion/completions/xl4
got=$(bash -c 'source "$1"; echo $_xl4_commands' _ "$comp" | tr ' ' '\n' | sort)
check "completion's commands = xl4 --help's" \
	[ "$got" = "$(printf '%s\n' "${cmds[@]}" help version | sort)" ]
for c in "${cmds[@]}"; do
	got=$(bash -c 'source "$1"; v=_xl4_opts_$2; echo ${!v}' _ "$comp" "$c" | tr ' ' '\n' | sort)
	want_opts=$(help_opts "$c" | sort)
	check "completion's '$c' options = xl4 help $c" [ "$got" = "$want_opts" ] ||
		diff <(echo "$want_opts") <(echo "$got") | sed 's/^/    /'
done
# complete WORDS...: what the completion offers for the last word.
complete_line() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xl4; echo ${COMPREPLY[*]}' \
		_ "$comp" "$@" 2>&1
}
check "xl4 da<TAB> -> daemon" [ "$(complete_line xl4 da)" = daemon ]
check "xl4 -v st<TAB> -> status stats" [ "$(complete_line xl4 -v st)" = "status stats" ]
check "xl4 daemon -m <TAB> -> modes" [ "$(complete_line xl4 daemon -m '')" = "auto native skb" ]
check "xl4 daemon -i <TAB> -> interfaces (lo)" bash -c '[[ " $1 " == *" lo "* ]]' _ "$(complete_line xl4 daemon -i '')"
mkdir -p "$tmp/files" && touch "$tmp/files/a.conf"
check "xl4 daemon -c <TAB> -> files" [ "$(complete_line xl4 daemon -c "$tmp/files/a")" = "$tmp/files/a.conf" ]
check "xl4 block add -f <TAB> -> files" [ "$(complete_line xl4 block add -f "$tmp/files/a")" = "$tmp/files/a.conf" ]
check "xl4 replay -w <TAB> -> files" [ "$(complete_line xl4 replay -w "$tmp/files/a")" = "$tmp/files/a.conf" ]
check "xl4 vip --mo<TAB> -> --mode" [ "$(complete_line xl4 vip --mo)" = "--mode" ]

echo "== (e) systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
	# A copy whose ExecStart names the DESTDIR binary (verify checks that it exists), and
	# MANPATH pointing at the installed pages (verify checks Documentation=man:...).
	mkdir -p "$tmp/verify"
	sed "s|^ExecStart=/usr/sbin/xl4|ExecStart=$dest/usr/sbin/xl4|" "$unit" >"$tmp/verify/xl4.service"
	if out=$(MANPATH=$dest/usr/share/man systemd-analyze verify "$tmp/verify/xl4.service" 2>&1) &&
		[ -z "$out" ]; then
		ok "systemd-analyze verify xl4.service"
	else
		bad "systemd-analyze verify xl4.service: $out"
	fi
	score=$(systemd-analyze security --offline=yes "$tmp/verify/xl4.service" 2>/dev/null |
		grep -oP 'Overall exposure level for xl4.service: \K.*')
	echo "     systemd-analyze security: ${score:-not available}"
else
	echo "SKIP systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)"
fi

echo "== (f) make uninstall"
if make -s -C "$root" O="$O" uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1; then
	ok "make uninstall exits 0"
else
	bad "make uninstall exits 0"; cat "$tmp/uninstall.log"
fi
left=$(find "$dest" ! -type d)
check "no file left after uninstall${left:+ ($left)}" [ -z "$left" ]

echo
echo "e2e install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
