#!/bin/sh
# llm-chain: steps in sequence against the local test provider; what each
# step receives, what reaches stdout and stderr, the log, chain files.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-secret-123
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[model.cool]
provider = fake
name = params
temperature = 0.3
max_tokens = 77

[group.fb]
models = fake/fail-503, fake/echo

[group.shadowed]
models = fake/fixed-PRIMARY, fake/fixed-SHADOW, fake/sys
strategy = shadow

[group.slowshadow]
models = fake/fixed-FAST, fake/fixed-SLOW+delay-3000
strategy = shadow

[group.failshadow]
models = fake/fail-400, fake/fixed-SLOW+delay-3000
strategy = shadow

[group.hanging]
models = fake/fixed-QUICK, fake/hang
strategy = shadow

[group.broken]
models = fake/echo+words+midstream-error, fake/fixed-WHOLE
'

# nth_content N: the last user message of the fake's Nth request.
nth_content() {
	sed -n "${1}p" "$FAKE_LOG" | jq -r '.body.messages[-1].content'
}

# nth_system N: the system message of the fake's Nth request, or null.
nth_system() {
	sed -n "${1}p" "$FAKE_LOG" |
		jq -r '[.body.messages[] | select(.role == "system")][0].content'
}

requests() {
	wc -l <"$FAKE_LOG" | tr -d ' '
}

for opt in --help -h; do
	test_expect_success "$opt prints usage to stdout" "
		llm-chain $opt >out 2>err &&
		test_grep 'usage: llm-chain' out &&
		test_grep 'carry-input' out &&
		test_must_be_empty err
	"
done

test_expect_success '--version' '
	llm-chain --version >out &&
	echo "llm-chain 0.1.0" >expect &&
	test_cmp expect out
'

test_expect_success 'a bad option: 64' '
	test_expect_code 64 llm-chain --no-such-option >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-chain: error: unknown option '\''--no-such-option'\''" err &&
	test_grep "Try '\''llm-chain --help'\''" err
'

test_expect_success 'a missing option argument: 64' '
	test_expect_code 64 llm-chain -m 2>err </dev/null &&
	test_grep "option '\''-m'\'' needs an argument" err
'

test_expect_success 'no steps: 64' '
	test_expect_code 64 llm-chain hi </dev/null >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-chain: error: no steps: give -m MODEL for each step, or -f FILE" err
'

test_expect_success '-f and -m together: 64' '
	printf "[step]\nmodel = fake/echo\n" >ok.chain &&
	test_expect_code 64 llm-chain -f ok.chain -m fake/echo hi </dev/null 2>err &&
	test_grep "llm-chain: error: -f and -m cannot be used together" err
'

test_expect_success 'empty input: 64, nothing sent' '
	: >"$FAKE_LOG" &&
	test_expect_code 64 llm-chain -m fake/echo -m fake/echo </dev/null 2>err &&
	test_grep "empty prompt" err &&
	test_must_be_empty "$FAKE_LOG"
'

test_expect_success 'two steps: step 2 gets step 1'\''s answer, stdout the last' '
	: >"$FAKE_LOG" &&
	echo "hello world" | llm-chain -m fake/fixed-Bonjour -m fake/echo >out 2>err &&
	printf "Bonjour\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(requests)" = 2 &&
	test "$(nth_content 1)" = "hello world" &&
	test "$(nth_content 2)" = "Bonjour" &&
	test "$(sed -n 2p "$FAKE_LOG" | jq -r .body.model)" = echo
'

test_expect_success 'three steps, each fed the one before' '
	: >"$FAKE_LOG" &&
	llm-chain -m fake/fixed-one -m fake/sys -s "two" -m fake/echo in </dev/null >out &&
	printf "two\n" >expect &&
	test_cmp expect out &&
	test "$(requests)" = 3 &&
	test "$(nth_content 1)" = in &&
	test "$(nth_content 2)" = one &&
	test "$(nth_content 3)" = two
'

test_expect_success 'arguments and stdin make the input, as for llm-chat' '
	: >"$FAKE_LOG" &&
	printf "line one\nline two\n" | llm-chain -m fake/echo -m fake/echo Summarize: >out &&
	printf "Summarize:\n\nline one\nline two\n" >expect &&
	test_cmp expect out &&
	nth_content 2 >got &&
	test_cmp expect got
'

test_expect_success 'each -s belongs to the -m before it; one before any -m is the default' '
	: >"$FAKE_LOG" &&
	llm-chain -s DEF -m fake/sys -m fake/sys -s OWN -m fake/sys hi </dev/null >out &&
	echo DEF >expect &&
	test_cmp expect out &&
	test "$(nth_system 1)" = DEF &&
	test "$(nth_system 2)" = OWN &&
	test "$(nth_system 3)" = DEF &&
	test "$(nth_content 2)" = DEF &&
	test "$(nth_content 3)" = OWN
'

test_expect_success 'without -s a step has no system prompt' '
	: >"$FAKE_LOG" &&
	llm-chain -m fake/echo -s ONE -m fake/echo hi </dev/null >/dev/null &&
	test "$(nth_system 1)" = ONE &&
	test "$(nth_system 2)" = null
'

