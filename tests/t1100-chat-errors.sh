#!/bin/sh
# llm-chat: every exit code of DESIGN.md, one clear line on stderr, and
# nothing that arrived is lost.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-secret-123
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[model.llama-fast]
provider = fake
name = llama-3.1-8b-instant
'

test_expect_success 'empty prompt: 64' '
	test_expect_code 64 llm-chat -m fake/echo </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: empty prompt: give it as arguments or on standard input" >expect &&
	test_cmp expect err
'

test_expect_success 'whitespace-only stdin is an empty prompt: 64' '
	printf "  \n\t\n" | test_expect_code 64 llm-chat -m fake/echo 2>err &&
	test_grep "empty prompt" err
'

test_expect_success 'bad numbers are usage errors: 64' '
	test_expect_code 64 llm-chat -t hot hi 2>err </dev/null &&
	test_grep "llm-chat: error: temperature is invalid: '\''hot'\''" err &&
	test_expect_code 64 llm-chat --max-tokens 0 hi 2>err </dev/null &&
	test_grep "max-tokens is too small" err &&
	test_expect_code 64 llm-chat --top-p 2 hi 2>err </dev/null &&
	test_grep "top-p is too large" err &&
	test_expect_code 64 llm-chat -o novalue hi 2>err </dev/null &&
	test_grep "KEY=VALUE" err
'

test_expect_success 'unknown model: 78, with the closest names' '
	test_expect_code 78 llm-chat -m llama-fsat hi </dev/null >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-chat: error: unknown model '\''llama-fsat'\''" err &&
	test_grep "llama-fast" err &&
	test "$(wc -l <err)" -eq 1
'

test_expect_success 'unknown provider: 78, with the closest names' '
	test_expect_code 78 llm-chat -m fkae/echo hi </dev/null 2>err &&
	test_grep "unknown provider '\''fkae'\''" err &&
	test_grep "fake" err
'

test_expect_success 'bad llm.ini: 78, naming file and line' '
	printf "[defaults]\nmodel = fake/echo\n\n[model.x]\nprovider = fake\ntempature = 1\n" >bad.ini &&
	test_expect_code 78 llm-chat --config bad.ini hi </dev/null 2>err &&
	test_grep "bad.ini:6" err &&
	test_grep "tempature" err
'

test_expect_success 'missing --config file: 78' '
	test_expect_code 78 llm-chat --config nope.ini hi </dev/null 2>err &&
	test_grep "nope.ini" err
'

test_expect_success 'rejected key: 77, naming the variable' '
	echo hi | FAKE_KEY=sk-wrong test_expect_code 77 llm-chat -m fake/echo >out 2>err &&
	test_must_be_empty out &&
	test_grep "HTTP 401" err &&
	test_grep "Incorrect API key" err &&
	test_grep "FAKE_KEY" err &&
	test_not_grep sk-wrong err
'

test_expect_success 'missing key: 77, naming the variable to set' '
	echo hi | env -u FAKE_KEY llm-chat -m fake/echo >out 2>err;
	test $? -eq 77 &&
	test_grep "set FAKE_KEY" err
'

test_expect_success 'connection refused: 69' '
	write_config "
[provider.dead]
type = openai
base_url = http://127.0.0.1:9/v1
" &&
	echo hi | test_expect_code 69 llm-chat -m dead/echo --retries 0 >out 2>err &&
	test_must_be_empty out &&
	test_grep "cannot connect" err
'

test_expect_success 'connection refused is retried, and the attempts logged' '
	reset_log &&
	echo hi | test_expect_code 69 llm-chat -m dead/echo --retries 2 2>err &&
	test "$(sql "select attempts, status from requests")" = "3|error"
'

test_expect_success '500 after retries: 69' '
	echo hi | test_expect_code 69 llm-chat -m fake/fail-500 >out 2>err &&
	test_grep "HTTP 500" err
'

test_expect_success '529 overloaded: 69' '
	echo hi | test_expect_code 69 llm-chat -m fake/fail-529 2>err &&
	test_grep "HTTP 529" err
'

test_expect_success '429 rate limited: 75' '
	echo hi | test_expect_code 75 llm-chat -m fake/fail-429 2>err &&
	test_grep "HTTP 429" err &&
	test_grep "Rate limit" err
