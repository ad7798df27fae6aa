#!/bin/sh
# Shared rate limit: 32 processes x 20 requests (one llm-chat process
# each) under one rpm limit against the local test provider.  Prints the
# requests per minute achieved over the first two minutes divided by the
# limit (target between 0.9 and 1.0, never above; it needs at least twice
# rpm requests) and the busiest 60 s window divided by the limit (never
# above 1.0), from the times at which the processes let their requests
# go.  Asserts nothing.
#
#   LLM_BUILD=$PWD/build/NAME sh tests/bench/limits.sh
#
# LIMITS_RPM, LIMITS_PROCS and LIMITS_REQS change the defaults (300, 32,
# 20); the run takes about two minutes: with N requests over the limit,
# the last ones wait for the windows of the first to pass.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build/bench}
RPM=${LIMITS_RPM:-300}
PROCS=${LIMITS_PROCS:-32}
REQS=${LIMITS_REQS:-20}
T=$(mktemp -d "${TMPDIR:-/tmp}/llm-bench-limits.XXXXXX")
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

"$BUILD/tests/fake/fakellm" -p "$T/port" -t 900 2>/dev/null &
FAKE_PID=$!
while [ ! -s "$T/port" ]; do sleep 0.01; done
export HOME="$T" LLM_DEFAULT_CONFIG="$T/none" LLM_CONFIG="$T/llm.ini"
unset LLM_MODEL
: >"$T/none"
cat >"$LLM_CONFIG" <<EOT
[defaults]
database = $T/llm.db
retries = 0
[provider.fake]
type = openai
base_url = http://127.0.0.1:$(cat "$T/port")/v1
rpm = $RPM
EOT
CHAT=$BUILD/bin/llm-chat

# worker K: REQS requests one after the other, each waiting for its place.
worker() {
	j=0
	while [ $j -lt "$REQS" ]; do
		j=$((j + 1))
		"$CHAT" --no-stream --no-log -m fake/echo "worker $1 request $j" \
			>/dev/null 2>>"$T/errors" || echo "$1.$j" >>"$T/failed"
	done
}

# sample: until the workers are done, copy the time at which each request
# was let go (guard_events.at_ms, in the shared database) before the
# guard prunes it a minute later.  These are the times the processes
# agreed on; a start measured by a client after its request (its end less
# its latency) is off by as much as its wait for the log's locks.
sample() {
	last=0
	while :; do
		[ -e "$T/done" ] && stop=1
		if [ -s "$T/llm.db" ]; then
			sqlite3 -batch -noheader -cmd ".timeout 5000" "$T/llm.db" \
				"select id, at_ms from guard_events
				 where at_ms >= $last" >>"$T/events" 2>/dev/null || :
			l=$(tail -n 1 "$T/events" | cut -d"|" -f2)
			[ -n "$l" ] && last=$l
		fi
		[ -n "${stop:-}" ] && break
		sleep 1
	done
}

sample &
sampler=$!
t0=$(date +%s)
k=0
pids=
while [ $k -lt "$PROCS" ]; do
	k=$((k + 1))
	worker $k &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p"
done
t1=$(date +%s)
: >"$T/done"
wait "$sampler"

failed=0
[ -f "$T/failed" ] && failed=$(wc -l <"$T/failed")
touch "$T/events"
sort -u "$T/events" | cut -d"|" -f2 | sort -n |
	awk -v rpm="$RPM" -v procs="$PROCS" -v reqs="$REQS" \
	-v secs=$((t1 - t0)) -v failed="$failed" '
{ s[NR] = $1 }
END {
	n = NR
	j = 1
	peak = 0
	for (i = 1; i <= n; i++) {
		while (j <= n && s[j] < s[i] + 60000)
			j++
		if (j - i > peak)
			peak = j - i
		if (s[i] < s[1] + 120000)
			first2++
	}
	printf "shared rate limit: %d processes x %d requests under rpm %d, %d s\n",
		procs, reqs, rpm, secs
	printf "  requests per minute achieved / limit   %5.3f   (first two minutes; target 0.9 to 1.0, never above)\n",
		first2 / 2 / rpm
	printf "  busiest 60 s window / limit            %5.3f   (never above 1.0)\n",
		peak / rpm
	printf "  requests let go, answered              %d, %d   (of %d; %d failed)\n",
		n, procs * reqs - failed, procs * reqs, failed
}'