test_expect_success '--system-file is the default system prompt' '
	: >"$FAKE_LOG" &&
	printf "From a file.\n" >sys.txt &&
	llm-chain --system-file sys.txt -m fake/sys -m fake/echo -s OWN hi </dev/null >out &&
	echo "From a file." >expect &&
	test_cmp expect out &&
	test "$(nth_system 2)" = OWN
'

test_expect_success 'the line ends after an answer are not passed on' '
	: >"$FAKE_LOG" &&
	llm-chain -m "fake/fixed-two lines
" -m fake/echo hi </dev/null >out &&
	printf "two lines\n" >expect &&
	test_cmp expect out &&
	test "$(sed -n 2p "$FAKE_LOG" | jq .body.messages[-1].content)" = "\"two lines\""
'

test_expect_success 'multibyte UTF-8 goes through the steps byte-exact' '
	llm-chain -m fake/utf8+split -m fake/echo+split x </dev/null >out &&
	printf "h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n" >expect &&
	test_cmp expect out
'

test_expect_success '--no-stream: the same bytes' '
	echo "a b" | llm-chain -m fake/echo -m fake/big-300 >s.out &&
	echo "a b" | llm-chain --no-stream -m fake/echo -m fake/big-300 >n.out &&
	test_cmp s.out n.out &&
	test "$(wc -c <n.out)" -eq 301 &&
	test "$(tail -n 1 "$FAKE_LOG" | jq .body.stream)" = null
'

test_expect_success '--carry-input: later steps get the input too, labelled' '
	: >"$FAKE_LOG" &&
	echo IN | llm-chain --carry-input -m fake/fixed-ONE -m fake/echo -m fake/echo >out &&
	printf "Original input:\nIN\n\nPrevious step'\''s output:\nONE" >expect2 &&
	nth_content 2 >got &&
	printf "\n" >>expect2 &&
	test_cmp expect2 got &&
	{ printf "Original input:\nIN\n\nPrevious step'\''s output:\n" &&
	  cat expect2; } >expect3 &&
	nth_content 3 >got &&
	test_cmp expect3 got &&
	test_cmp expect3 out &&
	test "$(nth_content 1)" = IN
'

