#!/bin/sh
# llm-chat against Ollama's native API: the request on the wire, NDJSON
# streams, usage from the done line, the pull hint, every fault.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=ol-secret-321
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config "
[provider.ol]
type = ollama
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[provider.ol-local]
type = ollama
base_url = $FAKE_URL

[model.llama]
provider = ol
name = echo
"

req() {
	tail -n 1 "$FAKE_LOG" | jq -r "$1"
}

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m ol/echo >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'the request body is what the protocol wants' '
	echo "Say hi" | llm-chat -m ol/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"model":"echo","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Say hi"}],"stream":true,"options":{"temperature":0.2,"top_p":0.9,"num_predict":64,"stop":["###","END"]}}
	EOT
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success '--no-stream says stream false (the server streams by default)' '
	echo "Say hi" | llm-chat -m ol/echo --no-stream >out &&
	last_request >got &&
	echo "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"stream\":false}" >expect &&
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'the path, and a configured key as Bearer' '
	echo hi | llm-chat -m ol/echo >/dev/null &&
	test "$(req .path)" = /api/chat &&
	test "$(req .headers.authorization)" = "Bearer $FAKE_KEY" &&
	test "$(req ".headers[\"content-type\"]")" = application/json
'

test_expect_success 'without a key no Authorization header is sent' '
	echo hi | test_expect_code 77 llm-chat -m ol-local/echo >/dev/null 2>err &&
	test "$(req .headers.authorization)" = null &&
	test_grep "HTTP 401: unauthorized" err
'

test_expect_success '-o: model options go into options, others on top' '
	echo hi | llm-chat -m ol/echo -t 1 -o seed=7 -o keep_alive="\"5m\"" \
		-o options="{\"num_ctx\":4096}" -o think=false >/dev/null &&
	last_request | jq -c "[.options, .keep_alive, .think, .seed]" >got &&
	echo "[{\"temperature\":1,\"seed\":7,\"num_ctx\":4096},\"5m\",false,null]" >expect &&
	test_cmp expect got
'

test_expect_success 'the parameters arrive as sent' '
	echo hi | llm-chat -m ol/params -t 0.5 --max-tokens 7 --stop x \
		--top-p 0.25 -s sys --no-stream >out &&
	echo "{\"temperature\":0.5,\"top_p\":0.25,\"num_predict\":7,\"stop\":[\"x\"],\"messages\":2}" >expect &&
	test_cmp expect out
'

test_expect_success 'the system prompt is a system message' '
	echo hi | llm-chat -m ol/sys -s "You are a test." >out &&
	echo "You are a test." >expect &&
	test_cmp expect out
'

for m in utf8 utf8+split utf8+ascii; do
	test_expect_success "multibyte UTF-8 comes out byte-exact ($m)" "
		echo x | llm-chat -m ol/$m >out &&
		printf 'h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n' >expect &&
		test_cmp expect out
	"
done

for opt in crlf comments split words close thinking \
	crlf+comments+split+thinking; do
	test_expect_success "NDJSON variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over the lazy dog.' >prompt &&
		llm-chat -m 'ol/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo big-5000 fixed- echo+thinking; do
		printf "a b\n\nc" | llm-chat -m "ol/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "ol/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'usage from the done line is logged, streamed or not' '
	reset_log &&
	echo "hello world" | llm-chat -m llama >out &&
	echo "hello world" | llm-chat -m llama --no-stream >out &&
	sql "select model, provider, provider_model, response, status,
		http_status, input_tokens, output_tokens, tokens_estimated,
		cost_usd is null, finish_reason, finish_reason_raw
		from requests order by id" >got &&
	cat >expect <<-\EOT &&
	llama|ol|echo|hello world|ok|200|5|2|0|1|stop|stop
	llama|ol|echo|hello world|ok|200|5|2|0|1|stop|stop
	EOT
	test_cmp expect got
'

test_expect_success 'a reply without counts gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m ol/echo+nousage >/dev/null &&
	test "$(sql "select input_tokens, output_tokens, tokens_estimated from requests")" = "3|2|1"
'

test_expect_success 'done_reason is normalized, the raw one kept' '
	reset_log &&
	echo hi | llm-chat -m ol/echo+finish-length >/dev/null &&
	echo hi | llm-chat -m ol/echo+finish-length --no-stream >/dev/null &&
	sql "select finish_reason, finish_reason_raw from requests order by id" >got &&
	printf "length|length\nlength|length\n" >expect &&
	test_cmp expect got
'

test_expect_success '--dry-run shows the request, key redacted' '
	echo "Say hi" | llm-chat -m ol/echo --dry-run >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >got &&
	echo "POST $FAKE_URL/api/chat" >expect &&
	test_cmp expect got &&
	test_grep "Authorization: Bearer ***" out &&
	test_not_grep "$FAKE_KEY" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-chat -vv -m ol/echo >out 2>err &&
	echo hi | llm-chat -m ol/echo --json >>out 2>>err &&
	echo hi | llm-chat -m ol/fail-401 >>out 2>>err;
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump
'

test_expect_success 'a model that is not pulled: 78, saying how to pull it' '
	echo hi | test_expect_code 78 llm-chat -m ol/missing-model >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: ol: HTTP 404: model '\''missing-model'\'' not found; run '\''ollama pull missing-model'\''" >expect &&
	test_cmp expect err
'

test_expect_success 'a wrong key: 77' '
	echo hi | FAKE_KEY=wrong test_expect_code 77 llm-chat -m ol/echo 2>err &&
	test_grep "check FAKE_KEY" err
'

test_expect_success '500 and 503: 69' '
	echo hi | test_expect_code 69 llm-chat -m ol/fail-500 2>err &&
	test_grep "llama runner process has terminated" err &&
	echo hi | test_expect_code 69 llm-chat -m ol/fail-503 2>err &&
	test_grep "server busy" err
'

test_expect_success '429: 75' '
	echo hi | test_expect_code 75 llm-chat -m ol/fail-429 2>err &&
	test_grep "HTTP 429: too many requests" err
'

test_expect_success '503 once, then an answer when retried' '
	reset_log &&
	echo "second time" | llm-chat -m ol/echo+failfirst-503 --retries 1 >out &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status from requests")" = "2|ok"
'

test_expect_success 'an error line mid-stream: 69, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 69 llm-chat -m ol/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: ol: error in the stream: an error was encountered while running the model: unexpected EOF" >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'a malformed line: 65, what arrived kept' '
	echo "one two three" |
		test_expect_code 65 llm-chat -m ol/echo+malformed+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "malformed line in the stream" err
'

test_expect_success 'a stream without its done line: 65, what arrived kept' '
	reset_log &&
	echo "one two three four" |
		test_expect_code 65 llm-chat -m ol/echo+cut+close+words >out 2>err &&
	echo "one two " >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: ol: the stream ended without \"done\":true" >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response from requests")" = "error|one two " &&
	echo "one two three four" |
		test_expect_code 65 llm-chat -m ol/echo+cut+words >/dev/null 2>&1
'

test_expect_success 'malformed or cut whole reply: 65' '
	echo hi | test_expect_code 65 llm-chat -m ol/echo+malformed --no-stream 2>err &&
	test_grep "malformed reply" err &&
	echo hi | test_expect_code 65 llm-chat -m ol/echo+cut --no-stream 2>err
'

test_done
