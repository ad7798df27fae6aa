#!/bin/sh
# llm-compare: many models at once, the answers side by side.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-secret-123
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[provider.dead]
type = openai
base_url = http://127.0.0.1:9/v1

[group.safe]
models = dead/echo, fake/echo

[group.careful]
models = fake/echo+finish-content_filter, fake/echo+midstream-error, fake/fixed-safe

[group.sh]
models = fake/fixed-p, fake/fixed-s
strategy = shadow

[model.tiny]
provider = fake
name = echo
context_window = 20

[group.small]
models = tiny
'

# The header lines with their times made constant.
norm() {
	sed -e 's/[0-9][0-9]* ms/N ms/g' -e 's/[0-9][0-9.]* tok\/s/R tok\/s/' \
		-e '/^|/s/ [0-9][0-9.]* | \$/ R | $/' "$@"
}

# requests: how many the fake has received.
requests() {
	wc -l <"$FAKE_LOG" | tr -d ' '
}

test_expect_success 'llm-compare --help, --version' '
	llm-compare --help >out 2>err &&
	test_grep "usage: llm-compare" out &&
	test_grep "--judge" out &&
	test_must_be_empty err &&
	llm-compare --version >out &&
	echo "llm-compare 0.1.0" >expect &&
	test_cmp expect out
'

test_expect_success 'two models: one block each, in -m order; stderr empty' '
	echo "hello world" | llm-compare -m echo -m fake/fixed-bye >out 2>err &&
	test_must_be_empty err &&
	norm out >got &&
	cat >expect <<-\EOT &&
	== echo | N ms | first token N ms | 5+2 tokens | R tok/s | $0.0000115 ==
	hello world

	== fake/fixed-bye | N ms | first token N ms | 5+1 tokens | R tok/s | $? ==
	bye
	EOT
	test_cmp expect got
'

test_expect_success 'the header line has the documented shape' '
	llm-compare -m echo hello world </dev/null >out &&
	head -n 1 out >h &&
	grep -E "^== echo \| [0-9]+ ms \| first token [0-9]+ ms \| 5\+2 tokens \| [0-9]+(\.[0-9])? tok/s \| \\\$0\.0000115 ==\$" h
'