test_expect_success 'chain file: {input} and {previous} templates, {{ and }}' '
	: >"$FAKE_LOG" &&
	cat >t.chain <<-\EOT &&
	; two steps
	[step]
	model = fake/fixed-FIRST
	prompt = Q: {input}

	[step]
	model = fake/echo
	prompt = In: {input}
	    Prev: {previous}

	    Braces: {{x}} }}{{
	EOT
	echo hello | llm-chain -f t.chain >out 2>err &&
	printf "In: hello\nPrev: FIRST\n\nBraces: {x} }{\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(nth_content 1)" = "Q: hello"
'

test_expect_success 'chain file: default templates, and --carry-input only without prompt' '
	: >"$FAKE_LOG" &&
	cat >d.chain <<-\EOT &&
	[step]
	model = fake/fixed-A
	[step]
	model = fake/echo
	[step]
	model = fake/echo
	prompt = only {previous}
	EOT
	echo in | llm-chain -f d.chain --carry-input >out &&
	test "$(nth_content 1)" = in &&
	printf "Original input:\nin\n\nPrevious step'\''s output:\nA\n" >expect &&
	nth_content 2 >got &&
	test_cmp expect got &&
	{ printf "only " && cat expect; } >expect3 &&
	test_cmp expect3 out
'

test_expect_success 'chain file: system per step, -s is the default of the others' '
	: >"$FAKE_LOG" &&
	cat >s.chain <<-\EOT &&
	[step]
	model = fake/sys
	system = Step one.
	    Two lines.
	[step]
	model = fake/sys
	[step]
	model = fake/sys
	system =
	EOT
	llm-chain -f s.chain -s DEF hi </dev/null >out &&
	printf "Step one.\nTwo lines.\n" >expect &&
	nth_system 1 >got &&
	test_cmp expect got &&
	test "$(nth_system 2)" = DEF &&
	test "$(nth_system 3)" = null &&
	test "$(nth_content 3)" = DEF &&
	printf "\n" >expect &&
	test_cmp expect out
'

test_expect_success 'per-step temperature, top_p, max_tokens, stop on the wire and in the log' '
	: >"$FAKE_LOG" &&
	reset_log &&
	cat >p.chain <<-\EOT &&
	[step]
	model = fake/params
	temperature = 0.2
	top_p = 0.5
	max_tokens = 64
	stop = END
	stop = ###
	[step]
	model = cool
	prompt = {input}
	[step]
	model = fake/echo
	EOT
	llm-chain -f p.chain hi </dev/null >out &&
	jq -c ".body | [.temperature, .top_p, .max_tokens, .stop]" "$FAKE_LOG" >got &&
	cat >expect <<-\EOT &&
	[0.2,0.5,64,["END","###"]]
	[0.3,null,77,null]
	[null,null,null,null]
	EOT
	test_cmp expect got &&
	echo "{\"temperature\":0.3,\"top_p\":null,\"max_tokens\":77,\"max_completion_tokens\":null,\"stop\":null,\"messages\":1}" >expect &&
	test_cmp expect out &&
	sql "select step, temperature, max_tokens from requests order by id" >got &&
	printf "1|0.2|64\n2|0.3|77\n3||\n" >expect &&
	test_cmp expect got
'

test_expect_success 'the command line overrides the chain file and the model defaults' '
	: >"$FAKE_LOG" &&
	llm-chain -f p.chain -t 1 --top-p 0.9 --max-tokens 5 --stop X hi </dev/null >out &&
	jq -c ".body | [.temperature, .top_p, .max_tokens, .stop]" "$FAKE_LOG" >got &&
	cat >expect <<-\EOT &&
	[1,0.9,5,["X"]]
	[1,0.9,5,["X"]]
	[1,0.9,5,["X"]]
	EOT
	test_cmp expect got
'

test_expect_success '-o goes to every step' '
	: >"$FAKE_LOG" &&
	llm-chain -o seed=7 -m fake/echo -m fake/echo hi </dev/null >/dev/null &&
	jq -c .body.seed "$FAKE_LOG" >got &&
	printf "7\n7\n" >expect &&
	test_cmp expect got
'

test_expect_success '--show-steps: each step on stderr under its header' '
	llm-chain --show-steps -m fake/fixed-A -m fake/fixed-B -m fake/echo x </dev/null >out 2>err &&
	cat >expect <<-\EOT &&
	== step 1/3: fake/fixed-A ==
	A
	== step 2/3: fake/fixed-B ==
	B
	== step 3/3: fake/echo ==
	EOT
	test_cmp expect err &&
	echo B >expect &&
	test_cmp expect out
'

test_expect_success '--show-steps: an empty step answer shows as an empty line' '
	llm-chain --show-steps -m fake/fixed- -m fake/echo -s S -m fake/sys x </dev/null >out 2>err;
	test $? = 65 &&
	printf "== step 1/3: fake/fixed- ==\n\nllm-chain: error: step 2 (fake/echo): nothing to send: the answer of step 1 is empty\n" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success '--json: one object with every step' '
	reset_log &&
	echo "a b c" | llm-chain --json -m echo -s SYS -m echo >out 2>err &&
	test_must_be_empty err &&
	test "$(wc -l <out)" -eq 1 &&
	jq -r ".chain_id" out | grep -qE "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$" &&
	test "$(jq -r .chain_id out)" = "$(sql "select distinct group_id from requests")" &&
	jq -c "[.name, .input, .status, .output, (.steps | length)]" out >got &&
	echo "[null,\"a b c\",\"ok\",\"a b c\",2]" >expect &&
	test_cmp expect got &&
	jq -c ".steps[] | [.step, .model, .provider, .provider_model, .system, .prompt, .response, .status, .id, .attempts, .finish_reason]" out >got &&
	cat >expect <<-\EOT &&
	[1,"echo","fake","echo","SYS","a b c","a b c","ok",1,1,"stop"]
	[2,"echo","fake","echo",null,"a b c","a b c","ok",2,1,"stop"]
	EOT
	test_cmp expect got &&
	jq -c ".steps[] | .usage" out >got &&
	cat >expect <<-\EOT &&
	{"input_tokens":10,"output_tokens":3,"cached_tokens":null,"estimated":false}
	{"input_tokens":6,"output_tokens":3,"cached_tokens":null,"estimated":false}
	EOT
	test_cmp expect got &&
	test "$(jq ".cost_usd == (.steps[0].cost_usd + .steps[1].cost_usd)" out)" = true &&
	test "$(jq "[.steps[].cost_usd * 1e6 | round]" -c out)" = "[21,15]" &&
	jq -e ".latency_ms >= 0 and (.steps[0].latency_ms | type) == \"number\"" out >/dev/null
'

test_expect_success '--json with --show-steps: every step on stderr' '
	echo x | llm-chain --json --show-steps -m fake/fixed-A -m "fake/fixed-B
" >out 2>err &&
	printf "== step 1/2: fake/fixed-A ==\nA\n== step 2/2: fake/fixed-B\n ==\nB\n" >expect &&
	test_cmp expect err &&
	test "$(jq .output out)" = "\"B\\n\"" &&
	test "$(jq .steps[1].response out)" = "\"B\\n\""
'

test_expect_success 'all steps share a chain id and carry their step number' '
	reset_log &&
	llm-chain -m fake/echo -m fake/echo -m fake/echo one </dev/null >/dev/null &&
	llm-chain -m fake/echo -m fake/echo two </dev/null >/dev/null &&
	sql "select tool, step, prompt from requests order by id" >got &&
	printf "llm-chain|1|one\nllm-chain|2|one\nllm-chain|3|one\nllm-chain|1|two\nllm-chain|2|two\n" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(distinct group_id) from requests")" = 2 &&
	test "$(sql "select count(*) from requests where group_id is null")" = 0 &&
	test "$(sql "select count(distinct group_id) from requests where prompt = '\''one'\''")" = 1
'

test_expect_success 'a failing step stops the chain with its exit code; earlier steps stay logged' '
	reset_log &&
	: >"$FAKE_LOG" &&
	echo hi | test_expect_code 69 llm-chain --retries 0 -m fake/fixed-A \
		-m fake/fail-500 -m fake/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chain: error: step 2 (fake/fail-500): fake: HTTP 500: The server had an error while processing your request. Sorry about that!" >expect &&
	test_cmp expect err &&
	test "$(requests)" = 2 &&
	sql "select step, model, status, http_status from requests order by id" >got &&
	printf "1|fake/fixed-A|ok|200\n2|fake/fail-500|error|500\n" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(distinct group_id) from requests")" = 1
'

test_expect_success 'a failing step with --json: the steps so far, and the error' '
	echo hi | test_expect_code 75 llm-chain --json --retries 0 -m fake/fixed-A \
		-m fake/fail-429 -m fake/echo >out 2>err &&
	jq -c "[.status, .output, (.steps | length), .steps[1].status, .steps[1].step]" out >got &&
	echo "[\"error\",null,2,\"error\",2]" >expect &&
	test_cmp expect got &&
	test "$(jq -r .error out)" = "$(sed "s/^llm-chain: error: //" err)" &&
	test_grep "step 2 (fake/fail-429)" err
'

test_expect_success 'a failing last step: what was printed stays, ending in a newline' '
	echo "w1 w2 w3 w4 w5 w6 w7 w8" | test_expect_code 65 llm-chain --retries 0 \
		-m fake/echo -m fake/echo+words+malformed >out 2>err &&
	test -s out &&
	test "$(tail -c 1 out | od -An -c | tr -d " ")" = "\\n" &&
	test_grep "step 2 (fake/echo+words+malformed)" err
'

test_expect_success 'a group as a step falls back through its members' '
	reset_log &&
	llm-chain --retries 0 -m fake/fixed-X -m fb hi </dev/null >out 2>err &&
	echo X >expect &&
	test_cmp expect out &&
	test_grep "step 2: fake/fail-503 failed, trying the next model of '\''fb'\''" err &&
	sql "select step, model, status from requests order by id" >got &&
	printf "1|fake/fixed-X|ok\n2|fake/fail-503|error\n2|fake/echo|ok\n" >expect &&
	test_cmp expect got
'

test_expect_success '--no-log: nothing logged' '
	reset_log &&
	llm-chain --no-log -m fake/echo -m fake/echo hi </dev/null >out &&
	echo hi >expect &&
	test_cmp expect out &&
	test ! -f "$DB"
'

test_expect_success 'log not writable: the answer printed, then 74' '
	echo x >notadir &&
	sed "s|^database = .*|database = $TRASH/notadir/llm.db|" "$LLM_CONFIG" >ro.ini &&
	echo kept | test_expect_code 74 llm-chain --config ro.ini -m fake/echo -m fake/echo >out 2>err &&
	echo kept >expect &&
	test_cmp expect out &&
	test_grep "notadir/llm.db" err &&
	test "$(wc -l <err)" -eq 1
'

test_expect_success 'unknown -m model: 78 before anything is sent' '
	: >"$FAKE_LOG" &&
	test_expect_code 78 llm-chain -m fake/echo -m ech hi </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chain: error: unknown model '\''ech'\''; did you mean '\''echo'\'', '\''fake/echo'\''?" >expect &&
	test_cmp expect err &&
	test_must_be_empty "$FAKE_LOG"
'

test_expect_success 'a missing chain file: 64' '
	test_expect_code 64 llm-chain -f nope.chain hi </dev/null 2>err &&
	echo "llm-chain: error: cannot read '\''nope.chain'\'': No such file or directory" >expect &&
	test_cmp expect err
'

# bad_chain NAME MESSAGE: bad.chain (written before) is rejected with
# exit 65 and exactly MESSAGE, before any request.
bad_chain() {
	test_expect_success "invalid chain file: $1" "
		: >\"\$FAKE_LOG\" &&
		echo hi | test_expect_code 65 llm-chain -f bad.chain >out 2>err &&
		test_must_be_empty out &&
		echo \"llm-chain: error: $2\" >expect &&
		test_cmp expect err &&
		test_must_be_empty \"\$FAKE_LOG\"
	"
}

printf '[step]\nmodel = fake/echo\n\n[step]\nmodel = fake/echo\ntempature = 1\n' >"$TRASH/bad.chain"
bad_chain 'unknown key' "bad.chain:6: unknown key 'tempature' in [step] (known: model, system, prompt, temperature, top_p, max_tokens, stop)"

printf '[step]\nmodel = fake/echo\n\n[step]\nsystem = x\n' >"$TRASH/bad.chain"
bad_chain 'a step without model' "bad.chain:4: step 2 has no model: add 'model = MODEL'"

printf '[step]\nmodel = fake/echo\n[step]\nmodel = ech\n' >"$TRASH/bad.chain"
bad_chain 'unknown model' "bad.chain:4: unknown model 'ech'; did you mean 'echo', 'fake/echo'?"

printf '[step]\nmodel = fake/echo\n[step]\nmodel = fkae/echo\n' >"$TRASH/bad.chain"
bad_chain 'unknown provider' "bad.chain:4: unknown provider 'fkae' in 'fkae/echo'; did you mean 'fake'?"

printf '[step]\nmodel = fake/echo\n[step]\nmodel = fake/echo\n[step]\nmodel = fake/echo\nprompt =\n  Fix this:\n\n  {previus}\n' >"$TRASH/bad.chain"
bad_chain 'unknown template variable, in step 3' "bad.chain:10: unknown variable '{previus}' in the template (use {input} or {previous})"

printf '[step]\nmodel = fake/echo\nprompt = {previous}\n' >"$TRASH/bad.chain"
bad_chain '{previous} in step 1' "bad.chain:3: '{previous}' in the first step: there is no previous output"

printf '[step]\nmodel = fake/echo\nprompt = as JSON: {"a": {input}}\n' >"$TRASH/bad.chain"
bad_chain 'a lone brace' "bad.chain:3: unmatched '{' in the template (write '{{' for a literal brace)"

printf '[step]\nmodel = fake/echo\nmax_tokens = lots\n' >"$TRASH/bad.chain"
bad_chain 'a bad number' "bad.chain:3: max_tokens is invalid: 'lots'"

printf '[step]\nmodel = fake/echo\ntemperature = 3\n' >"$TRASH/bad.chain"
bad_chain 'a number out of range' "bad.chain:3: temperature is too large: '3'"

: >"$TRASH/bad.chain"
bad_chain 'an empty file' "bad.chain:1: no [step] section: a chain needs at least one step"

printf '; nothing\n[chain]\nname = x\n' >"$TRASH/bad.chain"
bad_chain 'no [step]' "bad.chain:3: no [step] section: a chain needs at least one step"

printf '[step]\nmodel = fake/echo\n[stpe]\n' >"$TRASH/bad.chain"
bad_chain 'unknown section' "bad.chain:3: unknown section '[stpe]' (a chain file has [step] sections and one [chain])"

printf '[step]\nmodel = fake/echo\nmodel = fake/sys\n' >"$TRASH/bad.chain"
bad_chain 'a key given twice' "bad.chain:3: 'model' is given twice in this section (first on line 2)"

test_expect_success 'a disabled provider in a chain file: 78, with file and line' '
	cp "$LLM_CONFIG" off.ini &&
	printf "[provider.off]\ntype = openai\nenabled = false\n" >>off.ini &&
	printf "[step]\nmodel = off/x\n" >off.chain &&
	test_expect_code 78 llm-chain --config off.ini --check -f off.chain 2>err &&
	test_grep "llm-chain: error: off.chain:2: " err &&
	test_grep "disabled" err
'

test_expect_success '--check: a good file passes silently, nothing read or sent' '
	: >"$FAKE_LOG" &&
	echo "not read" | llm-chain --check -f p.chain >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_must_be_empty "$FAKE_LOG" &&
	llm-chain --check -m fake/echo -m fb </dev/null &&
	test_expect_code 78 llm-chain --check -m nope </dev/null 2>/dev/null &&
	test_expect_code 65 llm-chain --check -f bad.chain </dev/null 2>err &&
	test_grep "bad.chain:3: '\''model'\'' is given twice" err
'

test_expect_success 'the chain file from standard input, the input from the arguments' '
	printf "[step]\nmodel = fake/fixed-S\n[step]\nmodel = fake/echo\nprompt = {input}+{previous}\n" |
		llm-chain -f - arg >out &&
	echo "arg+S" >expect &&
	test_cmp expect out
'

test_expect_success 'chain file errors from standard input are named <stdin>' '
	printf "[step]\nmodle = x\n" | test_expect_code 65 llm-chain -f - arg 2>err &&
	test_grep "llm-chain: error: <stdin>:2: unknown key '\''modle'\''" err
'

test_expect_success 'an empty answer between steps: 65, the chain stops' '
	: >"$FAKE_LOG" &&
	test_expect_code 65 llm-chain -m fake/fixed- -m fake/echo -m fake/echo hi </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chain: error: step 2 (fake/echo): nothing to send: the answer of step 1 is empty" >expect &&
	test_cmp expect err &&
	test "$(requests)" = 1
'

test_expect_success 'the key reaches no output, no message and no log' '
	reset_log &&
	llm-chain -vv --json -m fake/echo -m fake/fail-401 hi </dev/null >out 2>err;
	test $? = 77 &&
	test_grep "Authorization: ***" err &&
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump
'

test_expect_success 'stdout closed: quiet, exit 0' '
	echo "a b c d" | llm-chain -m fake/echo -m fake/big-2000000 2>err | head -c 10 >out &&
	test_must_be_empty err &&
	test "$(wc -c <out)" -eq 10
'

test_expect_success 'the completions know every long option of --help' '
	completions_cover llm-chain &&
	test "$(wc -l <opts)" -gt 20
'

if command -v bash >/dev/null; then
	test_expect_success 'bash completion: -m completes the configured models' '
		bash -c ". \"\$1\" && COMP_WORDS=(llm-chain -f x -m f) &&
			COMP_CWORD=4 && _llm_chain &&
			printf \"%s\\n\" \"\${COMPREPLY[@]}\"" \
			sh "$SRC/completions/llm-chain.bash" >got &&
		printf "fake/\nfb\nfailshadow\n" >expect &&
		test_cmp expect got
	'
fi

# The shipped examples: valid with the shipped llm.ini, and they run.
for f in "$SRC"/share/examples/*.chain; do
	name=$(basename "$f")
	test_expect_success "shipped example $name checks with the shipped llm.ini" "
		LLM_DEFAULT_CONFIG=\"\$SRC/llm.ini\" llm-chain --check -f \"$f\" </dev/null >out 2>err &&
		test_must_be_empty out &&
		test_must_be_empty err
	"
done

test_expect_success 'try-offline.chain runs on the mock provider' '
	LLM_DEFAULT_CONFIG="$SRC/llm.ini" llm-chain --show-steps \
		-f "$SRC/share/examples/try-offline.chain" "Hello, chain" </dev/null >out 2>err &&
	cat >expect <<-\EOT &&
	Step two was given the input again:
	  Hello, chain
	and the answer of step one:
	  Step one was given: Hello, chain
	EOT
	test_cmp expect out &&
	printf "== step 1/2: mock/echo ==\nStep one was given: Hello, chain\n== step 2/2: mock/echo ==\n" >expect &&
	test_cmp expect err
'

test_expect_success 'translate-review.chain sends what it says (models on the fake)' '
	: >"$FAKE_LOG" &&
	cat >over.ini <<-EOT &&
	[defaults]
	database = $DB
	[provider.fake]
	type = openai
	base_url = $FAKE_URL/v1
	api_key = \${FAKE_KEY}
	[model.gpt-6-luna]
	provider = fake
	name = echo
	EOT
	printf "Where is the station?\n" |
		LLM_DEFAULT_CONFIG="$SRC/llm.ini" CHAIN_TRANSLATOR="fake/fixed-Ou est la gare" \
		llm-chain --config over.ini -f "$SRC/share/examples/translate-review.chain" >out &&
	test "$(requests)" = 3 &&
	jq -r .body.model "$FAKE_LOG" >got &&
	printf "fixed-Ou est la gare\necho\nfixed-Ou est la gare\n" >expect &&
	test_cmp expect got &&
	nth_content 2 >got &&
	cat >expect <<-\EOT &&
	Review this French translation against the original. List every
	mistranslation, omission, awkward phrase or change of tone, each with
	a better wording. If there is nothing to change, say only: no changes.

	Original:
	Where is the station?

	Translation:
	Ou est la gare
	EOT
	test_cmp expect got &&
	test "$(jq -r .body.temperature "$FAKE_LOG" | sort -u)" = 0.2 &&
	echo "Ou est la gare" >expect &&
	test_cmp expect out
'

# The fake sends one word every 300 ms; the signal comes once the first
# words are out.
if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip "SIGINT during the last step" "signal timing under valgrind"
	test_skip "SIGINT during an earlier step" "signal timing under valgrind"
else
	test_expect_success 'SIGINT during the last step: 130, what arrived printed and logged' '
		reset_log &&
		rm -f out &&
		echo "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12" >p &&
		{ llm-chain -m fake/echo -m fake/echo+words+gap-300 <p >out 2>err & } &&
		pid=$! &&
		i=0 &&
		while [ ! -s out ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
		sleep 0.4 &&
		kill -INT $pid &&
		{ wait $pid; echo $? >code; } &&
		test "$(cat code)" = 130 &&
		test -s out &&
		test "$(tail -c 1 out | od -An -c | tr -d " ")" = "\\n" &&
		sql "select step, status from requests order by id" >got &&
		printf "1|ok\n2|interrupted\n" >expect &&
		test_cmp expect got &&
		test "$(sql "select response from requests where step = 2")" = "$(head -c -1 out)" &&
		test "$(wc -w <out)" -lt 12
	'

	test_expect_success 'SIGINT during an earlier step: 130, the chain stops' '
		reset_log &&
		: >"$FAKE_LOG" &&
		echo "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12" >p &&
		{ llm-chain --show-steps -m fake/echo+words+gap-300 -m fake/echo <p >out 2>err & } &&
		pid=$! &&
		i=0 &&
		while ! grep -q w1 err && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
		sleep 0.4 &&
		kill -INT $pid &&
		{ wait $pid; echo $? >code; } &&
		test "$(cat code)" = 130 &&
		test_must_be_empty out &&
		test "$(requests)" = 1 &&
		test "$(sql "select step || status from requests")" = 1interrupted &&
		test_grep "llm-chain: error: step 1 (fake/echo+words+gap-300): " err
	'
fi

test_expect_success 'a step routed by a group: its strategy picks, the log names the group' '
	cat >>"$LLM_CONFIG" <<-\EOT &&
	[group.arm]
	models = fake/fixed-A, fake/fixed-B
	strategy = weighted
	weights = 0, 1
	[group.refusing]
	models = fake/fixed-+finish-content_filter, fake/echo
	EOT
	llm-chain -m arm -m refusing start >out 2>err &&
	echo B >expect &&
	test_cmp expect out &&
	test_grep "trying the next model of '"'"'refusing'"'"'" err &&
	sql "SELECT step, model, route FROM requests WHERE tool = \"llm-chain\" ORDER BY id DESC LIMIT 3" >got &&
	printf "%s\n" "2|fake/echo|refusing" "2|fake/fixed-+finish-content_filter|refusing" "1|fake/fixed-B|arm" >expect &&
	test_cmp expect got
'

# Shadow groups: the shadows of a step run beside its primary, in a
# process of their own; they are logged under the step, never printed and
# never passed on.
test_expect_success 'shadows: logged under their step with the chain id and route, never printed nor passed on' '
	reset_log &&
	: >"$FAKE_LOG" &&
	llm-chain -m shadowed -s SYS -m fake/echo hello </dev/null >out 2>err &&
	echo PRIMARY >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(requests)" = 4 &&
	sql "SELECT step, model, coalesce(route, \"-\"), prompt, response FROM requests ORDER BY step, model" >got &&
	printf "%s\n" "1|fake/fixed-PRIMARY|shadowed|hello|PRIMARY" \
		"1|fake/fixed-SHADOW|shadowed|hello|SHADOW" \
		"1|fake/sys|shadowed|hello|SYS" \
		"2|fake/echo|-|PRIMARY|PRIMARY" >expect &&
	test_cmp expect got &&
	test "$(sql "SELECT count(DISTINCT group_id) || count(*) FROM requests WHERE tool = \"llm-chain\" AND group_id IS NOT NULL")" = 14
'

test_expect_success 'shadows: the next step does not wait for them, and they are logged before exit' '
	reset_log &&
	llm-chain -m slowshadow -m fake/echo go </dev/null >out 2>err &&
	echo FAST >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	sql "SELECT step, model, status FROM requests ORDER BY id" >got &&
	printf "%s\n" "1|fake/fixed-FAST|ok" "2|fake/echo|ok" \
		"1|fake/fixed-SLOW+delay-3000|ok" >expect &&
	test_cmp expect got
'

test_expect_success 'shadows of the last step: the reader sees the end of the answer first' '
	reset_log &&
	rm -f fifo &&
	mkfifo fifo &&
	{ llm-chain -m fake/echo -m slowshadow hi </dev/null >fifo 2>err & } &&
	pid=$! &&
	cat fifo >out &&
	test "$(sql "SELECT count(*) FROM requests WHERE model LIKE \"fake/fixed-SLOW%\"")" = 0 &&
	wait $pid &&
	echo FAST >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(sql "SELECT step || route || status FROM requests WHERE model LIKE \"fake/fixed-SLOW%\"")" = 2slowshadowok
'

test_expect_success 'a failed step with shadows: the reader sees the end at once too' '
	reset_log &&
	rm -f fifo &&
	mkfifo fifo &&
	{ llm-chain -m fake/echo -m failshadow hi </dev/null >fifo 2>err & } &&
	pid=$! &&
	cat fifo >out &&
	test "$(sql "SELECT count(*) FROM requests WHERE model LIKE \"fake/fixed-SLOW%\"")" = 0 &&
	test_expect_code 65 wait $pid &&
	test_must_be_empty out &&
	test "$(sql "SELECT step || route || status FROM requests WHERE model LIKE \"fake/fixed-SLOW%\"")" = 2failshadowok
'

test_expect_success 'shadows with --json: only the primary is a step' '
	reset_log &&
	llm-chain --json -m fake/echo -m shadowed hi </dev/null >out 2>err &&
	test_must_be_empty err &&
	jq -c "[.status, .output, (.steps | length), .steps[1].model, .steps[1].route]" out >got &&
	echo "[\"ok\",\"PRIMARY\",2,\"fake/fixed-PRIMARY\",\"shadowed\"]" >expect &&
	test_cmp expect got &&
	sql "SELECT model FROM requests WHERE step = 2 AND group_id = \"$(jq -r .chain_id out)\" ORDER BY model" >got &&
	printf "%s\n" fake/fixed-PRIMARY fake/fixed-SHADOW fake/sys >expect &&
	test_cmp expect got
'

test_expect_success 'shadows with --no-log: sent, not logged' '
	reset_log &&
	: >"$FAKE_LOG" &&
	llm-chain --no-log -m fake/echo -m shadowed hi </dev/null >out 2>err &&
	echo PRIMARY >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	jq -r .body.model "$FAKE_LOG" | sort >got &&
	printf "%s\n" echo fixed-PRIMARY fixed-SHADOW sys >expect &&
	test_cmp expect got &&
	test ! -f "$DB"
'

test_expect_success 'shadows: a signal caught while waiting for them ends them as interrupted, logged' '
	reset_log &&
	: >"$FAKE_LOG" &&
	{ llm-chain -m fake/echo -m hanging hi </dev/null >out 2>err & } &&
	pid=$! &&
	i=0 &&
	while ! grep -q "\"model\":\"hang\"" "$FAKE_LOG" ||
		[ "$(sql "SELECT count(*) FROM requests WHERE step = 2" 2>/dev/null)" != 1 ]; do
		[ $i -lt 400 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done &&
	kill -TERM $pid &&
	wait $pid &&
	echo QUICK >expect &&
	test_cmp expect out &&
	sql "SELECT step, model, status FROM requests ORDER BY step, model" >got &&
	printf "%s\n" "1|fake/echo|ok" "2|fake/fixed-QUICK|ok" "2|fake/hang|interrupted" >expect &&
	test_cmp expect got
'

MIDERR="fake: error in the stream: The server had an error while processing your request"

test_expect_success 'without --atomic, a mid-stream failure of the last step is final: what arrived stays' '
	reset_log &&
	test_expect_code 69 llm-chain -m fake/echo -m broken one two three </dev/null >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	echo "llm-chain: error: step 2 (fake/echo+words+midstream-error): $MIDERR" >expect &&
	test_cmp expect err &&
	sql "SELECT step, model, status, response FROM requests ORDER BY id" >got &&
	printf "%s\n" "1|fake/echo|ok|one two three" \
		"2|fake/echo+words+midstream-error|error|one " >expect &&
	test_cmp expect got
'

test_expect_success '--atomic: a mid-stream failure of the last step falls back; only the whole answer is printed' '
	reset_log &&
	llm-chain --atomic -m fake/echo -m broken one two three </dev/null >out 2>err &&
	echo WHOLE >expect &&
	test_cmp expect out &&
	echo "llm-chain: warning: step 2: fake/echo+words+midstream-error failed, trying the next model of '\''broken'\'': step 2 (fake/echo+words+midstream-error): $MIDERR" >expect &&
	test_cmp expect err &&
	sql "SELECT step, model, status, response FROM requests ORDER BY id" >got &&
	printf "%s\n" "1|fake/echo|ok|one two three" \
		"2|fake/echo+words+midstream-error|error|one " \
		"2|fake/fixed-WHOLE|ok|WHOLE" >expect &&
	test_cmp expect got
'

test_expect_success '--atomic: a last step that fails mid-stream prints nothing of its answer' '
	reset_log &&
	test_expect_code 69 llm-chain --atomic -m fake/echo -m fake/echo+words+midstream-error one two three </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chain: error: step 2 (fake/echo+words+midstream-error): $MIDERR" >expect &&
	test_cmp expect err &&
	test "$(sql "SELECT response FROM requests WHERE step = 2")" = "one "
'

test_expect_success '--atomic: a whole answer, ending in one newline' '
	llm-chain --atomic -m fake/echo -m fake/echo+words one two three </dev/null >out 2>err &&
	echo "one two three" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'a step shown nowhere is held: its mid-stream failure falls back without --atomic' '
	reset_log &&
	llm-chain -m broken -m fake/echo one two three </dev/null >out 2>err &&
	echo WHOLE >expect &&
	test_cmp expect out &&
	test_grep "step 1: fake/echo+words+midstream-error failed, trying the next model of '\''broken'\''" err &&
	sql "SELECT step, model, status FROM requests ORDER BY id" >got &&
	printf "%s\n" "1|fake/echo+words+midstream-error|error" \
		"1|fake/fixed-WHOLE|ok" "2|fake/echo|ok" >expect &&
	test_cmp expect got
'

test_expect_success '--show-steps without --atomic: a step shown mid-stream cannot fall back' '
	test_expect_code 69 llm-chain --show-steps -m broken -m fake/echo one two three </dev/null >out 2>err &&
	test_must_be_empty out &&
	printf "== step 1/2: broken ==\none \nllm-chain: error: step 1 (fake/echo+words+midstream-error): %s\n" "$MIDERR" >expect &&
	test_cmp expect err
'

test_expect_success '--atomic --show-steps: each step shown once complete, after a fallback' '
	llm-chain --atomic --show-steps -m broken -m fake/echo one two three </dev/null >out 2>err &&
	echo WHOLE >expect &&
	test_cmp expect out &&
	cat >expect <<-EOT &&
	== step 1/2: broken ==
	llm-chain: warning: step 1: fake/echo+words+midstream-error failed, trying the next model of '\''broken'\'': step 1 (fake/echo+words+midstream-error): $MIDERR
	WHOLE
	== step 2/2: fake/echo ==
	EOT
	test_cmp expect err
'

test_expect_success '--atomic --json: the fallback is the step, the failure is logged' '
	reset_log &&
	llm-chain --atomic --json --show-steps -m fake/echo -m broken one two three </dev/null >out 2>err &&
	jq -c "[.status, .output, (.steps | length), .steps[1].model, .steps[1].id]" out >got &&
	echo "[\"ok\",\"WHOLE\",2,\"fake/fixed-WHOLE\",3]" >expect &&
	test_cmp expect got &&
	grep -v "^llm-chain: warning: " err >shown &&
	printf "== step 1/2: fake/echo ==\none two three\n== step 2/2: broken ==\nWHOLE\n" >expect &&
	test_cmp expect shown &&
	test "$(sql "SELECT status || response FROM requests WHERE id = 2")" = "errorone "
'

test_expect_success '--json --show-steps without --atomic: no fallback after text was shown' '
	test_expect_code 69 llm-chain --json --show-steps -m fake/echo -m broken one two three </dev/null >out 2>err &&
	jq -c "[.status, .output, (.steps | length), .steps[1].response]" out >got &&
	echo "[\"error\",null,2,\"one \"]" >expect &&
	test_cmp expect got
'

test_expect_success '--atomic: stdout closed, quiet, exit 0' '
	{ llm-chain --atomic -m fake/echo -m fake/big-2000000 "a b c d" </dev/null 2>err
	  echo $? >code; } | head -c 10 >out &&
	test "$(cat code)" = 0 &&
	test_must_be_empty err &&
	test "$(wc -c <out)" -eq 10
'

test_done