'

test_expect_success '404 unknown model at the provider: 78' '
	echo hi | test_expect_code 78 llm-chat -m fake/fail-404 2>err &&
	test_grep "HTTP 404" err
'

test_expect_success 'a transient failure is retried and then succeeds' '
	reset_log &&
	echo "second time" | llm-chat -m fake/echo+failfirst-503 --retries 2 >out 2>err &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status from requests")" = "2|ok"
'

test_expect_success 'a hung provider times out: 75' '
	echo hi | test_expect_code 75 llm-chat -m fake/hang --timeout 1 >out 2>err &&
	test_grep "timed out" err
'

test_expect_success 'malformed stream: 65, what arrived printed and logged' '
	reset_log &&
	echo "one two three four five six seven eight nine ten" |
		test_expect_code 65 llm-chat -m fake/echo+malformed+words >out 2>err &&
	test_grep "malformed" err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'malformed whole reply: 65' '
	echo hi | test_expect_code 65 llm-chat -m fake/echo+malformed --no-stream 2>err &&
	test_grep "malformed" err
'

test_expect_success 'a cut stream: 65, the partial answer kept' '
	reset_log &&
	echo "one two three four five six seven eight nine ten" |
		test_expect_code 65 llm-chat -m fake/echo+cut+words >out 2>err &&
	test -s out &&
	test "$(sql "select status from requests")" = error &&
	test "$(sql "select response from requests")" = "$(head -c -1 out)"
'

test_expect_success 'an error event mid-stream: 69, the partial answer kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 69 llm-chat -m fake/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "server had an error" err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'a failure after output started is not retried' '
	reset_log &&
	echo "one two" | llm-chat -m fake/echo+cut+words --retries 3 >/dev/null 2>&1;
	test "$(sql "select attempts from requests")" = 1
'

test_expect_success 'a closed pipe ends quietly' '
	{ echo go | llm-chat -m fake/big-2000000; echo $? >code; } | head -c 100 >out 2>err &&
	test "$(cat code)" = 0 &&
	test "$(wc -c <out)" -eq 100 &&
	test_must_be_empty err
'

test_expect_success 'stdout full: 74, the request still logged' '
	reset_log &&
	echo hi | test_expect_code 74 llm-chat -m fake/echo >/dev/full 2>err &&
	test_grep "cannot write standard output" err &&
	test "$(sql "select count(*) from requests")" = 1
'

test_expect_success 'log not writable: answer printed, 74' '
	echo "x" >notadir &&
	write_config &&
	sed "s|^database = .*|database = $TRASH/notadir/llm.db|" "$LLM_CONFIG" >ro.ini &&
	echo "kept" | test_expect_code 74 llm-chat --config ro.ini -m fake/echo >out 2>err &&
	echo kept >expect &&
	test_cmp expect out &&
	test_grep "notadir/llm.db" err
'

test_expect_success 'error messages are one line each' '
	echo hi | llm-chat -m fake/fail-500 --retries 0 2>err;
	test "$(wc -l <err)" -eq 1
'

test_expect_success 'a hint after a message that ends in a full stop: no ".;"' '
	write_config "
[provider.az]
type = azure
base_url = $FAKE_URL
api_key = \${AZ_KEY}
" &&
	echo hi | AZ_KEY=wrong test_expect_code 77 llm-chat -m az/echo 2>err &&
	echo "llm-chat: error: az: HTTP 401: Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource; check AZ_KEY" >expect &&
	test_cmp expect err &&
	echo hi | AZ_KEY=$FAKE_KEY test_expect_code 78 llm-chat -m az/nonesuch 2>err &&
	echo "llm-chat: error: az: HTTP 404: The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again; check the model id '\''nonesuch'\''" >expect &&
	test_cmp expect err
'

test_expect_success 'a message without a full stop keeps its last character' '
	echo hi | FAKE_KEY=wrong test_expect_code 77 llm-chat -m fake/echo 2>err &&
	echo "llm-chat: error: fake: HTTP 401: Incorrect API key provided; check FAKE_KEY" >expect &&
	test_cmp expect err
'

test_done
