#!/bin/sh
# Rate-limit resets: a 429 without Retry-After that says when its limit
# resets (OpenAI's x-ratelimit-reset-*, Anthropic's
# anthropic-ratelimit-*-reset, Gemini's retryDelay) is retried after that
# wait; a reset beyond 120 s is not waited for, the call fails at once (or
# its group falls back) and the provider cools down that long; malformed
# values fall back to the backoff.
. "$(dirname "$0")/lib.sh"

fake_start
write_config "
[provider.claude]
type = anthropic
base_url = $FAKE_URL/v1

[provider.gem]
type = gemini
base_url = $FAKE_URL/v1beta

[provider.az]
type = azure
base_url = $FAKE_URL

[group.limited]
models = open/echo+fail-429+reset-600, gem/fixed-SECOND
"

# row MODEL: attempts and status of the logged request for MODEL
row() {
	sql "select attempts, status from requests where provider_model = '$1'"
}

# latency MODEL: its latency in ms
latency() {
	sql "select latency_ms from requests where provider_model = '$1'"
}

# sent MODEL: how many requests for MODEL the fake received (Gemini's
# model is in the path, percent-encoded)
sent() {
	jq -c --arg m "$1" 'select(.body.model == $m or
		(.path | contains("/models/" + ($m | @uri) + ":")))' \
		"$FAKE_LOG" | wc -l | tr -d " "
}

# waited ERR SECONDS: the -v output says the answer asked for SECONDS
# (a regular expression, e.g. "2\.000")
waited() {
	grep -Eq "^llm-chat: debug: [a-z]+: asked to wait $2 s\$" "$1" ||
	{ echo "no wait of $2 s in:" >&2; cat "$1" >&2; return 1; }
}

# retried ERR MODEL SECONDS: the -v output says that MODEL's first
# attempt failed with a 429 and was retried after SECONDS (a regular
# expression)
retried() {
	grep -F "/$2: attempt 1 failed (" "$1" |
		grep -Eq "HTTP 429: .*\); retrying in $3 s\$" ||
	{ echo "no retry after $3 s in:" >&2; cat "$1" >&2; return 1; }
}

test_expect_success 'OpenAI: x-ratelimit-reset-requests 2s, remaining 0: 2 s' '
	m=echo-oai+failfirst-429+reset-2 &&
	echo hi | llm-chat -v --retries 1 -m "open/$m" >out 2>err &&
	echo hi >expect &&
	test_cmp expect out &&
	waited err "2\.000" &&
	retried err "$m" "2\.0" &&
	test "$(row "$m")" = "2|ok" &&
	test "$(sent "$m")" = 2 &&
	l=$(latency "$m") && test "$l" -ge 1990 && test "$l" -lt 30000
'

test_expect_success 'Azure: the same headers' '
	m=echo-az+failfirst-429+reset-1 &&
	echo hi | llm-chat -v --retries 1 -m "az/$m" >out 2>err &&
	test_cmp expect out &&
	waited err "1\.000" &&
	test "$(row "$m")" = "2|ok" &&
	l=$(latency "$m") && test "$l" -ge 990 && test "$l" -lt 30000
'

# The token limit, not exhausted, resets within 1 s, the request limit 2 s
# after the fake's clock rounded up: a wait of 1 s or more is the latter's
# (less than 2 s only by the time the answer took to arrive).
test_expect_success 'Anthropic: the exhausted limit, not the sooner token reset' '
	m=echo-anth+failfirst-429+reset-2 &&
	echo hi | llm-chat -v --retries 1 -m "claude/$m" >out 2>err &&
	test_cmp expect out &&
	waited err "[12]\.[0-9]{3}" &&
	test "$(row "$m")" = "2|ok" &&
	test "$(sent "$m")" = 2 &&
	l=$(latency "$m") && test "$l" -ge 1990 && test "$l" -lt 30000
'

