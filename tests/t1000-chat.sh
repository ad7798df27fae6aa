#!/bin/sh
# llm-chat against the OpenAI protocol: prompts, output bytes, the wire.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-secret-123
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[model.warm]
provider = fake
name = params
temperature = 0.3
max_tokens = 77
'

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m fake/echo-model >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'arguments are the prompt, joined by spaces' '
	llm-chat -m fake/echo hello   big "wide world" </dev/null >out &&
	printf "hello big wide world\n" >expect &&
	test_cmp expect out
'

test_expect_success 'arguments and stdin: ARGS, a blank line, stdin' '
	printf "line one\nline two\n" | llm-chat -m fake/echo Summarize: >out &&
	printf "Summarize:\n\nline one\nline two\n" >expect &&
	test_cmp expect out &&
	last_request | jq -r ".messages[-1].content" >got &&
	test_cmp expect got
'

test_expect_success '"-" reads the prompt from stdin' '
	echo "from stdin" | llm-chat -m fake/echo - >out &&
	echo "from stdin" >expect &&
	test_cmp expect out
'

test_expect_success 'the default model is used without -m' '
	echo "default" | llm-chat >out &&
	echo default >expect &&
	test_cmp expect out &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo
'

test_expect_success 'LLM_MODEL overrides the configured default' '
	echo "env" | LLM_MODEL=fake/echo-env llm-chat >out &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo-env
'

test_expect_success 'the request body is what the protocol wants' '
	echo "Say hi" | llm-chat -m fake/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"model":"echo","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Say hi"}],"temperature":0.2,"top_p":0.9,"max_tokens":64,"stop":["###","END"],"stream":true,"stream_options":{"include_usage":true}}
	EOT
	test_cmp expect got
'

test_expect_success '--no-stream sends stream false-free body' '
	echo "Say hi" | llm-chat -m fake/echo --no-stream >out &&
	last_request >got &&
	echo "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}" >expect &&
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'the key goes in the Authorization header' '
	echo hi | llm-chat -m fake/echo >/dev/null &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .headers.authorization)" = "Bearer $FAKE_KEY" &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .headers[\"content-type\"])" = application/json &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .path)" = /v1/chat/completions
'

test_expect_success 'a key-less provider sends no Authorization header' '
	echo hi | test_expect_code 77 llm-chat -m open/echo >/dev/null 2>&1 &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .headers.authorization)" = null
'

test_expect_success '--system-file reads the system prompt' '
	printf "You are a file.\n" >sys.txt &&
	echo hi | llm-chat -m fake/sys --system-file sys.txt >out &&
	printf "You are a file.\n" >expect &&
	test_cmp expect out
'

test_expect_success '-o adds request fields, JSON or text' '
	echo hi | llm-chat -m fake/echo -o seed=42 \
		-o response_format="{\"type\":\"json_object\"}" -o user=bob \
		-o temperature=1 >/dev/null &&
	last_request | jq -c "[.seed, .response_format, .user, .temperature]" >got &&
	echo "[42,{\"type\":\"json_object\"},\"bob\",1]" >expect &&
	test_cmp expect got
'

test_expect_success 'per-model defaults apply, flags override them' '
	echo hi | llm-chat -m warm --no-stream >out &&
	echo "{\"temperature\":0.3,\"top_p\":null,\"max_tokens\":77,\"max_completion_tokens\":null,\"stop\":null,\"messages\":1}" >expect &&
	test_cmp expect out &&
	echo hi | llm-chat -m warm -t 1.5 --max-tokens 5 --no-stream >out &&
	echo "{\"temperature\":1.5,\"top_p\":null,\"max_tokens\":5,\"max_completion_tokens\":null,\"stop\":null,\"messages\":1}" >expect &&
	test_cmp expect out
'

for m in utf8 utf8+split utf8+ascii utf8+split+crlf; do
	test_expect_success "multibyte UTF-8 comes out byte-exact ($m)" "
		echo x | llm-chat -m fake/$m >out &&
		printf 'h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n' >expect &&
		test_cmp expect out
	"
done

for opt in crlf cr comments nospace multiline fields split words close \
	crlf+comments+split cr+split+multiline; do
	test_expect_success "event-stream variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over the lazy dog, 42 times.' >prompt &&
		llm-chat -m 'fake/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo utf8 big-5000 "fixed-ok" "echo+nousage"; do
		printf "a b\n\nc" | llm-chat -m "fake/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "fake/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done
'

test_expect_success 'a 1 MB answer streams through intact' '
	echo go | llm-chat -m fake/big-1048576 >out &&
	test "$(wc -c <out)" -eq 1048577
'

test_expect_success 'an answer ending in a newline gets no second one' '
	llm-chat -m fake/echo "line
" </dev/null >out &&
	printf "line\n" >expect &&
	test_cmp expect out
'

test_expect_success 'an empty answer prints one newline' '
	llm-chat -m fake/fixed- hi </dev/null >out &&
	printf "\n" >expect &&
	test_cmp expect out
'

