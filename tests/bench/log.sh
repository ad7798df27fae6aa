#!/bin/sh
# llm-log on a log of a million requests, and the cost of logging.
#
#   LLM_BUILD=$PWD/build/NAME sh tests/bench/log.sh
#
# Prints, nothing asserted (targets in brackets):
#   1. llm-log list -n 20 [< 20 ms], search WORD [< 50 ms], stats [< 1 s]
#      and a few more: the median wall time of whole runs, and their mean
#      CPU time (user + system), which a busy machine disturbs less; and
#      llm-log --version, the cost of starting a process;
#   2. the time that logging adds to one llm-chat request [< 1 ms]:
#      llm-chat against the local test provider with and without
#      --no-log, runs alternated, on a small log and on the large one,
#      wall and CPU time, for an answer after 50 ms (the log is readied
#      while llm-chat waits: what a user sees) and for one at once
#      (nothing to overlap: the whole cost of logging); the added time is
#      the mean of the middle 80% of the pairs' differences, beside their
#      median and plain mean, since a stall of this machine (tens of ms, a
#      few times in 200 runs) moves a plain mean by tenths of a ms;
#   3. the size of the database and of its parts.
# The log is generated once with sqlite3 (a recursive CTE: prompts and
# answers of a few hundred bytes of varied words, 8 models, 3 statuses,
# a year of times) and kept in $BUILD/bench-log/ for the next run.
# BENCH_ROWS (default 1000000) and BENCH_N (runs, default 20) change it.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build/bench}
ROWS=${BENCH_ROWS:-1000000}
N=${BENCH_N:-20}
LOG=$BUILD/bin/llm-log
CHAT=$BUILD/bin/llm-chat
CACHE=$BUILD/bench-log
BIG=$CACHE/llm-$ROWS.db
T=$(mktemp -d "${TMPDIR:-/tmp}/llm-bench-log.XXXXXX")
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

"$BUILD/tests/fake/fakellm" -p "$T/port" -t 1800 2>/dev/null &
FAKE_PID=$!
while [ ! -s "$T/port" ]; do sleep 0.01; done
URL=http://127.0.0.1:$(cat "$T/port")/v1
export HOME="$T" LLM_DEFAULT_CONFIG="$T/none" BENCH_KEY=sk-bench
unset LLM_CONFIG XDG_CONFIG_HOME
# config DB: an llm.ini whose log is DB
config() {
	cat >"$T/$2" <<EOT
[defaults]
database = $1
[provider.fake]
type = openai
base_url = $URL
api_key = \${BENCH_KEY}
[model.echo]
provider = fake
name = echo
input_cost = 0.5
output_cost = 1.5
EOT
}
config "$BIG" big.ini
config "$T/small.db" small.ini

# ---- the large log ----
generate() {
	mkdir -p "$CACHE"
	rm -f "$BIG" "$BIG-wal" "$BIG-shm"
	# the schema, as the programs make it
	LLM_CONFIG=$T/big.ini "$CHAT" -m echo "first request" >/dev/null
	sqlite3 "$BIG" >/dev/null <<EOT
PRAGMA journal_mode = WAL;
PRAGMA cache_size = -200000;
CREATE TEMP TABLE syl(i INTEGER PRIMARY KEY, s TEXT);
INSERT INTO syl(s) VALUES ('ka'), ('lo'), ('mi'), ('ner'), ('tu'), ('sa'),
 ('ve'), ('ri'), ('on'), ('qua'), ('del'), ('ph'), ('str'), ('ex'), ('ing'),
 ('ta'), ('gro'), ('ble'), ('cor'), ('mun'), ('pi'), ('zo'), ('ly'), ('che'),
 ('wa'), ('ter'), ('bi'), ('fen'), ('dra'), ('sco'), ('yu'), ('hal');
CREATE TEMP TABLE words(i INTEGER PRIMARY KEY, w TEXT);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 4999)
INSERT INTO words
SELECT x, (SELECT s FROM syl WHERE i = 1 + x % 32)
	|| (SELECT s FROM syl WHERE i = 1 + x / 32 % 32)
	|| CASE WHEN x >= 1024 THEN (SELECT s FROM syl WHERE i = 1 + x / 1024 % 32)
	   ELSE '' END
FROM n;
-- a skewed choice of words: the first ones are much more common
CREATE TEMP TABLE sentences(i INTEGER PRIMARY KEY, s TEXT);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 2999),
picks AS (SELECT x, k, abs(random()) % (1 + abs(random()) % 5000) AS w
	FROM n, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2
		UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
		UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8
		UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11))
INSERT INTO sentences
SELECT x, group_concat((SELECT w FROM words WHERE i = picks.w), ' ') || '.'
FROM picks GROUP BY x;
CREATE TEMP TABLE models(i INTEGER PRIMARY KEY, model TEXT, provider TEXT,
	pm TEXT, lat INTEGER, inp REAL, outp REAL);
