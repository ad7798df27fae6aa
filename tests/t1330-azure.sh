#!/bin/sh
# llm-chat against Azure OpenAI: deployment and v1 URLs, api-version, the
# api-key header, the filter-only first chunk, usage and every fault.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=az-secret-654
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config "
[provider.az]
type = azure
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.az-ver]
type = azure
base_url = $FAKE_URL/
api_version = 2025-04-01-preview
api_key = \${FAKE_KEY}

[provider.az-v1]
type = azure
base_url = $FAKE_URL/openai/v1
api_key = \${FAKE_KEY}

[model.gpt4o]
provider = az
name = echo
input_cost = 2.5
output_cost = 10
"

req() {
	tail -n 1 "$FAKE_LOG" | jq -r "$1"
}

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m az/echo >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'the request body: the OpenAI body without model' '
	echo "Say hi" | llm-chat -m az/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Say hi"}],"temperature":0.2,"top_p":0.9,"max_completion_tokens":64,"stop":["###","END"],"stream":true,"stream_options":{"include_usage":true}}
	EOT
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'the deployment URL, api-version, the key in api-key' '
	echo hi | llm-chat -m az/echo >/dev/null &&
	test "$(req .path)" = /openai/deployments/echo/chat/completions &&
	test "$(req .query)" = api-version=2024-10-21 &&
	test "$(req ".headers[\"api-key\"]")" = "$FAKE_KEY" &&
	test "$(req .headers.authorization)" = null
'

test_expect_success 'api_version is configurable, the deployment escaped' '
	echo "a b" | llm-chat -m az-ver/echo+words >out &&
	test "$(req .path)" = "/openai/deployments/echo%2Bwords/chat/completions" &&
	test "$(req .query)" = api-version=2025-04-01-preview &&
	echo "a b" >expect &&
	test_cmp expect out
'

test_expect_success 'the v1 form: model in the body, no api-version' '
	echo "Say hi" | llm-chat -m az-v1/echo --no-stream >out &&
	test "$(req .path)" = /openai/v1/chat/completions &&
	test "$(req .query)" = "" &&
	test "$(req ".headers[\"api-key\"]")" = "$FAKE_KEY" &&
	last_request >got &&
	echo "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}" >expect &&
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out &&
	echo "a b c" | llm-chat -m az-v1/echo+words >out &&
	echo "a b c" >expect &&
	test_cmp expect out
'

test_expect_success 'the fake: a filter-only first chunk; api-version required' '
	curl -sN "$FAKE_URL/openai/deployments/echo/chat/completions?api-version=1" \
		-H "api-key: $FAKE_KEY" \
		-d "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" >raw &&
	head -n 1 raw | sed "s/^data: //" | jq -c "[.id, .choices, (.prompt_filter_results | length)]" >got &&
	echo "[\"\",[],1]" >expect &&
	test_cmp expect got &&
	curl -s "$FAKE_URL/openai/deployments/echo/chat/completions" \
		-H "api-key: $FAKE_KEY" -d "{\"messages\":[]}" >raw &&
	printf "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}" >expect &&
	test_cmp expect raw
'

for opt in crlf comments split words close crlf+comments+split; do
	test_expect_success "event-stream variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over the lazy dog.' >prompt &&
		llm-chat -m 'az/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo big-5000 fixed-; do
		printf "a b\n\nc" | llm-chat -m "az/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "az/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'usage, cost, finish and ids are logged, streamed or not' '
	reset_log &&
	echo "hello world" | llm-chat -m gpt4o >out &&
	echo "hello world" | llm-chat -m gpt4o --no-stream >out &&
	sql "select provider, provider_model, response, status, http_status,
		input_tokens, output_tokens, cached_tokens, tokens_estimated,
		printf(\"%.7f\", cost_usd), finish_reason, finish_reason_raw,
		response_id like \"chatcmpl-fake%\"
		from requests order by id" >got &&
	cat >expect <<-\EOT &&
	az|echo|hello world|ok|200|5|2||0|0.0000325|stop|stop|1
	az|echo|hello world|ok|200|5|2|0|0|0.0000325|stop|stop|1
	EOT
	test_cmp expect got
'

test_expect_success 'a reply without usage gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m az/echo+nousage >/dev/null &&
	test "$(sql "select input_tokens, output_tokens, tokens_estimated from requests")" = "3|2|1"
'

test_expect_success 'a filtered completion: content_filter' '
	reset_log &&
	echo hi | llm-chat -m az/echo+finish-content_filter >/dev/null &&
	test "$(sql "select finish_reason, finish_reason_raw from requests")" = "content_filter|content_filter"
'

test_expect_success '--dry-run shows the request, key redacted' '
	echo "Say hi" | llm-chat -m az/echo --dry-run >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >got &&
	echo "POST $FAKE_URL/openai/deployments/echo/chat/completions?api-version=2024-10-21" >expect &&
	test_cmp expect got &&
	test_grep "api-key: ***" out &&
	test_not_grep "$FAKE_KEY" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-chat -vv -m az/echo >out 2>err &&
	echo hi | llm-chat -m az/echo --json >>out 2>>err &&
	echo hi | llm-chat -m az/fail-401 >>out 2>>err;
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump &&
	test_grep "api-key: ***" err
'

test_expect_success 'a wrong key: 77, naming the variable' '
	echo hi | FAKE_KEY=wrong test_expect_code 77 llm-chat -m az/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: az: HTTP 401: Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource; check FAKE_KEY" >expect &&
	test_cmp expect err
'

test_expect_success 'an unknown deployment: 78, naming it' '
	echo hi | test_expect_code 78 llm-chat -m az/nonesuch 2>err &&
	test_grep "HTTP 404: The API deployment for this resource does not exist." err &&
	test_grep "check the model id '\''nonesuch'\''" err
'

test_expect_success '500 and 503: 69' '
	echo hi | test_expect_code 69 llm-chat -m az/fail-500 2>err &&
	test_grep "HTTP 500" err &&
	echo hi | test_expect_code 69 llm-chat -m az/fail-503 2>err &&
	test_grep "temporarily unable" err
'

test_expect_success '429: 75' '
	echo hi | test_expect_code 75 llm-chat -m az/fail-429 2>err &&
	test_grep "exceeded token rate limit" err
'

test_expect_success 'a transient 500, then an answer when retried' '
	reset_log &&
	echo "second time" | llm-chat -m az/echo+failfirst-500 --retries 1 >out &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status from requests")" = "2|ok"
'

test_expect_success 'an error event mid-stream: 69, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 69 llm-chat -m az/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'malformed event or whole reply: 65' '
	echo "one two three" |
		test_expect_code 65 llm-chat -m az/echo+malformed+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	echo hi | test_expect_code 65 llm-chat -m az/echo+malformed --no-stream 2>err
'

test_expect_success 'a cut stream: 65, the partial answer kept' '
	echo "one two three four" |
		test_expect_code 65 llm-chat -m az/echo+cut+words >out 2>err &&
	echo "one two " >expect &&
	test_cmp expect out
'

test_done
