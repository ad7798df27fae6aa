#!/bin/sh
# llm-chat sessions (-S, -c) and signals.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-session-key
export FAKE_KEY
fake_start
write_config

test_expect_success 'a session turn is saved with its messages' '
	echo "first question" | llm-chat -S work -s "Be brief." >out &&
	echo "first question" >expect &&
	test_cmp expect out &&
	test "$(sql "select name, model, system from sessions")" = "work|fake/echo|Be brief." &&
	sql "select role, content from messages order by id" >got &&
	printf "user|first question\nassistant|first question\n" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(*) from requests where session_id = (select id from sessions where name = '\''work'\'')")" = 1
'

test_expect_success 'the second turn sends the first turn and its answer' '
	echo "second question" | llm-chat -S work >out &&
	last_request | jq -c .messages >got &&
	echo "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"first question\"},{\"role\":\"assistant\",\"content\":\"first question\"},{\"role\":\"user\",\"content\":\"second question\"}]" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(*) from messages")" = 4
'

test_expect_success 'a session keeps its model when -m is not given' '
	echo "a" | llm-chat -S other -m fake/echo-other >/dev/null &&
	echo "b" | llm-chat -S other >/dev/null &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo-other
'

test_expect_success '-c continues the most recently used session' '
	echo "third" | llm-chat -S work >/dev/null &&
	echo "fourth" | llm-chat -c >/dev/null &&
	test "$(last_request | jq ".messages | length")" = 8 &&
	echo "c" | llm-chat -S other >/dev/null &&
	echo "d" | llm-chat -c >/dev/null &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo-other
'

test_expect_success 'a failed turn adds no messages' '
	before=$(sql "select count(*) from messages") &&
	echo "x" | llm-chat -S work -m fake/fail-500 2>/dev/null;
	test "$(sql "select count(*) from messages")" = "$before" &&
	test "$(sql "select status from requests order by id desc limit 1")" = error
'

test_expect_success '-c without any session: 64' '
	reset_log &&
	echo hi | test_expect_code 64 llm-chat -c 2>err &&
	test_grep "no session" err
'

test_expect_success '-S and -c together: 64' '
	echo hi | test_expect_code 64 llm-chat -c -S x 2>err
'

test_expect_success '--dry-run of a session turn shows its history, saves nothing' '
	reset_log &&
	echo one | llm-chat -S s >/dev/null &&
	echo two | llm-chat -S s --dry-run >out &&
	test_grep "\"content\":\"one\"},{\"role\":\"assistant\"" out &&
	test "$(sql "select count(*) from requests")" = 1
'

# The fake sends one word every 300 ms; the signal comes once the first
# words are out.
for sig in INT TERM; do
	if [ $sig = INT ]; then code=130; else code=143; fi
	if [ "${LLM_VALGRIND:-}" = 1 ]; then
		test_skip "SIG$sig mid-stream" "signal timing under valgrind"
		continue
	fi
	test_expect_success "SIG$sig mid-stream: partial answer printed and logged, $code" "
		reset_log &&
		rm -f out &&
		echo 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12' >p &&
		{ llm-chat -m 'fake/echo+words+gap-300' <p >out 2>err & } &&
		pid=\$! &&
		i=0 &&
		while [ ! -s out ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done &&
		sleep 0.4 &&
		kill -$sig \$pid &&
		{ wait \$pid; echo \$? >code; } &&
		test \"\$(cat code)\" = $code &&
		test -s out &&
		test \"\$(sql 'select status from requests')\" = interrupted &&
		test \"\$(sql 'select response from requests')\" = \"\$(head -c -1 out)\" &&
		test \"\$(tail -c 1 out | od -An -c | tr -d ' ')\" = '\\n'
	"
done

test_done
