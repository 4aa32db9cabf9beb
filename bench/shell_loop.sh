# 200 short commands in a pipeline-heavy loop (what build and CI scripts do): run with
# `dash bench/shell_loop.sh` natively and under Veil.
i=0
while [ $i -lt 40 ]; do
    n=$(echo "$i" | tr 0-9 a-j | wc -c)
    printf '%s\n' b a c "$n" | sort | uniq | head -2 > /dev/null
    i=$((i + 1))
done