INSERT INTO models VALUES
 (0, 'groq/llama-3.1-8b-instant', 'groq', 'llama-3.1-8b-instant', 400, 0.05, 0.08),
 (1, 'claude-haiku', 'anthropic', 'claude-haiku-4-5', 1200, 1, 5),
 (2, 'claude-sonnet', 'anthropic', 'claude-sonnet-4-5', 3000, 3, 15),
 (3, 'gpt-4o-mini', 'openai', 'gpt-4o-mini', 1500, 0.15, 0.6),
 (4, 'gemini-flash', 'gemini', 'gemini-2.5-flash', 900, 0.3, 2.5),
 (5, 'ollama/llama3.2', 'ollama', 'llama3.2', 2500, 0, 0),
 (6, 'mistral-small', 'mistral', 'mistral-small-latest', 1100, 0.1, 0.3),
 (7, 'deepseek-chat', 'deepseek', 'deepseek-chat', 2000, 0.27, 1.1);
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $ROWS)
INSERT INTO requests (created_at, tool, model, provider, provider_model,
	prompt, response, status, error, http_status, input_tokens,
	output_tokens, latency_ms, ttft_ms, cost_usd, finish_reason, attempts)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', strftime('%s', 'now') - 31536000
		+ x * (31536000.0 / $ROWS), 'unixepoch'),
	CASE WHEN x % 10 = 0 THEN 'llm-compare' ELSE 'llm-chat' END,
	m.model, m.provider, m.pm,
	(SELECT s FROM sentences WHERE i = x * 7 % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 13 + 5) % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 29 + 11) % 3000),
	CASE WHEN x % 50 = 0 THEN '' ELSE
		(SELECT s FROM sentences WHERE i = (x * 31 + 1) % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 37 + 2) % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 41 + 3) % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 43 + 4) % 3000) || ' '
		|| (SELECT s FROM sentences WHERE i = (x * 47 + 5) % 3000) END,
	CASE WHEN x % 50 = 0 THEN 'error' WHEN x % 97 = 0 THEN 'interrupted'
		ELSE 'ok' END,
	CASE WHEN x % 50 = 0 THEN 'HTTP 503: overloaded' END,
	CASE WHEN x % 50 = 0 THEN 503 ELSE 200 END,
	60 + x % 700, 100 + x * 7 % 900,
	m.lat / 2 + abs(random()) % (m.lat * 2),
	50 + abs(random()) % (m.lat / 3),
	((60 + x % 700) * m.inp + (100 + x * 7 % 900) * m.outp) / 1e6,
	'stop', 1
FROM n JOIN models m ON m.i = x * 2654435761 % 8;
COMMIT;
-- the full-text index, as llm-log search would bring it up to date
INSERT INTO requests_fts(requests_fts) VALUES ('rebuild');
PRAGMA wal_checkpoint(TRUNCATE);
EOT
}

rows=$(sqlite3 "$BIG" "select count(*) from requests" 2>/dev/null || echo 0)
if [ "$rows" -lt "$ROWS" ]; then
	printf 'generating a log of %d requests in %s (once) ...\n' "$ROWS" "$BIG"
	t0=$(date +%s)
	generate
	printf '  %d s\n' $(($(date +%s) - t0))
fi

now_ns() { date +%s%N; }

# "times >$T/cpu; x=$(cpu_us)": x is the CPU time (user + system) of this
# shell's finished children, in us.  "times" must run in this shell: in a
# command substitution it would count that subshell's children.
cpu_us() {
	awk 'NR == 2 {
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e6
	}' "$T/cpu"
}

# measure CMD...: "WALL CPU": the median wall time of N runs and the mean
# CPU time of N more (counted apart: the clock is read by processes too)
measure() {
	i=0
	: >"$T/times"
	while [ $i -lt "$N" ]; do
		t0=$(now_ns)
		"$@" >/dev/null 2>&1 </dev/null
		echo $(($(now_ns) - t0)) >>"$T/times"
		i=$((i + 1))
	done
	times >"$T/cpu"
	c0=$(cpu_us)
	i=0
	while [ $i -lt "$N" ]; do
		"$@" >/dev/null 2>&1 </dev/null
		i=$((i + 1))
	done
	times >"$T/cpu"
	c1=$(cpu_us)
	sort -n "$T/times" | awk -v c=$((c1 - c0)) -v n="$N" '
		{ v[NR] = $1 }
		END { printf "%8.1f %8.1f", v[int((NR + 1) / 2)] / 1e6, c / n / 1e3 }'
}

# row LABEL CMD...: one line of the table
row() {
	label=$1
	shift
	printf '  %-32s %s\n' "$label" "$(measure "$@")"
}

export LLM_CONFIG="$T/big.ini"
# a word in about 1% of the requests, and the commonest one
vocab() {
	sqlite3 "$BIG" "create virtual table temp.v using fts5vocab(main, requests_fts, 'row'); $1"
}
word=$(vocab "select term from v where doc between $((ROWS / 150)) and $((ROWS / 70)) order by term limit 1")
wdocs=$(vocab "select doc from v where term = '$word'")
common=$(vocab "select term from v order by doc desc limit 1")
cdocs=$(vocab "select doc from v where term = '$common'")
"$LOG" list -n 20 >/dev/null # warm the page cache

