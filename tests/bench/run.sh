#!/bin/sh
# make bench: measurements printed side by side, nothing asserted.
#
#   1. wall time of one whole llm-chat --no-stream process against curl
#      sending the same request to the local test provider;
#   2. peak RSS of llm-chat streaming a 1 MB answer.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build/bench}
N=${BENCH_N:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/llm-bench.XXXXXX")
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
[provider.fake]
type = openai
base_url = $URL
api_key = \${BENCH_KEY}
EOT
CHAT=$BUILD/bin/llm-chat
BODY='{"model":"echo","messages":[{"role":"user","content":"hello world"}]}'

now_ns() { date +%s%N; }

# run_n N CMD...: total nanoseconds of N runs.
run_n() {
	n=$1
	shift
	t0=$(now_ns)
	i=0
	while [ $i -lt "$n" ]; do
		"$@" >/dev/null 2>&1 </dev/null
		i=$((i + 1))
	done
	echo $(($(now_ns) - t0))
}

chat_log() { "$CHAT" --no-stream -m fake/echo hello world; }
chat_nolog() { "$CHAT" --no-stream --no-log -m fake/echo hello world; }
curl_req() {
	curl -s -H "Authorization: Bearer $BENCH_KEY" \
		-H 'Content-Type: application/json' -d "$BODY" "$URL/chat/completions"
}

# Warm up, then alternate blocks so that drift hits all three alike.
run_n 5 chat_log >/dev/null
run_n 5 curl_req >/dev/null
c=0 l=0 q=0
for _ in 1 2 3 4; do
	q=$((q + $(run_n $((N / 4)) curl_req)))
	l=$((l + $(run_n $((N / 4)) chat_log)))
	c=$((c + $(run_n $((N / 4)) chat_nolog)))
done
printf 'wall time, %d runs each (ms per run):\n' "$N"
awk -v q="$q" -v l="$l" -v c="$c" -v n="$N" 'BEGIN {
	printf "  curl                      %7.2f\n", q / n / 1e6
	printf "  llm-chat --no-stream      %7.2f   ratio %.2fx curl (target <= 1.5)\n", l / n / 1e6, l / q
	printf "  llm-chat --no-log         %7.2f   ratio %.2fx curl\n", c / n / 1e6, c / q
}'

base=$("$BUILD/tests/bench/rss" -o /dev/null "$CHAT" -m fake/echo go)
kib=$("$BUILD/tests/bench/rss" -o "$T/big.out" "$CHAT" -m fake/big-1048576 go)
bytes=$(wc -c <"$T/big.out")
ckib=$("$BUILD/tests/bench/rss" -o /dev/null curl -s -N \
	-H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' \
	-d '{"model":"big-1048576","stream":true,"messages":[{"role":"user","content":"go"}]}' \
	"$URL/chat/completions")
awk -v k="$kib" -v c="$ckib" -v b="$bytes" -v base="$base" 'BEGIN {
	printf "peak RSS streaming a 1 MB answer (%d bytes out, logged):\n", b
	printf "  llm-chat            %6.2f MB   (target < 8 MB)\n", k / 1024
	printf "  llm-chat, 2 bytes   %6.2f MB   (libcurl and its libraries)\n", base / 1024
	printf "  growth for 1 MB     %6.2f MB\n", (k - base) / 1024
	printf "  curl                %6.2f MB\n", c / 1024
}'

# The programs' own benchmarks, each printing its figures.
for b in compare log limits; do
	echo
	LLM_BUILD=$BUILD sh "$SRC/tests/bench/$b.sh"
done
