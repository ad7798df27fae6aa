#!/bin/sh
# Shared limits: rpm, tpm and max_parallel of providers and models, held
# across processes through the database; waiting, and --no-wait.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-limits-456
export FAKE_KEY
fake_start -k "$FAKE_KEY"

# limits_config INI: the test config with INI added and a fresh log.
limits_config() {
	reset_log
	: >"$FAKE_LOG"
	write_config "${1:-}"
}

# now_ms: the wall clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run_all N ARGS...: N llm-chat processes with ARGS at once; their exit
# codes one a line, sorted, into codes, their stderr into err.N.
run_all() {
	n=$1
	shift
	i=0
	while [ $i -lt "$n" ]; do
		i=$((i + 1))
		{
			llm-chat "$@" "process $i" >"out.$i" 2>"err.$i"
			echo $? >"code.$i"
		} &
	done
	wait
	cat code.* | sort -n >codes
}

test_expect_success 'rpm = 6, 10 processes at once with --no-wait: 6 go, 4 exit 75' '
	limits_config "
[provider.fake]
rpm = 6
" &&
	run_all 10 --no-wait -m fake/echo &&
	test "$(grep -c "^0$" codes)" -eq 6 &&
	test "$(grep -c "^75$" codes)" -eq 4 &&
	test "$(wc -l <"$FAKE_LOG")" -eq 6 &&
	test "$(cat err.* | grep -c "llm-chat: error: fake: rate limit of 6 requests per minute reached; retry in [0-9]* s or drop --no-wait")" -eq 4 &&
	test "$(sql "select count(*) from requests")" -eq 6
'

test_expect_success 'the limit holds for later processes too' '
	test_expect_code 75 llm-chat --no-wait -m fake/echo hi 2>err &&
	test_grep "rate limit of 6 requests per minute" err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 6
'

# seed_events AGE...: the guard's record of requests to fake/echo that
# started AGE ms ago (an event leaves the window after 60.25 s).
seed_events() {
	now=$(now_ms)
	values=
	for age in "$@"; do
		values="$values${values:+,}($((now - age)), 'fake', 'fake/echo', 1)"
	done
	sql "delete from guard_events;
	     insert into guard_events(at_ms, provider, model, tokens)
	     values $values"
}

test_expect_success 'a request waits for its place without --no-wait' '
	limits_config "
[provider.fake]
rpm = 2
" &&
	llm-chat -m fake/echo first >/dev/null &&
	seed_events 30250 30000 &&
	test_expect_code 75 llm-chat --no-wait -m fake/echo hi 2>err &&
	grep "^llm-chat: error: fake: rate limit of 2 requests per minute reached; retry in [0-9]* s or drop --no-wait$" err &&
	seed_events 56250 56000 &&
	t0=$(now_ms) &&
	llm-chat -m fake/echo waited >out 2>err &&
	t1=$(now_ms) &&
	echo waited >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test $((t1 - t0)) -ge 3500 &&
	test "$(sql "select latency_ms < 2000 from requests order by id desc limit 1")" = 1
'

test_expect_success 'a model limit counts that model only' '
	limits_config "
[model.echo]
rpm = 1
" &&
	llm-chat -m echo one >/dev/null &&
	test_expect_code 75 llm-chat --no-wait -m fake/echo two 2>err &&
	sed "s/retry in [0-9]* s/retry in N s/" err >got &&
	echo "llm-chat: error: fake/echo: rate limit of 1 request per minute reached; retry in N s or drop --no-wait" >expect &&
	test_cmp expect got &&
	llm-chat --no-wait -m fake/echo-model three >out &&
	echo three >expect &&
	test_cmp expect out
'

test_expect_success 'tpm: the estimate is corrected to the real tokens' '
	limits_config "
