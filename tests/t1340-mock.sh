#!/bin/sh
# llm-chat with the offline mock provider; and the same prompt through
# every provider type: the same bytes streamed and not, usage logged.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-every-type-987
FAKE_AKID=AKIDEVERYTYPE987
FAKE_SECRET=every/type+secret987
export FAKE_KEY FAKE_AKID FAKE_SECRET
fake_start -k "$FAKE_KEY" -a "$FAKE_AKID" -S "$FAKE_SECRET" -r eu-west-1
write_config "
[provider.mock]
type = mock

[provider.canned]
type = mock
reply = Canned  answer, always.

[provider.late]
type = mock
delay_ms = 300

[provider.ant]
type = anthropic
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.gem]
type = gemini
base_url = $FAKE_URL/v1beta
api_key = \${FAKE_KEY}

[provider.oll]
type = ollama
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.az]
type = azure
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.bed]
type = bedrock
base_url = $FAKE_URL
region = eu-west-1
access_key_id = \${FAKE_AKID}
secret_access_key = \${FAKE_SECRET}

[model.parrot]
provider = mock
name = echo
input_cost = 1
output_cost = 2

[provider.wait400]
type = mock
delay_ms = 400

[provider.mute]
type = mock
delay_ms = 1000

[provider.shadowy]
type = mock
delay_ms = 1000
reply = SHADOW

[group.mirror]
models = mock/echo+slow, shadowy/x
strategy = shadow

[group.mirror-http]
models = fake/echo, shadowy/x
strategy = shadow
"

test_expect_success 'mock/echo answers the prompt, without any request' '
	lines=$(wc -l <"$FAKE_LOG") &&
	printf "hello  big\nworld" | llm-chat -m mock/echo >out 2>err &&
	printf "hello  big\nworld\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(wc -l <"$FAKE_LOG")" -eq "$lines"
'

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in mock/echo mock/demo canned/x mock/echo+slow; do
		printf "a b\n\nc " | llm-chat -m "$m" >s.out &&
		printf "a b\n\nc " | llm-chat -m "$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'other models: the default reply, or the reply key' '
	echo hi | llm-chat -m mock/demo >out &&
	echo "This is a mock reply from demo." >expect &&
	test_cmp expect out &&
	echo hi | llm-chat -m mock/demo+slow >out &&
	test_cmp expect out &&
	echo hi | llm-chat -m canned/anything >out &&
	echo "Canned  answer, always." >expect &&
	test_cmp expect out
'

test_expect_success 'usage in words is logged, with cost and finish' '
	reset_log &&
	echo "one two three" | llm-chat -m parrot -s "be brief" >out &&
	echo "one two three" | llm-chat -m parrot --no-stream >out &&
	sql "select model, provider, provider_model, response, status,
		http_status is null, input_tokens, output_tokens,
		tokens_estimated, printf(\"%.6f\", cost_usd), finish_reason,
		finish_reason_raw, attempts from requests order by id" >got &&
	cat >expect <<-\EOT &&
	parrot|mock|echo|one two three|ok|1|5|3|0|0.000011|stop|stop|1
	parrot|mock|echo|one two three|ok|1|3|3|0|0.000009|stop|stop|1
	EOT
	test_cmp expect got
'

test_expect_success '--json: the answer and its usage' '
	echo "one two" | llm-chat -m mock/echo --json >out &&
	jq -c "[.response, .provider, .status, .usage.input_tokens,
		.usage.output_tokens, .usage.estimated, .finish_reason,
		.request_id]" out >got &&
	echo "[\"one two\",\"mock\",\"ok\",2,2,false,\"stop\",null]" >expect &&
	test_cmp expect got
'

test_expect_success 'delay_ms passes before the first byte' '
	reset_log &&
	echo hi | llm-chat -m late/echo >out &&
	echo hi >expect &&
	test_cmp expect out &&
	test "$(sql "select ttft_ms >= 300, latency_ms >= 300 from requests")" = "1|1"
'

test_expect_success '+slow streams a word every 50 ms' '
	reset_log &&
	echo "w1 w2 w3 w4 w5 w6" | llm-chat -m mock/echo+slow >out &&
	echo "w1 w2 w3 w4 w5 w6" >expect &&
	test_cmp expect out &&
	test "$(sql "select latency_ms >= 250, ttft_ms < 100 from requests")" = "1|1"
'

test_expect_success 'a session continues with the mock' '
	reset_log &&
	echo first | llm-chat -S m -m mock/echo >/dev/null &&
	echo second | llm-chat -S m >out &&
	echo second >expect &&
	test_cmp expect out &&
	test "$(sql "select input_tokens from requests order by id desc limit 1")" = 3
'

test_expect_success '--dry-run says that nothing is sent' '
	echo hi | llm-chat -m mock/echo --dry-run >out 2>err &&
	test_must_be_empty err &&
	echo "# mock (type mock) answers offline: nothing is sent" >expect &&
	test_cmp expect out
'

