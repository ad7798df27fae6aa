#!/bin/sh
# llm-chat against the Anthropic Messages protocol: the request on the
# wire, the key, streamed and whole answers, usage, and every fault.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-ant-secret-456
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config "
[provider.claude]
type = anthropic
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.claude-v]
type = anthropic
base_url = $FAKE_URL/v1
api_key = \${FAKE_KEY}
anthropic_version = 2024-01-01

[provider.claude-nokey]
type = anthropic
base_url = $FAKE_URL

[model.haiku]
provider = claude
name = echo
max_output_tokens = 8192
input_cost = 1
output_cost = 5
"

# req FIELD: a field of the last request the fake received
req() {
	tail -n 1 "$FAKE_LOG" | jq -r "$1"
}

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m claude/echo >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'the request body is what the protocol wants' '
	echo "Say hi" | llm-chat -m claude/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"model":"echo","max_tokens":64,"system":"Be terse.","messages":[{"role":"user","content":"Say hi"}],"temperature":0.2,"top_p":0.9,"stop_sequences":["###","END"],"stream":true}
	EOT
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'max_tokens is always sent: registry, else 4096' '
	echo hi | llm-chat -m haiku --no-stream >out &&
	last_request >got &&
	echo "{\"model\":\"echo\",\"max_tokens\":8192,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" >expect &&
	test_cmp expect got &&
	echo hi | llm-chat -m claude/echo-model --no-stream >out &&
	test "$(req .body.max_tokens)" = 4096 &&
	echo hi >expect &&
	test_cmp expect out
'

test_expect_success 'the key in x-api-key, the version, the path' '
	echo hi | llm-chat -m claude/echo >/dev/null &&
	test "$(req .path)" = /v1/messages &&
	test "$(req ".headers[\"x-api-key\"]")" = "$FAKE_KEY" &&
	test "$(req ".headers[\"anthropic-version\"]")" = 2023-06-01 &&
	test "$(req ".headers[\"content-type\"]")" = application/json &&
	test "$(req .headers.authorization)" = null
'

test_expect_success 'anthropic_version is configurable; a base_url with /v1' '
	echo hi | llm-chat -m claude-v/echo >out &&
	test "$(req .path)" = /v1/messages &&
	test "$(req ".headers[\"anthropic-version\"]")" = 2024-01-01
'

test_expect_success '-o adds fields; system and history go where they belong' '
	echo hi | llm-chat -m claude/echo -o top_k=5 \
		-o metadata="{\"user_id\":\"u1\"}" >/dev/null &&
	last_request | jq -c "[.top_k, .metadata]" >got &&
	echo "[5,{\"user_id\":\"u1\"}]" >expect &&
	test_cmp expect got &&
	reset_log &&
	echo one | llm-chat -S conv -m claude/echo -s "Be brief." >/dev/null &&
	echo two | llm-chat -S conv >out &&
	last_request | jq -c "[.system, [.messages[].role], [.messages[].content]]" >got &&
	echo "[\"Be brief.\",[\"user\",\"assistant\",\"user\"],[\"one\",\"one\",\"two\"]]" >expect &&
	test_cmp expect got
'

test_expect_success 'the parameters arrive as sent' '
	echo hi | llm-chat -m claude/params -t 0.5 --max-tokens 7 --stop x \
		--top-p 0.25 --no-stream >out &&
	echo "{\"temperature\":0.5,\"top_p\":0.25,\"max_tokens\":7,\"stop_sequences\":[\"x\"],\"messages\":1}" >expect &&
	test_cmp expect out
'

test_expect_success 'the system prompt is the top-level field' '
	echo hi | llm-chat -m claude/sys -s "You are a test." >out &&
	echo "You are a test." >expect &&
	test_cmp expect out
'

for m in utf8 utf8+split utf8+ascii; do
	test_expect_success "multibyte UTF-8 comes out byte-exact ($m)" "
		echo x | llm-chat -m claude/$m >out &&
		printf 'h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n' >expect &&
		test_cmp expect out
	"
done