test_expect_success 'the request is logged with tokens, latency and cost' '
	reset_log &&
	echo "hello world" | llm-chat -m echo >out &&
	sql "select tool, model, provider, provider_model, prompt, response,
		status, http_status, input_tokens, output_tokens,
		tokens_estimated, printf(\"%.7f\", cost_usd), finish_reason,
		finish_reason_raw, attempts, error is null,
		latency_ms >= 0, ttft_ms >= 0, ttft_ms <= latency_ms,
		created_at like \"____-__-__T__:__:__.___Z\"
		from requests" >got &&
	echo "llm-chat|echo|fake|echo|hello world|hello world|ok|200|5|2|0|0.0000115|stop|stop|1|1|1|1|1|1" >expect &&
	test_cmp expect got
'

test_expect_success 'the log is created 0600 in WAL mode' '
	test "$(stat -c %a "$DB")" = 600 &&
	test "$(sql "pragma journal_mode")" = wal
'

test_expect_success 'a provider without usage gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m fake/echo+nousage >/dev/null &&
	sql "select input_tokens, output_tokens, tokens_estimated,
		cost_usd is null from requests" >got &&
	echo "3|2|1|1" >expect &&
	test_cmp expect got
'

test_expect_success 'the raw finish reason is kept, the normalized one logged' '
	reset_log &&
	echo hi | llm-chat -m fake/echo+finish-max_tokens >/dev/null &&
	echo hi | llm-chat -m fake/echo+finish-content_filter --no-stream >/dev/null &&
	sql "select finish_reason, finish_reason_raw from requests order by id" >got &&
	printf "length|max_tokens\ncontent_filter|content_filter\n" >expect &&
	test_cmp expect got
'

test_expect_success 'rows are searchable through the FTS index' '
	echo "zebras are striped" | llm-chat -m fake/echo >/dev/null &&
	test "$(llm-log search --json zebras | jq -r .prompt)" = "zebras are striped" &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''zebras'\''")" = 1
'

test_expect_success 'a request indexes the ones before it while it waits' '
	echo "okapis are shy" | llm-chat -m fake/echo >/dev/null &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''okapis'\''")" = 0 &&
	echo "hi" | llm-chat -m fake/echo+delay-200 >/dev/null &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''okapis'\''")" = 1 &&
	test "$(sql "select count(*) from requests where tool = '\''warm'\''")" = 0
'

test_expect_success '--no-log writes no row' '
	reset_log &&
	echo hi | llm-chat -m fake/echo --no-log >out &&
	echo hi >expect &&
	test_cmp expect out &&
	test ! -e "$DB"
'

test_expect_success '--json prints one object with usage, cost and ids' '
	reset_log &&
	echo "hello world" | llm-chat -m echo --json >out &&
	test "$(wc -l <out)" -eq 1 &&
	jq -c "[.response, .model, .provider, .provider_model, .status,
		.usage.input_tokens, .usage.output_tokens, .usage.estimated,
		.cost_usd, .finish_reason, .id, .request_id != null,
		.response_id != null, .latency_ms >= 0]" out >got &&
	echo "[\"hello world\",\"echo\",\"fake\",\"echo\",\"ok\",5,2,false,1.15e-05,\"stop\",1,true,true,true]" >expect &&
	test_cmp expect got
'

test_expect_success '--dry-run prints the request, key redacted, sends nothing' '
	reset_log &&
	lines=$(wc -l <"$FAKE_LOG") &&
	echo "Say hi" | llm-chat -m fake/echo -s sys --dry-run >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >got &&
	echo "POST $FAKE_URL/v1/chat/completions" >expect &&
	test_cmp expect got &&
	test_grep "Authorization: Bearer ***" out &&
	test_not_grep "$FAKE_KEY" out &&
	test_grep "\"content\":\"Say hi\"" out &&
	test "$(wc -l <"$FAKE_LOG")" -eq "$lines" &&
	test ! -e "$DB"
'

test_expect_success '--dry-run works without the key set' '
	echo hi | env -u FAKE_KEY llm-chat -m fake/echo --dry-run >out &&
	test_grep "Authorization: Bearer ***" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-chat -vv -m fake/echo >out 2>err &&
	echo hi | llm-chat -m fake/echo --json >>out 2>>err &&
	echo hi | llm-chat -m fake/fail-401 >>out 2>>err;
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump &&
	test_grep "Authorization: ***" err
'

test_expect_success 'api_key_cmd supplies the key' '
	echo "$FAKE_KEY" >"$TRASH/key" &&
	write_config "
[provider.cmd]
type = openai
base_url = $FAKE_URL/v1
api_key_cmd = cat $TRASH/key
" &&
	echo hi | env -u FAKE_KEY llm-chat -m cmd/echo >out &&
	echo hi >expect &&
	test_cmp expect out
'

test_expect_success 'the user config layer is read, --config beats LLM_CONFIG' '
	mkdir -p "$XDG_CONFIG_HOME/llm" &&
	printf "[defaults]\nmodel = fake/echo-user\n" >"$XDG_CONFIG_HOME/llm/llm.ini" &&
	write_config &&
	sed "/^model = /d" "$LLM_CONFIG" >no-default.ini &&
	echo hi | llm-chat --config no-default.ini >/dev/null &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo-user &&
	echo hi | llm-chat >/dev/null &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo &&
	rm "$XDG_CONFIG_HOME/llm/llm.ini"
'

test_expect_success 'no llm.ini is read from the current directory' '
	write_config &&
	mkdir cwd && printf "[defaults]\nmodel = fake/echo-cwd\n" >cwd/llm.ini &&
	(cd cwd && echo hi | llm-chat >/dev/null) &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .body.model)" = echo
'

test_expect_success 'a group falls back to its next model' '
	write_config "
[provider.dead]
type = openai
base_url = http://127.0.0.1:9/v1

[group.safe]
models = dead/echo, fake/echo
strategy = fallback
" &&
	reset_log &&
	echo "still here" | llm-chat -q -m safe >out &&
	echo "still here" >expect &&
	test_cmp expect out &&
	sql "select provider, status from requests order by id" >got &&
	printf "dead|error\nfake|ok\n" >expect &&
	test_cmp expect got
'

test_expect_success 'the completions know every long option of --help' '
	completions_cover llm-chat
'

test_done
