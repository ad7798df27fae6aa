#!/bin/sh
# llm-chat against the Gemini API: the request on the wire, the key,
# streams that end without a marker, usage, blocks and every fault.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=AIza-secret-789
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config "
[provider.gem]
type = gemini
base_url = $FAKE_URL/v1beta
api_key = \${FAKE_KEY}

[provider.gem-nokey]
type = gemini
base_url = $FAKE_URL/v1beta

[model.flash]
provider = gem
name = echo
input_cost = 0.3
output_cost = 2.5
"

req() {
	tail -n 1 "$FAKE_LOG" | jq -r "$1"
}

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m gem/echo >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'the request body is what the protocol wants' '
	echo "Say hi" | llm-chat -m gem/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"contents":[{"role":"user","parts":[{"text":"Say hi"}]}],"systemInstruction":{"parts":[{"text":"Be terse."}]},"generationConfig":{"temperature":0.2,"topP":0.9,"maxOutputTokens":64,"stopSequences":["###","END"]}}
	EOT
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'streaming and whole URLs, the key in x-goog-api-key' '
	echo hi | llm-chat -m gem/echo >/dev/null &&
	test "$(req .path)" = /v1beta/models/echo:streamGenerateContent &&
	test "$(req .query)" = alt=sse &&
	test "$(req ".headers[\"x-goog-api-key\"]")" = "$FAKE_KEY" &&
	test "$(req .headers.authorization)" = null &&
	echo hi | llm-chat -m gem/echo --no-stream >/dev/null &&
	test "$(req .path)" = /v1beta/models/echo:generateContent &&
	test "$(req .query)" = "" &&
	last_request >got &&
	echo "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}" >expect &&
	test_cmp expect got
'

test_expect_success 'the model id is escaped in the path' '
	echo "a b" | llm-chat -m "gem/echo+words" >out &&
	test "$(req .path)" = "/v1beta/models/echo%2Bwords:streamGenerateContent" &&
	echo "a b" >expect &&
	test_cmp expect out
'

test_expect_success 'assistant turns are sent with the role model' '
	reset_log &&
	echo one | llm-chat -S conv -m gem/echo >/dev/null &&
	echo two | llm-chat -S conv >out &&
	last_request | jq -c "[.contents[].role]" >got &&
	echo "[\"user\",\"model\",\"user\"]" >expect &&
	test_cmp expect got &&
	echo two >expect &&
	test_cmp expect out
'

test_expect_success '-o: generationConfig fields go into it, others on top' '
	echo hi | llm-chat -m gem/echo -t 1 -o seed=42 -o safetySettings="[]" \
		-o topK=3 >/dev/null &&
	last_request | jq -c "[.generationConfig, .safetySettings, .seed]" >got &&
	echo "[{\"temperature\":1,\"seed\":42,\"topK\":3},[],null]" >expect &&
	test_cmp expect got
'

test_expect_success 'the parameters arrive as sent' '
	echo hi | llm-chat -m gem/params -t 0.5 --max-tokens 7 --stop x \
		--top-p 0.25 --no-stream >out &&
	echo "{\"temperature\":0.5,\"topP\":0.25,\"maxOutputTokens\":7,\"stopSequences\":[\"x\"],\"messages\":1}" >expect &&
	test_cmp expect out
'

test_expect_success 'the system prompt is the systemInstruction' '
	echo hi | llm-chat -m gem/sys -s "You are a test." >out &&
	echo "You are a test." >expect &&
	test_cmp expect out
'

for m in utf8 utf8+split utf8+ascii; do
	test_expect_success "multibyte UTF-8 comes out byte-exact ($m)" "
		echo x | llm-chat -m gem/$m >out &&
		printf 'h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n' >expect &&
		test_cmp expect out
	"
done