test_expect_success 'Anthropic: retry-after wins over the reset headers' '
	m=echo-anth2+failfirst-429 &&
	echo hi | llm-chat -v --retries 1 -m "claude/$m" >out 2>err &&
	test_cmp expect out &&
	waited err "1\.000" &&
	test "$(row "$m")" = "2|ok"
'

test_expect_success 'Gemini: the retryDelay of RetryInfo' '
	m=echo-gem+failfirst-429+reset-2 &&
	echo hi | llm-chat -v --retries 1 -m "gem/$m" >out 2>err &&
	test_cmp expect out &&
	waited err "2\.000" &&
	retried err "$m" "2\.0" &&
	test "$(row "$m")" = "2|ok" &&
	test "$(sent "$m")" = 2 &&
	l=$(latency "$m") && test "$l" -ge 1990 && test "$l" -lt 30000
'

for p in open claude gem; do
	test_expect_success "$p: a malformed reset is ignored: the backoff" "
		m=echo-bad-$p+failfirst-429+reset-bad &&
		echo hi | llm-chat -v --retries 1 -m $p/\$m >out 2>err &&
		test_cmp expect out &&
		test_not_grep 'asked to wait' err &&
		retried err \"\$m\" '0\.[0-5]' &&
		test \"\$(row \"\$m\")\" = '2|ok' &&
		test \"\$(sent \"\$m\")\" = 2
	"
done

test_expect_success 'a reset beyond 120 s: no retry, the provider cools down' '
	m=echo+fail-429+reset-300 &&
	echo hi | test_expect_code 75 llm-chat --retries 2 -m "open/$m" >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: open: HTTP 429: Rate limit reached for requests" >expect.err &&
	test_cmp expect.err err &&
	test "$(row "$m")" = "1|error" &&
	test "$(sent "$m")" = 1 &&
	test "$(sql "select until_ms - failed_at_ms, reason from guard_health where provider = '\''open'\''")" = "300000|HTTP 429" &&
	llm-providers open >got &&
	test "$(sed -n 2p got | awk "{print \$3, \$4}")" = "cooling down" &&
	s=$(llm-providers --json open | jq -r ".[0].cooldown_s") &&
	test "$s" -ge 280 && test "$s" -le 300
'

test_expect_success 'the same for Anthropic and Gemini, and -v says why' '
	echo hi | test_expect_code 75 llm-chat -v --retries 2 -m claude/echo+fail-429+reset-300 2>err &&
	grep -Eq "^llm-chat: debug: claude: asked to wait (29[0-9]|30[01])\.[0-9] s, longer than 120 s: no retry now\$" err &&
	echo hi | test_expect_code 75 llm-chat -v --retries 2 -m gem/echo+fail-429+reset-300 2>err &&
	test_grep "gem: asked to wait 300.0 s, longer than 120 s: no retry now" err &&
	test "$(sql "select provider, attempts from requests where provider_model = '\''echo+fail-429+reset-300'\'' order by id")" = "open|1
claude|1
gem|1" &&
	w=$(sql "select until_ms - failed_at_ms from guard_health where provider = '\''claude'\''") &&
	test "$w" -ge 290000 && test "$w" -le 301000 &&
	test "$(sql "select until_ms - failed_at_ms from guard_health where provider = '\''gem'\''")" = 300000 &&
	test "$(llm-providers --json claude gem | jq -r "map(.status) | join(\",\")")" = "cooling down,cooling down"
'

test_expect_success 'a group falls back at once instead of waiting' '
	sql "delete from guard_health" &&
	echo hi | llm-chat --retries 2 -m limited >out 2>err &&
	echo SECOND >expect.second &&
	test_cmp expect.second out &&
	test "$(sent echo+fail-429+reset-600)" = 1 &&
	test "$(sql "select attempts, status from requests where provider_model = '\''echo+fail-429+reset-600'\''")" = "1|error" &&
	s=$(llm-providers --json open | jq -r ".[0].cooldown_s") &&
	test "$s" -ge 580 && test "$s" -le 600
'

test_done