if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip "SIGINT while the mock streams" "signal timing under valgrind"
else
	test_expect_success 'SIGINT while the mock streams: 130, kept and logged' '
		reset_log &&
		rm -f out &&
		echo "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20" >p &&
		{ llm-chat -m mock/echo+slow <p >out 2>err & } &&
		pid=$! &&
		i=0 &&
		while [ ! -s out ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
		sleep 0.2 &&
		kill -INT $pid &&
		{ wait $pid; echo $? >code; } &&
		test "$(cat code)" = 130 &&
		test -s out &&
		test "$(sql "select status from requests")" = interrupted &&
		test "$(sql "select response from requests")" = "$(head -c -1 out)" &&
		test "$(wc -c <out)" -lt 60
	'
fi

# Local answers run in the event loop beside the other calls.
if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip "two mock models answer at the same time" "timing under valgrind"
else
	# (Measured against the same run without delay_ms: starting and
	# ending the program takes a while of its own on a loaded machine.)
	test_expect_success 'two mock models answer at the same time' '
		reset_log &&
		t0=$(date +%s%N) &&
		llm-compare -m mock/one -m mock/two hi </dev/null >base &&
		t1=$(date +%s%N) &&
		llm-compare -m wait400/one -m wait400/two hi </dev/null >out &&
		t2=$(date +%s%N) &&
		ms=$(( (t2 - t1 - (t1 - t0)) / 1000000 )) &&
		grep "^This is" out >got &&
		printf "%s\n" "This is a mock reply from one." \
			"This is a mock reply from two." >expect &&
		test_cmp expect got &&
		sql "select model, status, ttft_ms >= 400, latency_ms >= 400
			from requests where provider = \"wait400\"
			order by model" >got &&
		printf "%s\n" "wait400/one|ok|1|1" "wait400/two|ok|1|1" >expect &&
		test_cmp expect got &&
		echo "two answers of 400 ms added $ms ms" &&
		test "$ms" -lt 700
	'
fi

test_expect_success 'a mock shadow does not hold back the answer' '
	reset_log &&
	rm -f fifo &&
	mkfifo fifo &&
	{ echo "a b c d e" | llm-chat -m mirror >fifo 2>err & } &&
	pid=$! &&
	cat fifo >out &&
	kill -0 $pid &&
	wait $pid &&
	echo "a b c d e" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	sql "select model, response, status, route from requests
		order by model" >got &&
	printf "%s\n" "mock/echo+slow|a b c d e|ok|mirror" \
		"shadowy/x|SHADOW|ok|mirror" >expect &&
	test_cmp expect got &&
	test "$(sql "select (select latency_ms from requests
		where model = \"mock/echo+slow\") < (select ttft_ms from requests
		where model = \"shadowy/x\")")" = 1
'

if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip "a mock shadow does not hold back an HTTP primary" \
		"timing under valgrind"
else
	test_expect_success 'a mock shadow does not hold back an HTTP primary' '
		reset_log &&
		echo hello | llm-chat -m mirror-http >out 2>err &&
		echo hello >expect &&
		test_cmp expect out &&
		sql "select model, response, status from requests order by model" >got &&
		printf "%s\n" "fake/echo|hello|ok" "shadowy/x|SHADOW|ok" >expect &&
		test_cmp expect got &&
		test "$(sql "select (select latency_ms from requests
			where model = \"fake/echo\") < (select ttft_ms from requests
			where model = \"shadowy/x\")")" = 1
	'
fi

test_expect_success '--first-byte-timeout ends a silent mock like a silent provider' '
	reset_log &&
	test_expect_code 75 llm-chat -m mute/echo --first-byte-timeout 0.2 \
		hi >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: mute: no answer within 0.2 s" >expect &&
	test_cmp expect err &&
	sql "select status, error, response, finish_reason, attempts,
		latency_ms >= 200 from requests" >got &&
	echo "error|mute: no answer within 0.2 s||error|1|1" >expect &&
	test_cmp expect got
'

test_expect_success '--idle-timeout ends a stalled mock stream, keeping its start' '
	reset_log &&
	test_expect_code 75 llm-chat -m mock/echo+slow --idle-timeout 0.02 \
		"w1 w2 w3" >out 2>err &&
	echo "w1 " >expect &&
	test_cmp expect out &&
	test "$(sql "select status, error, response, attempts from requests")" = \
		"error|mock: the answer stalled for 0.02 s|w1 |1"
'

if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip "SIGTERM while a mock waits" "signal timing under valgrind"
else
	test_expect_success 'SIGTERM while a mock waits for delay_ms: 143, logged' '
		reset_log &&
		{ llm-chat -m mute/echo hi >out 2>err & } &&
		pid=$! &&
		sleep 0.3 &&
		kill -TERM $pid &&
		{ wait $pid; echo $? >code; } &&
		test "$(cat code)" = 143 &&
		test_must_be_empty out &&
		test "$(sql "select status, error, response, ttft_ms from requests")" = \
			"interrupted|terminated||"
	'
fi

# The acceptance check of issue 3: one prompt through every type.
test_expect_success 'every type: the same bytes streamed and not, usage logged' '
	reset_log &&
	printf "The quick brown fox\njumps over \303\274ber the lazy dog." >prompt &&
	{ cat prompt; echo; } >expect &&
	for m in fake/echo ant/echo gem/echo oll/echo az/echo bed/echo \
		mock/echo; do
		llm-chat -m "$m" <prompt >s.out &&
		llm-chat -m "$m" --no-stream <prompt >n.out &&
		test_cmp expect s.out &&
		test_cmp expect n.out || return 1
	done &&
	sql "select provider, input_tokens, output_tokens, tokens_estimated,
		status, finish_reason from requests order by id" >got &&
	cat >expect <<-\EOT &&
	fake|13|10|0|ok|stop
	fake|13|10|0|ok|stop
	ant|13|10|0|ok|stop
	ant|13|10|0|ok|stop
	gem|13|10|0|ok|stop
	gem|13|10|0|ok|stop
	oll|13|10|0|ok|stop
	oll|13|10|0|ok|stop
	az|13|10|0|ok|stop
	az|13|10|0|ok|stop
	bed|13|10|0|ok|stop
	bed|13|10|0|ok|stop
	mock|10|10|0|ok|stop
	mock|10|10|0|ok|stop
	EOT
	test_cmp expect got
'

test_done
