#!/bin/sh
# Provider health: a provider that failed cools down for the longer of
# its cooldown and its Retry-After, between runs; llm-providers shows it.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-health-321
export FAKE_KEY
fake_start -k "$FAKE_KEY"

# A second provider on the fake, with the key.
OTHER="
[provider.other]
type = openai
base_url = $FAKE_URL/v1
api_key = \${FAKE_KEY}
"

health_config() {
	reset_log
	: >"$FAKE_LOG"
	write_config "$OTHER
${1:-}"
}

# cooldown PROVIDER: the seconds of cooldown llm-providers --json shows.
cooldown() {
	llm-providers --json "$1" | jq -r ".[0].cooldown_s"
}

test_expect_success 'a provider without failures is ready, cooldown 0' '
	health_config &&
	llm-chat -m fake/echo hi >/dev/null &&
	llm-providers --json fake | jq -r ".[0] | [.status, .cooldown_s] | @tsv" >got &&
	printf "ready\t0\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a 500: the next run shows it cooling down' '
	test_expect_code 69 llm-chat -m fake/fail-500 hi 2>err &&
	llm-providers fake >out &&
	test "$(sed -n 2p out | awk "{print \$3, \$4}")" = "cooling down" &&
	s=$(sed -n "2s/.*cooling down (\([0-9]*\) s).*/\1/p" out) &&
	test "$s" -ge 15 && test "$s" -le 30 &&
	llm-providers --json fake | jq -r ".[0].status" >got &&
	echo "cooling down" >expect &&
	test_cmp expect got &&
	s=$(cooldown fake) &&
	test "$s" -ge 15 && test "$s" -le 30 &&
	test "$(sql "select reason from guard_health")" = "HTTP 500"
'

test_expect_success 'the table keeps its columns' '
	llm-providers >out &&
	head -n 1 out >got &&
	echo "PROVIDER  TYPE    STATUS               MODELS  BASE URL" >expect &&
	test_cmp expect got &&
	test "$(grep "^open " out | awk "{print \$3}")" = ready
'

test_expect_success 'a success ends the cooldown (a provider under a limit)' '
	health_config "
[provider.fake]
rpm = 1000
" &&
	test_expect_code 69 llm-chat -m fake/fail-503 hi 2>err &&
	test "$(cooldown fake)" -ge 15 &&
	llm-chat -m fake/echo hi >/dev/null &&
	test "$(cooldown fake)" -eq 0 &&
	test "$(sql "select count(*) from guard_health")" -eq 0
'

test_expect_success 'the cooldown of the provider, else of [defaults]' '
	health_config "
[defaults]
cooldown = 5m

[provider.other]
cooldown = 1m
" &&
	test_expect_code 69 llm-chat -m fake/fail-500 hi 2>/dev/null &&
	test_expect_code 69 llm-chat -m other/fail-500 hi 2>/dev/null &&
	s=$(cooldown fake) && test "$s" -ge 280 && test "$s" -le 300 &&
	s=$(cooldown other) && test "$s" -ge 40 && test "$s" -le 60
'

test_expect_success 'Retry-After when it is longer; a cooldown runs out' '
	health_config "
[provider.fake]
cooldown = 0
" &&
	test_expect_code 75 llm-chat -m fake/fail-429 hi 2>/dev/null &&
	test "$(sql "select until_ms - failed_at_ms from guard_health")" = 1000 &&
	test "$(cooldown fake)" -le 1 &&
	sleep 1.1 &&
	test "$(cooldown fake)" -eq 0 &&
	test "$(llm-providers --json fake | jq -r ".[0].status")" = ready
'

test_expect_success 'a time-out is a failure' '
	health_config &&
	test_expect_code 75 llm-chat --timeout 0.5 -m fake/hang hi 2>/dev/null &&
	test "$(cooldown fake)" -ge 15
'

test_expect_success 'not a failure of the provider: a refused key, bad data, a limit' '
	health_config "
[provider.fake]
rpm = 1
" &&
	FAKE_KEY=wrong test_expect_code 77 llm-chat -m fake/echo hi 2>/dev/null &&
	test_expect_code 65 llm-chat -m fake/echo+malformed --no-stream hi 2>/dev/null &&
	test_expect_code 75 llm-chat --no-wait -m fake/echo hi 2>err &&
	test_grep "rate limit of 1 request per minute" err &&
	test "$(cooldown fake)" -eq 0 &&
	test "$(sql "select count(*) from guard_health")" -eq 0
'

test_expect_success 'a disabled provider stays disabled' '
	health_config &&
	test_expect_code 69 llm-chat -m other/fail-500 hi 2>/dev/null &&
	write_config "$OTHER
[provider.other]
enabled = false
" &&
	llm-providers --json other | jq -r ".[0] | [.status, (.cooldown_s > 0)] | @tsv" >got &&
	printf "disabled\ttrue\n" >expect &&
	test_cmp expect got
'

test_expect_success 'llm-providers without a database creates none' '
	write_config &&
	reset_log &&
	llm-providers >/dev/null &&
	test ! -e "$DB"
'

test_done