for opt in crlf cr comments nospace multiline fields split words close \
	thinking crlf+comments+fields+thinking; do
	test_expect_success "event-stream variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over the lazy dog.' >prompt &&
		llm-chat -m 'claude/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo big-5000 fixed- echo+thinking; do
		printf "a b\n\nc" | llm-chat -m "claude/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "claude/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'usage, cost, finish and ids are logged, streamed or not' '
	reset_log &&
	echo "hello world" | llm-chat -m haiku >out &&
	echo "hello world" | llm-chat -m haiku --no-stream >out &&
	sql "select provider, provider_model, response, status, http_status,
		input_tokens, output_tokens, cached_tokens, tokens_estimated,
		printf(\"%.6f\", cost_usd), finish_reason, finish_reason_raw,
		response_id like \"msg_fake%\"
		from requests order by id" >got &&
	cat >expect <<-\EOT &&
	claude|echo|hello world|ok|200|5|2|0|0|0.000015|stop|end_turn|1
	claude|echo|hello world|ok|200|5|2|0|0|0.000015|stop|end_turn|1
	EOT
	test_cmp expect got
'

test_expect_success 'the system prompt counts in the input tokens' '
	reset_log &&
	echo "hello world" | llm-chat -m claude/echo -s "Be brief." --json >out &&
	jq -c "[.usage.input_tokens, .usage.output_tokens, .usage.estimated, .finish_reason_raw]" out >got &&
	echo "[10,2,false,\"end_turn\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'a reply without usage gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m claude/echo+nousage >/dev/null &&
	test "$(sql "select input_tokens, output_tokens, tokens_estimated from requests")" = "3|2|1"
'

test_expect_success 'stop reasons are normalized, the raw one kept' '
	reset_log &&
	echo hi | llm-chat -m claude/echo+finish-max_tokens >/dev/null &&
	echo hi | llm-chat -m claude/echo+finish-refusal --no-stream >/dev/null &&
	echo hi | llm-chat -m claude/echo+finish-stop_sequence >/dev/null &&
	echo hi | llm-chat -m claude/echo+finish-tool_use >/dev/null &&
	sql "select finish_reason, finish_reason_raw from requests order by id" >got &&
	printf "length|max_tokens\ncontent_filter|refusal\nstop|stop_sequence\ntool_calls|tool_use\n" >expect &&
	test_cmp expect got
'

test_expect_success '--dry-run shows the request, key redacted' '
	echo "Say hi" | llm-chat -m claude/echo --dry-run >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >got &&
	echo "POST $FAKE_URL/v1/messages" >expect &&
	test_cmp expect got &&
	test_grep "x-api-key: ***" out &&
	test_grep "anthropic-version: 2023-06-01" out &&
	test_not_grep "$FAKE_KEY" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-chat -vv -m claude/echo >out 2>err &&
	echo hi | llm-chat -m claude/echo --json >>out 2>>err &&
	echo hi | llm-chat -vv -m claude/fail-401 >>out 2>>err;
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump &&
	test_grep "x-api-key: ***" err
'

test_expect_success 'a wrong key: 77, naming the variable' '
	echo hi | FAKE_KEY=sk-wrong test_expect_code 77 llm-chat -m claude/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: claude: HTTP 401: invalid x-api-key (authentication_error); check FAKE_KEY" >expect &&
	test_cmp expect err
'

test_expect_success 'a provider without a key sends none: 77' '
	echo hi | test_expect_code 77 llm-chat -m claude-nokey/echo 2>err &&
	test "$(req ".headers[\"x-api-key\"]")" = null &&
	test_grep "HTTP 401" err
'

test_expect_success '529 overloaded: 69, the message and its type' '
	echo hi | test_expect_code 69 llm-chat -m claude/fail-529 >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: claude: HTTP 529: Overloaded (overloaded_error)" >expect &&
	test_cmp expect err
'

test_expect_success '500: 69' '
	echo hi | test_expect_code 69 llm-chat -m claude/fail-500 2>err &&
	test_grep "Internal server error (api_error)" err
'

test_expect_success '429 rate limited: 75' '
	echo hi | test_expect_code 75 llm-chat -m claude/fail-429 2>err &&
	test_grep "HTTP 429" err &&
	test_grep "(rate_limit_error)" err
'

test_expect_success '404 unknown model: 78' '
	echo hi | test_expect_code 78 llm-chat -m claude/nonesuch 2>err &&
	echo "llm-chat: error: claude: HTTP 404: model: nonesuch (not_found_error)" >expect &&
	test_cmp expect err
'

test_expect_success '529 once, then an answer when retried' '
	reset_log &&
	echo "second time" | llm-chat -m claude/echo+failfirst-529 --retries 1 >out &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status from requests")" = "2|ok"
'

test_expect_success 'an error event mid-stream: 69, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 69 llm-chat -m claude/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: claude: error in the stream: Overloaded (overloaded_error)" >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response, finish_reason from requests")" = "error|one |error"
'

test_expect_success 'malformed event: 65, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 65 llm-chat -m claude/echo+malformed+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "malformed event" err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'malformed whole reply: 65' '
	echo hi | test_expect_code 65 llm-chat -m claude/echo+malformed --no-stream 2>err &&
	test_grep "malformed reply" err
'

test_expect_success 'a cut stream: 65, the partial answer kept' '
	reset_log &&
	echo "one two three four five six" |
		test_expect_code 65 llm-chat -m claude/echo+cut+words >out 2>err &&
	printf "one two three \n" >expect &&
	test_cmp expect out &&
	test "$(sql "select status, response from requests")" = "error|one two three "
'

test_expect_success 'a stream closed cleanly without message_stop: 65' '
	echo "one two" |
		test_expect_code 65 llm-chat -m claude/echo+cut+close+words >out 2>err &&
	echo "llm-chat: error: claude: the stream ended without message_stop" >expect &&
	test_cmp expect err
'

test_expect_success 'a cut whole reply: 65' '
	echo hi | test_expect_code 65 llm-chat -m claude/echo+cut --no-stream 2>err
'

test_done
