#!/bin/sh
# Many processes logging at once, and processes killed mid-request: no
# row is lost and the database stays intact.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-many
export FAKE_KEY
fake_start
write_config

N=${LLM_VALGRIND:+8}
N=${N:-40}

test_expect_success "$N processes logging at once lose no row" '
	reset_log &&
	i=0 &&
	while [ $i -lt '"$N"' ]; do
		{ llm-chat -m fake/echo+delay-50 "request $i" >out.$i 2>err.$i; echo $? >code.$i; } &
		i=$((i + 1))
	done &&
	wait &&
	test "$(cat code.* | sort -u)" = 0 &&
	test "$(cat err.*)" = "" &&
	test "$(sql "SELECT count(*) FROM requests WHERE status = \"ok\"")" = '"$N"' &&
	test "$(sql "SELECT count(DISTINCT prompt) FROM requests")" = '"$N"' &&
	test "$(sql "PRAGMA integrity_check")" = ok
'

test_expect_success 'processes killed mid-request leave the database intact' '
	reset_log &&
	llm-chat -m fake/echo first >/dev/null &&
	for round in 1 2 3; do
		pids= &&
		i=0 &&
		while [ $i -lt 10 ]; do
			llm-chat -m "fake/echo+words+gap-20" \
				"a b c d e f g h i j k l m n o p $round $i" >/dev/null 2>&1 &
			pids="$pids $!" &&
			i=$((i + 1))
		done &&
		sleep 0.$((round * 2)) &&
		kill -9 $pids 2>/dev/null
		wait
	done &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	sqlite3 "$DB" "INSERT INTO requests_fts(requests_fts) VALUES(\"integrity-check\")" &&
	llm-chat -m fake/echo after >out &&
	echo after >expect &&
	test_cmp expect out &&
	test "$(sql "SELECT count(*) FROM requests WHERE prompt IN (\"first\", \"after\")")" = 2
'

test_done
