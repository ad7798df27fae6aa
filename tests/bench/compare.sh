#!/bin/sh
# llm-compare over 8 models that each take 300 ms to answer (the test
# provider's delay-300: the answer's headers come after 300 ms): the wall
# time of the whole process divided by 300 ms.  All 8 requests run at
# once, so the target is at most 1.15.  Prints the median of RUNS runs,
# and beside it the same for one model: what the process costs apart
# from the concurrency.  Asserts nothing.
#
#   LLM_BUILD=$PWD/build/NAME sh tests/bench/compare.sh
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build/bench}
RUNS=${BENCH_RUNS:-7}
DELAY=300
T=$(mktemp -d "${TMPDIR:-/tmp}/llm-bench-compare.XXXXXX")
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

"$BUILD/tests/fake/fakellm" -p "$T/port" -t 900 2>/dev/null &
FAKE_PID=$!
while [ ! -s "$T/port" ]; do sleep 0.01; done
URL=http://127.0.0.1:$(cat "$T/port")/v1
export HOME="$T" LLM_DEFAULT_CONFIG="$T/none" LLM_CONFIG="$T/llm.ini"
export BENCH_KEY=sk-bench
cat >"$LLM_CONFIG" <<EOT
[defaults]
database = $T/llm.db
retries = 0
[provider.fake]
type = openai
base_url = $URL
api_key = \${BENCH_KEY}
EOT
COMPARE=$BUILD/bin/llm-compare
models=
for i in 1 2 3 4 5 6 7 8; do
	models="$models${models:+,}fake/echo-$i+delay-$DELAY"
done

now_ns() { date +%s%N; }

# median FILE: the median of the numbers in FILE, in ms.
median() {
	sort -n "$1" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] / 1e6 }'
}

# Warm up (the log is created), then alternate 8 models and 1, so that
# drift in the machine's load hits both alike.
"$COMPARE" -m "$models" hello world >/dev/null 2>&1 </dev/null
: >"$T/eight"
: >"$T/one"
i=0
while [ $i -lt "$RUNS" ]; do
	t0=$(now_ns)
	"$COMPARE" -m "$models" hello world >"$T/out" 2>&1 </dev/null
	t1=$(now_ns)
	"$COMPARE" -m "fake/echo+delay-$DELAY" hello world >/dev/null 2>&1 </dev/null
	t2=$(now_ns)
	echo $((t1 - t0)) >>"$T/eight"
	echo $((t2 - t1)) >>"$T/one"
	i=$((i + 1))
done
if [ "$(grep -c '^== fake/echo-' "$T/out")" -ne 8 ]; then
	echo "llm-compare did not print 8 answers:" >&2
	cat "$T/out" >&2
	exit 1
fi
awk -v e="$(median "$T/eight")" -v o="$(median "$T/one")" -v d="$DELAY" \
	-v n="$RUNS" 'BEGIN {
	printf "llm-compare, models answering after %d ms each (median of %d runs):\n", d, n
	printf "  8 models   %7.1f ms   ratio %.2f x %d ms (target <= 1.15)\n", e, e / d, d
	printf "  1 model    %7.1f ms   ratio %.2f x %d ms (the process and one request)\n", o, o / d, d
}'
