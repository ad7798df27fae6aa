#!/bin/sh
# The response cache: opt-in, keyed on the whole request, free, logged.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-cache-1
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[model.cached]
provider = fake
name = echo+words
input_cost = 1
output_cost = 2
cache = true
'

test_expect_success 'without --cache, every request goes out' '
	llm-chat -m fake/echo hello there >/dev/null &&
	: >"$FAKE_LOG" &&
	llm-chat -m fake/echo hello there >out &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1
'

test_expect_success '--cache: the second identical request is answered from the cache' '
	reset_log &&
	llm-chat --cache -m fake/echo+words one two >first &&
	: >"$FAKE_LOG" &&
	llm-chat --cache -m fake/echo+words one two >second &&
	test_cmp first second &&
	echo "one two" >expect &&
	test_cmp expect second &&
	test_must_be_empty "$FAKE_LOG" &&
	sql "SELECT cached, attempts, coalesce(cost_usd = 0, 0), output_tokens > 0 FROM requests ORDER BY id" >got &&
	printf "0|1|0|1\n1|0|1|1\n" >expect &&
	test_cmp expect got
'

test_expect_success 'streamed and --no-stream share answers; --json says cached' '
	llm-chat --cache --no-stream --json -m fake/echo+words one two >out &&
	test "$(jq -r ".response, .cached, .cost_usd" out)" = "one two
true
0" &&
	test_must_be_empty "$FAKE_LOG"
'

test_expect_success 'a different option, system prompt or model is a different key' '
	llm-chat --cache -t 0.5 -m fake/echo+words one two >/dev/null &&
	llm-chat --cache -s sys -m fake/echo+words one two >/dev/null &&
	llm-chat --cache -m fake/echo one two >/dev/null &&
	test "$(wc -l <"$FAKE_LOG")" -eq 3
'

test_expect_success 'cache = true on a model turns it on; --no-cache turns it off' '
	llm-chat -m cached alpha >/dev/null &&
	: >"$FAKE_LOG" &&
	llm-chat -m cached alpha >out &&
	echo alpha >expect &&
	test_cmp expect out &&
	test_must_be_empty "$FAKE_LOG" &&
	llm-chat -m cached --no-cache alpha >/dev/null &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1
'

test_expect_success 'failures are not cached' '
	test_expect_code 69 llm-chat --cache --retries 0 -m fake/fail-500 hi 2>/dev/null &&
	: >"$FAKE_LOG" &&
	test_expect_code 69 llm-chat --cache --retries 0 -m fake/fail-500 hi 2>/dev/null &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1
'

test_expect_success 'the API key is stored nowhere; cache_ttl = 0 keeps nothing' '
	! grep -q "$FAKE_KEY" "$DB" &&
	printf "[defaults]\ncache_ttl = 0\n" >>"$LLM_CONFIG" &&
	: >"$FAKE_LOG" &&
	llm-chat --cache -m fake/echo+words one two >/dev/null &&
	test "$(wc -l <"$FAKE_LOG")" -eq 1
'

test_expect_success 'a group records its name as the route' '
	printf "[group.g]\nmodels = fake/fixed-X\n" >>"$LLM_CONFIG" &&
	llm-chat -m g hi >/dev/null &&
	test "$(sql "SELECT model || \" \" || route FROM requests ORDER BY id DESC LIMIT 1")" = "fake/fixed-X g"
'

test_done
