# POSIX shell features that create processes: pipelines, subshells, command substitution,
# background jobs, traps and signals, redirections. Run by crates/cli/tests/shells.rs with dash
# and busybox sh, natively and under Veil; the output must not depend on pids or timing.

trap 'echo "trapped EXIT, status $?"' EXIT

echo "== pipelines"
printf 'pear\napple\nfig\napple\npear\napple\n' | sort | uniq -c | sort -n
seq 1 2000 | grep 7 | wc -l
printf '3\n1\n2\n' | sort -r | tr '\n' ' '
echo
false | true
echo "false|true: $?"
true | false
echo "true|false: $?"
! false | false
echo "negated pipeline: $?"

echo "== loops"
for w in one two three; do
    printf '%s:%d ' "$w" "${#w}"
done
echo
i=0
while [ "$i" -lt 5 ]; do
    i=$((i + 1))
    [ "$i" -eq 2 ] && continue
    printf '%d ' "$i"
done
echo
n=10
until [ "$n" -le 7 ]; do n=$((n - 1)); done
echo "until: $n"

echo "== subshells"
( cd / && pwd )
pwd | sed "s|^$PWD\$|unchanged|"
x=outer
( x=inner; echo "in subshell: $x" )
echo "after subshell: $x"
( exit 4 )
echo "subshell exit: $?"
{ echo "group"; echo "on one pipe"; } | wc -l

echo "== command substitution"
echo "$(echo "outer $(echo "inner $(echo deepest)")")"
lines=$(seq 1 10000 | wc -l)
echo "lines: $lines"
echo "backticks: `echo old style`"
count=$(for i in 1 2 3; do echo "$i"; done | wc -l)
echo "count: $count"
empty=$(true)
echo "empty: [$empty]"

echo "== here-documents"
name=world
cat <<EOF
hello $name
sum $((2 + 3)) and $(echo substituted)
EOF
cat <<'EOF'
literal $name $(echo not run)
EOF
tr a-z A-Z <<EOF | sed 's/^/  /'
piped $name
EOF

echo "== functions"
greet() {
    echo "greet $# args: $*"
    return 3
}
greet a b c
echo "function status: $?"
shifted() {
    shift 2
    echo "after shift: $1"
}
shifted x y z
path=/usr/lib/file.tar.gz
echo "${path##*/} ${path%.gz} ${path%%.*} ${unset_var:-default} ${#path}"
case "$path" in
*.tar.gz) echo "case: tarball" ;;
*) echo "case: other" ;;
esac

echo "== read from a pipe"
printf '1 apple\n2 banana\n3 cherry\n' | while read -r num fruit; do
    echo "$fruit=$num"
done
printf 'a:b:c\n' | {
    IFS=: read -r f1 f2 f3
    echo "fields $f3 $f2 $f1"
}

echo "== redirections"
tmp=$(mktemp -d /tmp/shell_features.XXXXXX)
echo first >"$tmp/file"
echo second >>"$tmp/file"
wc -l <"$tmp/file"
cat "$tmp/file" missing-file 2>"$tmp/err" >"$tmp/out"
echo "cat status: $?"
cat "$tmp/out"
wc -l <"$tmp/err"
exec 3>"$tmp/fd3"
echo "via fd 3" >&3
echo "again fd 3" >&3
exec 3>&-
cat "$tmp/fd3"
{ echo to-stdout; echo to-stderr >&2; } 2>&1 | sort
# `>` opens with O_CREAT|O_TRUNC, which must follow the magic links to the open files.
{ echo via-dev-stdout >/dev/stdout; echo via-dev-stderr >/dev/stderr; echo via-dev-fd >/dev/fd/1; } 2>&1 | sort
ls "$tmp" | sort | tr '\n' ' '
echo

echo "== background jobs"
for i in 1 2 3 4; do
    (sleep "0.0$i"; echo "job $i" >"$tmp/job$i") &
done
wait
cat "$tmp"/job*
(sleep 0.05; exit 7) &
pid=$!
wait "$pid"
echo "wait status: $?"
sleep 10 &
pid=$!
kill "$pid"
wait "$pid"
echo "killed job status: $?"
true &
wait $!
echo "true job: $?"

echo "== set -e"
(
    set -e
    echo "before false"
    false
    echo "not reached"
)
echo "set -e subshell status: $?"
(set -e; false || echo "|| keeps going"; echo "still here")
if (set -e; true); then echo "set -e true: ok"; fi

echo "== signals"
trap 'echo "got USR1"' USR1
kill -USR1 $$
echo "after kill"
trap - USR1
# In a subshell $$ is still the script's pid: a new shell signals itself.
sh -c 'trap "echo child shell got TERM; exit 5" TERM; kill -TERM $$; sleep 1' &
wait $!
echo "child shell signalled itself: $?"

rm -r "$tmp"
exit 3
