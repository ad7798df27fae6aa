#!/bin/sh
# Routing groups: fallback (with context windows and content policies),
# weighted arms, shadows, and --atomic.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-route-1
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[model.tiny]
provider = fake
name = fixed-TINY
context_window = 20

[model.roomy]
provider = fake
name = fixed-ROOMY
context_window = 100000

[group.fit]
models = tiny, roomy

[group.nofit]
models = tiny

[group.down]
models = fake/fail-500, fake/fixed-SECOND

[group.limited]
models = fake/fail-429, fake/fixed-SECOND

[group.refusing]
models = fake/fixed-+finish-content_filter, fake/fixed-CLEAN

[group.broken]
models = fake/echo+words+midstream-error, fake/fixed-WHOLE

[group.badkey]
models = open/echo, fake/fixed-KEYED

[group.ab]
models = fake/fixed-A, fake/fixed-B
strategy = weighted
weights = 0, 1

[group.ba]
models = fake/fixed-A, fake/fixed-B
strategy = weighted
weights = 1, 0

[group.even]
models = fake/fixed-A, fake/fixed-B
strategy = weighted
weights = 1, 1

[group.rr]
models = fake/fixed-A, fake/fixed-B, fake/fixed-C
strategy = round-robin

[provider.flaky]
type = openai
base_url = ${FAKE_URL}/v1
api_key = ${FAKE_KEY}
cooldown = 1h

[group.cool]
models = flaky/fail-503, fake/fixed-HEALTHY

[group.shadowed]
models = fake/echo, fake/fixed-SHADOW+delay-1500, fake/sys
strategy = shadow

[group.failshadowed]
models = fake/fail-400, fake/fixed-SHADOW+delay-300
strategy = shadow
'

test_expect_success 'fallback: a 500 hands over to the next model' '
	llm-chat -m down hello >out 2>err &&
	echo SECOND >expect &&
	test_cmp expect out &&
	test_grep "fake/fail-500 failed, trying the next model of '"'"'down'"'"'" err &&
	test "$(sql "SELECT model || \" \" || status FROM requests ORDER BY id DESC LIMIT 2")" = "fake/fixed-SECOND ok
fake/fail-500 error"
'

test_expect_success 'fallback: a 429 after its retries hands over too' '
	llm-chat -m limited --retries 0 hello >out 2>err &&
	echo SECOND >expect &&
	test_cmp expect out
'

test_expect_success 'fallback: a refused key hands over' '
	llm-chat -m badkey hello >out 2>err &&
	echo KEYED >expect &&
	test_cmp expect out
'

test_expect_success 'fallback: a model whose context cannot hold the prompt is skipped' '
	: >"$FAKE_LOG" &&
	llm-chat -m fit "a prompt that is longer than eighty bytes, so about twenty tokens or more, which tiny cannot hold" >out 2>err &&
	echo ROOMY >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1 &&
	jq -r .body.model "$FAKE_LOG" >got &&
	echo fixed-ROOMY >expect &&
	test_cmp expect got
'

test_expect_success 'fallback: a short prompt still goes to the first model' '
	llm-chat -m fit hi >out &&
	echo TINY >expect &&
	test_cmp expect out
'

test_expect_success 'no model of the group can hold the prompt: exit 64, nothing sent' '
	: >"$FAKE_LOG" &&
	test_expect_code 64 llm-chat -m nofit "a prompt that is longer than eighty bytes, so about twenty tokens or more, which tiny cannot hold" >out 2>err &&
	grep -q "fits no model of group .nofit.: the largest context window is 20$" err &&
	test_must_be_empty "$FAKE_LOG"
'

test_expect_success 'fallback: a content-policy refusal without text hands over' '
	llm-chat -m refusing hello >out 2>err &&
	echo CLEAN >expect &&
	test_cmp expect out &&
	test_grep "fake/fixed-+finish-content_filter failed, trying the next model of" err &&
	test_grep "refused by a content policy" err
'

test_expect_success 'without --atomic, a failure after text is final: what arrived stays' '
	test_expect_code 69 llm-chat -m broken one two three >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out