printf 'llm-log on %d requests, %d runs each (ms):  wall (median)  CPU (mean)\n' "$ROWS" "$N"
row "--version (starting a process)" "$LOG" --version
row "list -n 20 [< 20]" "$LOG" list -n 20
row "list -n 20 --model claude-haiku" "$LOG" list -n 20 --model claude-haiku
row "list --since 7d --status error" "$LOG" list --since 7d --status error
row "show last" "$LOG" show last
row "search $word [< 50]" "$LOG" search "$word"
printf '  %s is in %d requests; %s, the commonest word, in %d:\n' \
	"$word" "$wdocs" "$common" "$cdocs"
row "search $common" "$LOG" search "$common"
row "search --model X $word" "$LOG" search --model claude-haiku "$word"
row "sessions" "$LOG" sessions
N=$(((N + 3) / 4))
row "stats [< 1000]" "$LOG" stats
row "stats --by day" "$LOG" stats --by day
row "stats --since 30d" "$LOG" stats --since 30d
N=${BENCH_N:-20}

# ---- the cost of logging ----
# run_n N CMD...: total nanoseconds of N runs
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
# The model: "echo" answers at once, "fake/echo+delay-50" after 50 ms,
# sooner than any real provider; llm-chat opens and readies the log while
# it waits (call.h's on_wait), so only the second is the cost a user sees.
chat_log() { "$CHAT" --no-stream -m "$MODEL" hello world; }
chat_nolog() { "$CHAT" --no-stream --no-log -m "$MODEL" hello world; }
W=${BENCH_W:-200}
for which in small big; do
	export LLM_CONFIG="$T/$which.ini"
	for MODEL in fake/echo+delay-50 echo; do
		run_n 10 chat_log >/dev/null
		lc=0 cc=0
		# wall: one run of each in turn, so that the machine's drift
		# falls on both alike, in the order ABBA (here the second of
		# two runs is the faster by a few tenths of a ms); each pair's
		# times, in ns, to $T/pairs
		: >"$T/pairs"
		i=0
		while [ $i -lt "$W" ]; do
			first=chat_nolog second=chat_log
			[ $((i % 2)) = 0 ] || first=chat_log second=chat_nolog
			t0=$(now_ns)
			$first >/dev/null 2>&1 </dev/null
			t1=$(now_ns)
			$second >/dev/null 2>&1 </dev/null
			t2=$(now_ns)
			if [ $first = chat_nolog ]; then
				echo $((t1 - t0)) $((t2 - t1)) >>"$T/pairs"
			else
				echo $((t2 - t1)) $((t1 - t0)) >>"$T/pairs"
			fi
			i=$((i + 1))
		done
		# CPU: batches, as "times" counts all finished children
		for _ in 1 2 3 4 5 6 7 8; do
			times >"$T/cpu"
			u0=$(cpu_us)
			run_n $((W / 8)) chat_nolog >/dev/null
			times >"$T/cpu"
			u1=$(cpu_us)
			run_n $((W / 8)) chat_log >/dev/null
			times >"$T/cpu"
			u2=$(cpu_us)
			cc=$((cc + u1 - u0))
			lc=$((lc + u2 - u1))
		done
		# the pairs' differences, sorted: their mean without the highest
		# and lowest tenth, their median, and their plain mean
		awk '{ print $2 - $1 }' "$T/pairs" | sort -n | awk \
			-v lc="$lc" -v cc="$cc" -v n="$W" -v w="$which" \
			-v m="$MODEL" -v pairs="$T/pairs" '
		{ d[NR] = $1 }
		END {
			while ((getline line < pairs) > 0) {
				split(line, f, " ")
				c += f[1]
				l += f[2]
			}
			k = int(NR / 10)
			for (i = k + 1; i <= NR - k; i++)
				tm += d[i]
			tm /= NR - 2 * k
			t = m == "echo" ? "an answer at once" : "an answer after 50 ms"
			printf "llm-chat, %d runs each, %s log, %s (ms per run):\n", n, w, t
			printf "  wall  --no-log %7.2f   logged %7.2f   (means)\n",
				c / n / 1e6, l / n / 1e6
			printf "  added by the log, per pair: %6.2f%s (the mean of the middle 80%%), median %.2f, mean %.2f\n",
				tm / 1e6, m == "echo" ? "" : " [< 1]",
				d[int((NR + 1) / 2)] / 1e6, (l - c) / n / 1e6
			printf "  CPU   --no-log %7.2f   logged %7.2f   added by the log %6.2f\n",
				cc / n / 1e3, lc / n / 1e3, (lc - cc) / n / 1e3
		}'
	done
done

size=$(wc -c <"$BIG")
wal=$(wc -c <"$BIG-wal" 2>/dev/null || echo 0)
awk -v s="$size" -v w="$wal" -v r="$ROWS" 'BEGIN {
	printf "database: %.0f MB (%.0f bytes a request), WAL %.1f MB\n",
		s / 1048576, s / r, w / 1048576
}'
printf 'its parts (MB): '
sqlite3 "$BIG" "select name, round(sum(pgsize) / 1048576.0) from dbstat group by name order by 2 desc limit 8" 2>/dev/null |
	tr '\n' ' ' || :
echo