for opt in crlf cr comments nospace multiline fields split words close \
	thinking cr+multiline+thinking; do
	test_expect_success "event-stream variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over the lazy dog.' >prompt &&
		llm-chat -m 'gem/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo big-5000 fixed- echo+thinking; do
		printf "a b\n\nc" | llm-chat -m "gem/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "gem/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'usage, cost, finish and ids are logged, streamed or not' '
	reset_log &&
	echo "hello world" | llm-chat -m flash >out &&
	echo "hello world" | llm-chat -m flash --no-stream >out &&
	sql "select provider, provider_model, response, status, http_status,
		input_tokens, output_tokens, tokens_estimated,
		printf(\"%.7f\", cost_usd), finish_reason, finish_reason_raw,
		response_id like \"fakeresp-%\"
		from requests order by id" >got &&
	cat >expect <<-\EOT &&
	gem|echo|hello world|ok|200|5|2|0|0.0000065|stop|STOP|1
	gem|echo|hello world|ok|200|5|2|0|0.0000065|stop|STOP|1
	EOT
	test_cmp expect got
'

test_expect_success 'an empty answer has 0 output tokens, not an estimate' '
	reset_log &&
	echo hi | llm-chat -m gem/fixed- >out &&
	echo hi | llm-chat -m gem/fixed- --no-stream >>out &&
	printf "\n\n" >expect &&
	test_cmp expect out &&
	sql "select input_tokens, output_tokens, tokens_estimated from requests" >got &&
	printf "4|0|0\n4|0|0\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a reply without usage gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m gem/echo+nousage >/dev/null &&
	test "$(sql "select input_tokens, output_tokens, tokens_estimated from requests")" = "3|2|1"
'

test_expect_success 'a blocked prompt: no text, content_filter, exit 0' '
	reset_log &&
	echo hi | llm-chat -m gem/echo+blocked >out 2>err &&
	echo hi | llm-chat -m gem/echo+blocked --no-stream >>out 2>>err &&
	printf "\n\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	sql "select status, response, finish_reason, finish_reason_raw from requests" >got &&
	printf "ok||content_filter|SAFETY\nok||content_filter|SAFETY\n" >expect &&
	test_cmp expect got
'

test_expect_success 'finish reasons are normalized, the raw one kept' '
	reset_log &&
	echo hi | llm-chat -m gem/echo+finish-MAX_TOKENS >/dev/null &&
	echo hi | llm-chat -m gem/echo+finish-SAFETY --no-stream >/dev/null &&
	echo hi | llm-chat -m gem/echo+finish-RECITATION >/dev/null &&
	sql "select finish_reason, finish_reason_raw from requests order by id" >got &&
	printf "length|MAX_TOKENS\ncontent_filter|SAFETY\ncontent_filter|RECITATION\n" >expect &&
	test_cmp expect got
'

test_expect_success '--dry-run shows the request, key redacted' '
	echo "Say hi" | llm-chat -m gem/echo --dry-run >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >got &&
	echo "POST $FAKE_URL/v1beta/models/echo:streamGenerateContent?alt=sse" >expect &&
	test_cmp expect got &&
	test_grep "x-goog-api-key: ***" out &&
	test_not_grep "$FAKE_KEY" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-chat -vv -m gem/echo >out 2>err &&
	echo hi | llm-chat -m gem/echo --json >>out 2>>err &&
	echo hi | FAKE_KEY=AIza-wrong llm-chat -vv -m gem/echo >>out 2>>err;
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	test_not_grep AIza-wrong err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump &&
	test_grep "x-goog-api-key: ***" err
'

test_expect_success 'a wrong key (400 API_KEY_INVALID): 77, naming the variable' '
	echo hi | FAKE_KEY=AIza-wrong test_expect_code 77 llm-chat -m gem/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: gem: HTTP 400: API key not valid. Please pass a valid API key. (INVALID_ARGUMENT); check FAKE_KEY" >expect &&
	test_cmp expect err
'

test_expect_success 'no key at all (403): 77, and none was sent' '
	echo hi | test_expect_code 77 llm-chat -m gem-nokey/echo 2>err &&
	test "$(req ".headers[\"x-goog-api-key\"]")" = null &&
	test_grep "HTTP 403" err &&
	test_grep "(PERMISSION_DENIED)" err
'

test_expect_success '503 overloaded: 69' '
	echo hi | test_expect_code 69 llm-chat -m gem/fail-503 >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: gem: HTTP 503: The model is overloaded. Please try again later. (UNAVAILABLE)" >expect &&
	test_cmp expect err
'

test_expect_success '500: 69' '
	echo hi | test_expect_code 69 llm-chat -m gem/fail-500 2>err &&
	test_grep "(INTERNAL)" err
'

test_expect_success '429 quota: 75' '
	echo hi | test_expect_code 75 llm-chat -m gem/fail-429 2>err &&
	test_grep "HTTP 429" err &&
	test_grep "(RESOURCE_EXHAUSTED)" err
'

test_expect_success '404 unknown model: 78, one mention of it' '
	echo hi | test_expect_code 78 llm-chat -m gem/nonesuch 2>err &&
	echo "llm-chat: error: gem: HTTP 404: models/nonesuch is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods. (NOT_FOUND)" >expect &&
	test_cmp expect err
'

test_expect_success '503 once, then an answer when retried' '
	reset_log &&
	echo "second time" | llm-chat -m gem/echo+failfirst-503 --retries 1 >out &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status from requests")" = "2|ok"
'

test_expect_success 'a stream that ends without a finishReason: 65, kept' '
	reset_log &&
	echo "one two three four" |
		test_expect_code 65 llm-chat -m gem/echo+cut+close+words >out 2>err &&
	echo "one two " >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: gem: the stream ended without a finishReason" >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response from requests")" = "error|one two "
'

test_expect_success 'a stream cut short mid-transfer: 65' '
	echo "one two three four" |
		test_expect_code 65 llm-chat -m gem/echo+cut+words >out 2>err &&
	echo "one two " >expect &&
	test_cmp expect out
'

test_expect_success 'an error chunk mid-stream: 69, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 69 llm-chat -m gem/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "error in the stream: An internal error has occurred" err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'malformed chunk: 65, what arrived kept' '
	echo "one two three" |
		test_expect_code 65 llm-chat -m gem/echo+malformed+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "malformed event" err
'

test_expect_success 'malformed or cut whole reply: 65' '
	echo hi | test_expect_code 65 llm-chat -m gem/echo+malformed --no-stream 2>err &&
	test_grep "malformed reply" err &&
	echo hi | test_expect_code 65 llm-chat -m gem/echo+cut --no-stream 2>err
'

test_done