'

test_expect_success '--atomic: a mid-stream failure falls back, only the whole answer is printed' '
	llm-chat -m broken --atomic one two three >out 2>err &&
	echo WHOLE >expect &&
	test_cmp expect out &&
	test "$(sql "SELECT response FROM requests WHERE model LIKE \"fake/echo%\" ORDER BY id DESC LIMIT 1")" = "one "
'

test_expect_success '--atomic on a single model prints the whole answer' '
	llm-chat -m fake/echo+words --atomic one two three >out &&
	echo "one two three" >expect &&
	test_cmp expect out
'

test_expect_success 'weighted: the arm drawn by weight serves, and the log names it' '
	llm-chat -m ab hello >out &&
	echo B >expect &&
	test_cmp expect out &&
	llm-chat -m ba hello >out &&
	echo A >expect &&
	test_cmp expect out &&
	test "$(sql "SELECT model FROM requests ORDER BY id DESC LIMIT 1")" = fake/fixed-A
'

test_expect_success 'weighted 1:1: both arms serve over 30 runs' '
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
		21 22 23 24 25 26 27 28 29 30; do
		llm-chat -m even --no-log hello || return 1
	done >out &&
	grep -qx A out &&
	grep -qx B out
'

test_expect_success 'shadow: the primary answers; the shadows are logged, never printed' '
	reset_log &&
	llm-chat -m shadowed -s "be brief" hello shadow >out 2>err &&
	echo "hello shadow" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	sql "SELECT model, response FROM requests ORDER BY model" >got &&
	printf "%s\n" "fake/echo|hello shadow" "fake/fixed-SHADOW+delay-1500|SHADOW" \
		"fake/sys|be brief" >expect &&
	test_cmp expect got
'

test_expect_success 'shadow: the reader sees the end of the answer before the shadows finish' '
	rm -f fifo &&
	mkfifo fifo &&
	{ llm-chat -m shadowed hello >fifo 2>err & } &&
	pid=$! &&
	cat fifo >out &&
	kill -0 $pid &&
	wait $pid &&
	echo hello >expect &&
	test_cmp expect out
'

test_expect_success 'shadow: a primary that fails prints nothing, the shadows are logged' '
	reset_log &&
	test_expect_code 65 llm-chat -m failshadowed hello >out 2>err &&
	test_must_be_empty out &&
	test_grep "HTTP 400" err &&
	sql "SELECT model, status FROM requests ORDER BY model" >got &&
	printf "%s\n" "fake/fail-400|error" "fake/fixed-SHADOW+delay-300|ok" >expect &&
	test_cmp expect got
'

test_expect_success 'shadow: a session keeps only the primary turn' '
	reset_log &&
	llm-chat -m shadowed -S s1 hello >out &&
	test "$(sql "SELECT count(*) FROM messages")" = 2 &&
	test "$(sql "SELECT content FROM messages WHERE role = \"assistant\"")" = hello
'

test_expect_success 'round-robin: the rotation is shared by separate processes' '
	for i in 1 2 3 4 5 6; do
		llm-chat -m rr --no-log hello || return 1
	done >out &&
	sort out | uniq -c | awk "{ print \$1 }" >counts &&
	printf "2\n2\n2\n" >expect &&
	test_cmp expect counts &&
	head -n 3 out | sort | tr -d "\n" >first &&
	test "$(cat first)" = ABC
'

test_expect_success 'a provider that failed cools down, and the group tries it last' '
	: >"$FAKE_LOG" &&
	llm-chat -m cool --retries 0 hello >out 2>err &&
	echo HEALTHY >expect &&
	test_cmp expect out &&
	test "$(wc -l <"$FAKE_LOG")" -eq 2 &&
	llm-providers flaky >table &&
	test_grep "cooling down" table &&
	: >"$FAKE_LOG" &&
	llm-chat -m cool --retries 0 hello >out 2>err &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1 &&
	jq -r .body.model "$FAKE_LOG" >got &&
	echo fixed-HEALTHY >expect &&
	test_cmp expect got
'

test_done