test_expect_success '-m A,B and -m C mix; every model gets the same request' '
	n=$(requests) &&
	echo "Say hi" | llm-compare -m fake/echo-1,fake/echo-2 -m fake/echo-3 \
		-s "Be terse." -t 0.2 --max-tokens 64 --stop END >out &&
	test "$(grep -c "^== fake/echo-" out)" = 3 &&
	tail -n +$((n + 1)) "$FAKE_LOG" | jq -c ".body | del(.model)" | sort -u >got &&
	cat >expect <<-\EOT &&
	{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Say hi"}],"temperature":0.2,"max_tokens":64,"stop":["END"],"stream":true,"stream_options":{"include_usage":true}}
	EOT
	test_cmp expect got &&
	tail -n 3 "$FAKE_LOG" | jq -r .body.model | sort >got &&
	printf "echo-1\necho-2\necho-3\n" >expect &&
	test_cmp expect got
'

test_expect_success 'the blocks keep the -m order when the answers come in reverse' '
	llm-compare -m fake/fixed-slow+delay-300 -m fake/fixed-fast hi \
		</dev/null >out &&
	grep "^==" out | cut -d" " -f2 >got &&
	printf "fake/fixed-slow+delay-300\nfake/fixed-fast\n" >expect &&
	test_cmp expect got &&
	sed -n "2p;5p" out >got &&
	printf "slow\nfast\n" >expect &&
	test_cmp expect got
'

test_expect_success 'all requests are in flight at once' '
	n=$(requests) &&
	m=fake/echo-1+hang &&
	for i in 2 3 4 5 6 7 8; do m="$m,fake/echo-$i+hang"; done &&
	{ llm-compare -m "$m" hi </dev/null >out 2>err & } &&
	pid=$! &&
	i=0 &&
	while [ "$(requests)" -lt $((n + 8)) ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	test "$(requests)" -eq $((n + 8)) &&
	kill -INT $pid &&
	{ wait $pid; echo $? >code; } &&
	test "$(cat code)" = 130 &&
	test "$(grep -c "| interrupted |" out)" = 8
'

if [ "${LLM_VALGRIND:-}" = 1 ]; then
	test_skip '8 models of 500 ms take less than 8 x 500 ms' 'valgrind'
else
test_expect_success '8 models of 500 ms take less than 8 x 500 ms' '
	m=fake/echo-1+delay-500 &&
	for i in 2 3 4 5 6 7 8; do m="$m,fake/echo-$i+delay-500"; done &&
	t0=$(date +%s%N) &&
	llm-compare --no-log -m "$m" hi </dev/null >out &&
	t1=$(date +%s%N) &&
	test "$(grep -c "^== fake/echo-" out)" = 8 &&
	test $(((t1 - t0) / 1000000)) -lt 4000
'
fi

test_expect_success 'a failing model: its block has the error, the others print, 69' '
	echo hi | test_expect_code 69 llm-compare --retries 0 \
		-m fake/fixed-one -m fake/fail-500 -m fake/fixed-two >out 2>err &&
	norm out >got &&
	cat >expect <<-\EOT &&
	== fake/fixed-one | N ms | first token N ms | 4+1 tokens | R tok/s | $? ==
	one

	== fake/fail-500 | failed | N ms ==
	fake: HTTP 500: The server had an error while processing your request. Sorry about that!

	== fake/fixed-two | N ms | first token N ms | 4+1 tokens | R tok/s | $? ==
	two
	EOT
	test_cmp expect got &&
	echo "llm-compare: error: fake/fail-500: fake: HTTP 500: The server had an error while processing your request. Sorry about that!" >expect &&
	test_cmp expect err
'

test_expect_success 'the exit code is that of the first failed model in -m order' '
	echo hi | test_expect_code 75 llm-compare -m fake/echo \
		-m fake/fail-429 -m fake/fail-500 >out 2>err &&
	test "$(wc -l <err)" -eq 2 &&
	echo hi | test_expect_code 77 llm-compare -m fake/fail-401 \
		-m fake/fail-429 >/dev/null 2>err &&
	test_grep "fake/fail-401: fake: HTTP 401" err &&
	echo hi | test_expect_code 65 llm-compare -m fake/echo+malformed \
		-m fake/echo >/dev/null 2>&1
'

test_expect_success 'an unknown model: 78 before any request, with the closest names' '
	n=$(requests) &&
	echo hi | test_expect_code 78 llm-compare -m fake/echo -m ehco >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-compare: error: unknown model '\''ehco'\''" err &&
	test_grep "echo" err &&
	test "$(wc -l <err)" -eq 1 &&
	test "$(requests)" -eq "$n" &&
	echo hi | test_expect_code 78 llm-compare -m fkae/echo 2>err &&
	test_grep "unknown provider '\''fkae'\''" err &&
	echo hi | test_expect_code 78 llm-compare -m fake/a,fake/b --judge nope 2>err &&
	test_grep "nope" err &&
	test "$(requests)" -eq "$n"
'

test_expect_success 'usage errors: 64' '
	test_expect_code 64 llm-compare hi </dev/null >out 2>err &&
	test_grep "no models to compare: give them with -m" err &&
	test_expect_code 64 llm-compare -m fake/echo </dev/null 2>err &&
	test_grep "empty prompt" err &&
	test_expect_code 64 llm-compare -m fake/echo --format yaml hi 2>err &&
	test_grep "unknown format '\''yaml'\''" err &&
	test_expect_code 64 llm-compare -m fake/echo -n 0 hi 2>err &&
	test_grep "runs is too small" err &&
	test_expect_code 64 llm-compare -m fake/echo --judge fake/echo hi 2>err &&
	test_grep "judge ranks from 2 to 26 models" err &&
	test_expect_code 64 llm-compare -m fake/echo --bogus hi 2>err &&
	test_grep "unknown option '\''--bogus'\''" err &&
	test_expect_code 64 llm-compare -m 2>err &&
	test_grep "needs an argument" err
'

test_expect_success 'stdout carries only the answers; --no-stream gives the same' '
	printf "a b\n\nc" | llm-compare -m fake/echo -m fake/utf8 >s.out 2>err &&
	test_must_be_empty err &&
	printf "a b\n\nc" | llm-compare --no-stream -m fake/echo -m fake/utf8 >n.out &&
	norm s.out >s &&
	norm n.out >n &&
	test_cmp s n &&
	sed -n 2,4p s.out >got &&
	printf "a b\n\nc\n" >expect &&
	test_cmp expect got
'

test_expect_success '-n 3: three runs of each, p50/p95 and the spread' '
	n=$(requests) &&
	echo hi | llm-compare -n 3 -m echo -m fake/fixed-x >out &&
	test "$(requests)" -eq $((n + 6)) &&
	norm out >got &&
	cat >expect <<-\EOT &&
	== echo | 3 runs | p50 N ms | p95 N ms | first token p50 N ms, p95 N ms | 12+3 tokens | 1 distinct of 3 | $0.000024 ==
	hi

	== fake/fixed-x | 3 runs | p50 N ms | p95 N ms | first token p50 N ms, p95 N ms | 12+3 tokens | 1 distinct of 3 | $? ==
	x
	EOT
	test_cmp expect got &&
	echo hi | llm-compare -n 3 -m echo --json >out &&
	jq -c ".results[0] | [.ref, .n, .ok, .failed, .distinct, .response,
		(.latency_p50_ms | type), (.latency_p95_ms | type),
		(.ttft_p50_ms | type), (.ttft_p95_ms | type),
		(.runs | length), .usage.input_tokens]" out >got &&
	echo "[\"echo\",3,3,0,1,\"hi\",\"number\",\"number\",\"number\",\"number\",3,12]" >expect &&
	test_cmp expect got &&
	jq -e ".results[0] | .latency_p50_ms <= .latency_p95_ms" out
'

test_expect_success '-n with failures counts them' '
	echo hi | test_expect_code 69 llm-compare -n 2 -m fake/fail-503 >out 2>err &&
	echo "== fake/fail-503 | 2 runs, 2 failed ==" >expect &&
	head -n 1 out >got &&
	test_cmp expect got &&
	test "$(wc -l <err)" -eq 2
'

cat >"$TRASH/prompts.txt" <<-\EOT
# questions
first question

second, "quoted"
EOT

test_expect_success '--prompts: a prompts x models matrix, grouped by prompt' '
	n=$(requests) &&
	llm-compare --prompts prompts.txt -m fake/echo -m fake/fixed-z >out &&
	test "$(requests)" -eq $((n + 4)) &&
	norm out >got &&
	cat >expect <<-\EOT &&
	# prompt 1: first question

	== fake/echo | N ms | first token N ms | 5+2 tokens | R tok/s | $0.0000115 ==
	first question

	== fake/fixed-z | N ms | first token N ms | 5+1 tokens | R tok/s | $? ==
	z

	# prompt 2: second, "quoted"

	== fake/echo | N ms | first token N ms | 5+2 tokens | R tok/s | $0.0000115 ==
	second, "quoted"

	== fake/fixed-z | N ms | first token N ms | 5+1 tokens | R tok/s | $? ==
	z
	EOT
	test_cmp expect got
'

test_expect_success '--prompts: json groups by prompt, csv has the prompt index' '
	llm-compare --prompts prompts.txt -m fake/echo -m fake/fixed-z --json >out &&
	jq -c "[.prompts[] | [.index, .prompt, [.results[].response]]]" out >got &&
	echo "[[1,\"first question\",[\"first question\",\"z\"]],[2,\"second, \\\"quoted\\\"\",[\"second, \\\"quoted\\\"\",\"z\"]]]" >expect &&
	test_cmp expect got &&
	llm-compare --prompts prompts.txt -m fake/echo -m fake/fixed-z --format csv >out.csv &&
	sqlite3 :memory: ".import --csv out.csv t" \
		"select prompt_index, prompt, run, ref, status, response from t" >got &&
	cat >expect <<-\EOT &&
	1|first question|1|fake/echo|ok|first question
	1|first question|1|fake/fixed-z|ok|z
	2|second, "quoted"|1|fake/echo|ok|second, "quoted"
	2|second, "quoted"|1|fake/fixed-z|ok|z
	EOT
	test_cmp expect got
'

test_expect_success '--prompts -: stdin; with a prompt argument or none: 64' '
	printf "one\ntwo\n" | llm-compare --prompts - -m fake/echo --format jsonl >out &&
	jq -r "[.prompt_index, .response] | @tsv" out >got &&
	printf "1\tone\n2\ttwo\n" >expect &&
	test_cmp expect got &&
	test_expect_code 64 llm-compare --prompts prompts.txt -m fake/echo hi 2>err &&
	test_grep "cannot be used together" err &&
	printf "# nothing\n\n" >empty.txt &&
	test_expect_code 64 llm-compare --prompts empty.txt -m fake/echo 2>err &&
	test_grep "no prompts in '\''empty.txt'\''" err &&
	test_expect_code 64 llm-compare --prompts missing.txt -m fake/echo 2>err &&
	test_grep "cannot read '\''missing.txt'\''" err
'

test_expect_success 'formats: jsonl, one line per model' '
	echo hi | llm-compare -m echo -m fake/fixed-y --format jsonl >out &&
	test "$(wc -l <out)" -eq 2 &&
	jq -c "[.type, .prompt_index, .run, .ref, .response, .status,
		.usage.input_tokens, (.group_id | test(\"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$\")),
		(.id | type)]" out >got &&
	cat >expect <<-\EOT &&
	["answer",1,1,"echo","hi","ok",4,true,"number"]
	["answer",1,1,"fake/fixed-y","y","ok",4,true,"number"]
	EOT
	test_cmp expect got
'

test_expect_success 'formats: json, one object with the run id and the prompt' '
	reset_log &&
	echo hi | llm-compare -m echo -m fake/fail-500 --json -s sys >out 2>err;
	test $? -eq 69 &&
	test "$(wc -l <out)" -eq 1 &&
	jq -c "[.prompt, .system, [.results[] | .ref, .status, .response],
		.results[1].error, .results[0].cost_usd, .results[0].provider_model]" out >got &&
	echo "[\"hi\",\"sys\",[\"echo\",\"ok\",\"hi\",\"fake/fail-500\",\"error\",\"\"],\"fake: HTTP 500: The server had an error while processing your request. Sorry about that!\",1.4e-05,\"echo\"]" >expect &&
	test_cmp expect got &&
	test "$(jq -r .group_id out)" = "$(sql "select distinct group_id from requests")" &&
	test "$(jq -c "[.results[].id]" out)" = "$(sql "select json_group_array(id) from (select id from requests order by id)")"
'

test_expect_success 'formats: csv is RFC 4180 with CRLF' '
	printf "a, \"b\"\nc" | llm-compare -m fake/echo -m fake/fixed-k --format csv >out &&
	head -n 1 out >got &&
	printf "prompt_index,prompt,run,ref,model,provider,provider_model,status,latency_ms,ttft_ms,input_tokens,output_tokens,tokens_estimated,cost_usd,finish_reason,response,error\r\n" >expect &&
	test_cmp expect got &&
	test "$(tr -cd "\r" <out | wc -c)" -eq 3 &&
	sqlite3 :memory: ".import --csv out t" \
		"select ref, provider_model, status, input_tokens, output_tokens,
		cost_usd, finish_reason, response = char(97,44,32,34,98,34,10,99),
		length(error) = 0,
		cast(latency_ms as integer) >= cast(ttft_ms as integer) from t" >got &&
	cat >expect <<-\EOT &&
	fake/echo|echo|ok|6|3|0.000015|stop|1|1|1
	fake/fixed-k|fixed-k|ok|6|1||stop|0|1|1
	EOT
	test_cmp expect got
'

test_expect_success 'formats: markdown, a table then a section per model' '
	echo hi | llm-compare -m echo -m fake/fail-500 --format markdown >out 2>/dev/null;
	norm out >got &&
	cat >expect <<-\EOT &&
	| model | status | latency | first token | tokens | tok/s | cost |
	| --- | --- | ---: | ---: | ---: | ---: | ---: |
	| echo | ok | N ms | N ms | 4+1 | R | $0.000008 |
	| fake/fail-500 | failed | N ms | ? ms | ?+? | ? | $? |

	## echo

	hi

	## fake/fail-500

	**failed:** fake: HTTP 500: The server had an error while processing your request. Sorry about that!
	EOT
	test_cmp expect got
'

test_expect_success '--judge: both orders, mapped back to the models' '
	reset_log &&
	n=$(requests) &&
	echo "2+2?" | llm-compare -m fake/fixed-four -m fake/fixed-4 \
		--judge "fake/fixed-Thinking.
RANKING: B > A" >out 2>err &&
	test_must_be_empty err &&
	sed -n "/^== judge/,\$p" out >got &&
	cat >expect <<-\EOT &&
	== judge fake/fixed-Thinking.
	RANKING: B > A ==
	as given: fake/fixed-4 > fake/fixed-four
	reversed: fake/fixed-four > fake/fixed-4
	mean rank: fake/fixed-four 1.5, fake/fixed-4 1.5
	EOT
	test_cmp expect got &&
	test "$(requests)" -eq $((n + 4)) &&
	tail -n 2 "$FAKE_LOG" | jq -r ".body.messages[0].content" >prompts &&
	test "$(grep -c -x "<question>" prompts)" = 2 &&
	test "$(grep -c -x "2+2?" prompts)" = 2 &&
	sed -n "/label=\"A\"/{n;p}" prompts | sort >got &&
	printf "4\nfour\n" >expect &&
	test_cmp expect got
'

test_expect_success '--judge: its requests and verdicts are logged in the group' '
	sql "select count(distinct group_id), count(*), sum(step is null),
		sum(tool = \"llm-compare\") from requests" >got &&
	echo "1|4|4|4" >expect &&
	test_cmp expect got &&
	sql "select response from requests where id > 2 order by id" >got &&
	printf "Thinking.\nRANKING: B > A\nThinking.\nRANKING: B > A\n" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(*) from requests where id > 2 and prompt like '\''Rank the following 2 answers%'\''")" = 2
'

test_expect_success '--judge: an agreeing judge ranks by the mean, json has it' '
	echo q | llm-compare -m fake/fixed-a -m fake/fixed-b -m fake/fixed-c \
		--judge "fake/fixed-RANKING: C > A > B" --json >out &&
	jq -c ".judge | [.status, [.verdicts[].ranking], [.ranking[] | .model, .mean_rank, .ranks]]" out >got &&
	echo "[\"ok\",[[\"fake/fixed-c\",\"fake/fixed-a\",\"fake/fixed-b\"],[\"fake/fixed-a\",\"fake/fixed-c\",\"fake/fixed-b\"]],[\"fake/fixed-a\",1.5,[2,1],\"fake/fixed-c\",1.5,[1,2],\"fake/fixed-b\",3,[3,3]]]" >expect &&
	test_cmp expect got &&
	jq -c "[.judge.verdicts[] | .order]" out >got &&
	echo "[[\"fake/fixed-a\",\"fake/fixed-b\",\"fake/fixed-c\"],[\"fake/fixed-c\",\"fake/fixed-b\",\"fake/fixed-a\"]]" >expect &&
	test_cmp expect got
'

test_expect_success '--judge: a verdict without a ranking is shown, exit 65' '
	echo q | test_expect_code 65 llm-compare -m fake/fixed-a -m fake/fixed-b \
		--judge "fake/fixed-I prefer A" >out 2>err &&
	sed -n "/^== judge/,\$p" out >got &&
	cat >expect <<-\EOT &&
	== judge fake/fixed-I prefer A ==
	as given: no ranking found in the verdict:
	  I prefer A
	reversed: no ranking found in the verdict:
	  I prefer A
	mean rank: none
	EOT
	test_cmp expect got &&
	cat >expect <<-\EOT &&
	llm-compare: warning: judge fake/fixed-I prefer A: no ranking in its verdict (given order)
	llm-compare: warning: judge fake/fixed-I prefer A: no ranking in its verdict (reversed order)
	llm-compare: error: judge fake/fixed-I prefer A: no ranking in either verdict
	EOT
	test_cmp expect err
'

test_expect_success '--judge: a failed judge request; too few answers to judge' '
	echo q | test_expect_code 69 llm-compare -m fake/fixed-a -m fake/fixed-b \
		--judge fake/fail-500 >out 2>err &&
	test_grep "as given: failed: fake: HTTP 500" out &&
	test "$(grep -c "llm-compare: error: judge fake/fail-500: fake: HTTP 500" err)" = 2 &&
	n=$(requests) &&
	echo q | test_expect_code 69 llm-compare -m fake/fixed-a -m fake/fail-500 \
		--judge fake/fixed-x >out 2>err &&
	test "$(requests)" -eq $((n + 2)) &&
	sed -n "/^== judge/,\$p" out >got &&
	printf "== judge fake/fixed-x ==\nnot run: fewer than two answers to judge\n" >expect &&
	test_cmp expect got &&
	test_grep "judge fake/fixed-x not asked: fewer than two answers" err
'

test_expect_success 'all requests of a run share one group id' '
	reset_log &&
	echo hi | llm-compare -m fake/echo -m fake/fixed-b -n 2 >/dev/null &&
	echo hi | llm-compare -m fake/echo >/dev/null &&
	sql "select group_id, count(*), sum(tool = \"llm-compare\"),
		sum(step is null) from requests group by group_id order by min(id)" >got &&
	test "$(wc -l <got)" -eq 2 &&
	cut -d"|" -f2- got >counts &&
	printf "4|4|4\n1|1|1\n" >expect &&
	test_cmp expect counts &&
	grep -E "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\|" got >/dev/null
'

test_expect_success '--no-log writes no row' '
	reset_log &&
	echo hi | llm-compare --no-log -m fake/echo --json >out &&
	test ! -e "$DB" &&
	jq -c "[.group_id, .results[0].id]" out >got &&
	echo "[null,null]" >expect &&
	test_cmp expect got
'

test_expect_success 'a log that cannot be written: the answers are printed, 74' '
	: >notadir &&
	sed "s|^database = .*|database = $TRASH/notadir/llm.db|" "$LLM_CONFIG" >nolog.ini &&
	echo hi | test_expect_code 74 llm-compare --config nolog.ini \
		-m fake/echo -m fake/fixed-b >out 2>err &&
	test "$(grep -c "^== " out)" = 2 &&
	test_grep "llm-compare: error:" err &&
	test "$(wc -l <err)" -eq 1
'

test_expect_success 'a group falls back to its next member; the block names both' '
	reset_log &&
	echo "still here" | llm-compare -m safe -m fake/fixed-b >out 2>err &&
	norm out >got &&
	cat >expect <<-\EOT &&
	== safe (fake/echo) | N ms | first token N ms | 5+2 tokens | R tok/s | $0.0000115 ==
	still here

	== fake/fixed-b | N ms | first token N ms | 5+1 tokens | R tok/s | $? ==
	b
	EOT
	test_cmp expect got &&
	test_grep "llm-compare: warning: dead/echo failed, trying the next model of '\''safe'\''" err &&
	sql "select model, provider, status from requests order by id" >got &&
	printf "dead/echo|dead|error\nfake/fixed-b|fake|ok\nfake/echo|fake|ok\n" >expect &&
	test_cmp expect got &&
	echo hi | llm-compare -q -m safe >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'a refusal or a broken stream falls back too: nothing was printed' '
	reset_log &&
	echo hi | llm-compare -m careful >out 2>err &&
	norm out >got &&
	cat >expect <<-\EOT &&
	== careful (fake/fixed-safe) | N ms | first token N ms | 4+1 tokens | R tok/s | $? ==
	safe
	EOT
	test_cmp expect got &&
	test_grep "fake/echo+finish-content_filter failed, trying the next model of '\''careful'\'': refused by a content policy" err &&
	test_grep "fake/echo+midstream-error failed, trying the next model of '\''careful'\''" err &&
	sql "select model, status from requests order by id" >got &&
	printf "fake/echo+finish-content_filter|ok\nfake/echo+midstream-error|error\nfake/fixed-safe|ok\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a shadow group: the shadows are logged in the run, never shown' '
	reset_log &&
	echo hi | llm-compare -m sh -m fake/fixed-b --json >out 2>err &&
	test_must_be_empty err &&
	jq -c "[.results[] | [.ref, .model, .response]]" out >got &&
	echo "[[\"sh\",\"fake/fixed-p\",\"p\"],[\"fake/fixed-b\",\"fake/fixed-b\",\"b\"]]" >expect &&
	test_cmp expect got &&
	sql "select model, response, count(distinct group_id) from requests
		group by model order by model" >got &&
	printf "fake/fixed-b|b|1\nfake/fixed-p|p|1\nfake/fixed-s|s|1\n" >expect &&
	test_cmp expect got &&
	test "$(sql "select count(distinct group_id) from requests")" = 1
'

test_expect_success 'a prompt that fits no model of a group: 64 before any request' '
	n=$(requests) &&
	test_expect_code 64 llm-compare -m small -m fake/echo \
		"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one" \
		</dev/null >out 2>err &&
	test_must_be_empty out &&
	test_grep "fits no model of group '\''small'\''" err &&
	test "$(requests)" -eq "$n"
'

test_expect_success 'SIGINT: the finished blocks print, the rest is interrupted, 130' '
	reset_log &&
	{ llm-compare -m fake/fixed-done -m fake/hang -m fake/echo+words+gap-300 \
		"one two three four five six seven eight" </dev/null >out 2>err & } &&
	pid=$! &&
	i=0 &&
	while ! grep -q "^done" out && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	sleep 0.5 &&
	kill -INT $pid &&
	{ wait $pid; echo $? >code; } &&
	test "$(cat code)" = 130 &&
	grep "^==" out | sed -e "s/ | [0-9].*//" -e "s/ | first.*//" >got &&
	cat >expect <<-\EOT &&
	== fake/fixed-done
	== fake/hang | interrupted
	== fake/echo+words+gap-300 | interrupted
	EOT
	test_cmp expect got &&
	echo "llm-compare: error: interrupted" >expect &&
	test_cmp expect err &&
	sql "select model, status from requests order by id" >got &&
	printf "fake/fixed-done|ok\nfake/hang|interrupted\nfake/echo+words+gap-300|interrupted\n" >expect &&
	test_cmp expect got &&
	partial=$(sql "select response from requests where id = 3") &&
	test -n "$partial" &&
	test_grep "$partial" out
'

test_expect_success 'the key never reaches stdout, stderr or the log' '
	reset_log &&
	echo hi | llm-compare -vv -m fake/echo -m fake/fail-401 --judge fake/echo >out 2>err;
	echo hi | llm-compare -m fake/echo -m fake/fixed-b --json >>out 2>>err &&
	test_not_grep "$FAKE_KEY" out &&
	test_not_grep "$FAKE_KEY" err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep "$FAKE_KEY" dump &&
	test_grep "Authorization: ***" err
'

if command -v script >/dev/null 2>&1; then
	test_expect_success 'on a terminal, stderr shows each model progress' '
		TERM=xterm script -qec "llm-compare -m fake/echo+delay-200 -m fake/fail-500 hi >out 2>/dev/null </dev/null; llm-compare -m fake/echo+delay-200 -m fake/fail-500 hi >out </dev/null" /dev/null >tty </dev/null;
		test_grep "fake/echo+delay-200  waiting" tty &&
		test_grep "fake/fail-500        failed: fake: HTTP 500" tty &&
		test_grep "$(printf "\033[2A")" tty &&
		test "$(grep -c "^== " out)" = 2 &&
		TERM=xterm script -qec "llm-compare -q -m fake/echo hi >out </dev/null" /dev/null >tty </dev/null;
		test_not_grep "waiting" tty
	'
else
	test_skip 'on a terminal, stderr shows each model progress' 'no script(1)'
fi

test_expect_success 'the completions know every long option of --help' '
	completions_cover llm-compare
'

test_done