[provider.fake]
tpm = 50
" &&
	llm-chat --no-wait --max-tokens 40 -m fake/echo hi >/dev/null &&
	test "$(sql "select tokens from guard_events")" = 5 &&
	llm-chat --no-wait --max-tokens 40 -m fake/echo hi >/dev/null &&
	test_expect_code 75 llm-chat --no-wait --max-tokens 40 -m fake/echo hi 2>err &&
	test_grep "fake: rate limit of 50 tokens per minute reached" err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 2
'

test_expect_success 'max_parallel = 1: the second process starts after the first ended' '
	limits_config "
[provider.fake]
max_parallel = 1
" &&
	{ llm-chat -m fake/echo+delay-1000 a >out.a & } &&
	{ llm-chat -m fake/echo+delay-1000 b >out.b & } &&
	wait &&
	test "$(cat out.a out.b | sort | tr "\n" " ")" = "a b " &&
	gap=$(sql "select cast(abs(max(s) - min(s)) as integer) from
		(select julianday(created_at) * 86400000 - latency_ms as s
		 from requests)") &&
	test "$gap" -ge 900 &&
	test "$(sql "select count(*) from guard_slots")" -eq 0
'

test_expect_success 'without it they run at once (the check above can fail)' '
	limits_config &&
	{ llm-chat -m fake/echo+delay-1000 a >out.a & } &&
	{ llm-chat -m fake/echo+delay-1000 b >out.b & } &&
	wait &&
	gap=$(sql "select cast(abs(max(s) - min(s)) as integer) from
		(select julianday(created_at) * 86400000 - latency_ms as s
		 from requests)") &&
	test "$gap" -lt 900
'

test_expect_success 'max_parallel: a place held by a killed process is reclaimed' '
	limits_config "
[provider.fake]
max_parallel = 1
" &&
	{ llm-chat -m fake/hang hi >/dev/null 2>&1 & } &&
	pid=$! &&
	i=0 &&
	while [ "$(wc -l <"$FAKE_LOG")" -lt 1 ] && [ $i -lt 500 ]; do
		sleep 0.01; i=$((i + 1))
	done &&
	test_expect_code 75 llm-chat --no-wait -m fake/echo hi 2>err &&
	test_grep "fake: 1 request already running (max_parallel = 1)" err &&
	kill -9 $pid &&
	wait $pid;
	test "$(sql "select count(*) from guard_slots")" -eq 1 &&
	llm-chat --no-wait -m fake/echo after >out &&
	echo after >expect &&
	test_cmp expect out
'

test_expect_success 'limits apply to a local (mock) provider' '
	limits_config "
[provider.mock]
type = mock
rpm = 1
" &&
	llm-chat -m mock/echo one >/dev/null &&
	test_expect_code 75 llm-chat --no-wait -m mock/echo two 2>err &&
	test_grep "mock: rate limit of 1 request per minute reached" err
'

test_expect_success '--json: a refused request is an error object' '
	test_expect_code 75 llm-chat --json --no-wait -m mock/echo two >out &&
	jq -r "[.status, .attempts, (.error | startswith(\"mock: rate limit\"))] | @tsv" out >got &&
	printf "error\t0\ttrue\n" >expect &&
	test_cmp expect got
'

test_expect_success 'nothing configured: nothing recorded' '
	limits_config &&
	llm-chat -m fake/echo hi >/dev/null &&
	test "$(sql "select (select count(*) from guard_events) + (select count(*) from guard_slots) + (select count(*) from guard_ledger) + (select count(*) from guard_counters)")" -eq 0
'

test_expect_success 'limits that cannot be enforced: a warning, the answer' '
	write_config "
[provider.fake]
rpm = 1
" &&
	sed "s|^database = .*|database = /dev/null/llm.db|" "$LLM_CONFIG" >cfg &&
	mv cfg "$LLM_CONFIG" &&
	: >"$FAKE_LOG" &&
	test_expect_code 74 llm-chat -m fake/echo hi >out 2>err &&
	echo hi >expect &&
	test_cmp expect out &&
	test_grep "llm-chat: warning: cannot enforce limits: cannot open log '\''/dev/null/llm.db'\''" err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1
'

test_done
