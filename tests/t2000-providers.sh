#!/bin/sh
# llm-providers: the table, models and prices, live checks, discovery.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-test-secret-123
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config '
[provider.nokey]
type = openai
base_url = https://api.example.invalid/v1
api_key = ${NOKEY_API_KEY}

[provider.off]
type = openai
base_url = https://off.example.invalid/v1
enabled = false

[provider.dead]
type = openai
base_url = http://127.0.0.1:9/v1

[model.cheap]
provider = fake
name = echo-model
context_window = 131072
input_cost = 0.05
output_cost = 0.08
tags = fast, cheap

[model.local]
provider = open
name = params
tags = local
'

test_expect_success 'the provider table: status and model count' '
	llm-providers >out 2>err &&
	test_must_be_empty err &&
	cat >expect <<-EOT &&
	PROVIDER  TYPE    STATUS    MODELS  BASE URL
	fake      openai  ready          2  $FAKE_URL/v1
	open      openai  ready          1  $FAKE_URL/v1
	nokey     openai  no key         0  https://api.example.invalid/v1
	off       openai  disabled       0  https://off.example.invalid/v1
	dead      openai  ready          0  http://127.0.0.1:9/v1
	EOT
	test_cmp expect out
'

test_expect_success 'named providers only' '
	llm-providers off fake >out &&
	test "$(wc -l <out)" -eq 3 &&
	test "$(sed -n 2p out | cut -d" " -f1)" = off
'

test_expect_success 'an unknown provider: 78 with suggestions' '
	test_expect_code 78 llm-providers fkae 2>err &&
	test_grep "unknown provider '\''fkae'\''" err &&
	test_grep fake err
'

test_expect_success '--json lists every configured provider' '
	llm-providers --json >out &&
	jq -r ".[] | [.provider, .type, .status, .models, .enabled] | @tsv" out >got &&
	printf "fake\topenai\tready\t2\ttrue\nopen\topenai\tready\t1\ttrue\nnokey\topenai\tno key\t0\ttrue\noff\topenai\tdisabled\t0\tfalse\ndead\topenai\tready\t0\ttrue\n" >expect &&
	test_cmp expect got
'

test_expect_success '--models: context window, prices and tags' '
	llm-providers --models >out &&
	cat >expect <<-\EOT &&
	MODEL  PROVIDER         CONTEXT  IN $/M  OUT $/M  TAGS
	echo   fake/echo           8192     1.5        2
	cheap  fake/echo-model   131072    0.05     0.08  fast,cheap
	local  open/params            -       -        -  local
	EOT
	test_cmp expect out
'

test_expect_success '--tag filters the models' '
	llm-providers --models --tag cheap >out &&
	test "$(wc -l <out)" -eq 2 &&
	test_grep cheap out &&
	llm-providers --models --json --tag local | jq -c ".[] | [.model, .id, .input_cost, .tags]" >got &&
	echo "[\"local\",\"params\",null,[\"local\"]]" >expect &&
	test_cmp expect got
'

test_expect_success '--check of a live provider exits 0' '
	llm-providers --check fake >out 2>err &&
	test_must_be_empty err &&
	test "$(sed -n 2p out | awk "{print \$3}")" = ok &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .path)" = /v1/models &&
	test "$(tail -n 1 "$FAKE_LOG" | jq -r .headers.authorization)" = "Bearer $FAKE_KEY"
'

test_expect_success '--check of a dead provider: non-zero, says why' '
	test_expect_code 69 llm-providers --check fake dead >out 2>err &&
	test "$(grep "^dead" out | awk "{print \$3}")" = unreachable &&
	test_grep "provider '\''dead'\'': unreachable" err
'

test_expect_success '--check without names probes the ready ones' '
	llm-providers --check >out 2>err;
	test $? -ne 0 &&
	test "$(grep "^fake" out | awk "{print \$3}")" = ok &&
	test "$(grep "^nokey" out | awk "{print \$3, \$4}")" = "no key"
'

test_expect_success '--check with a refused key: 77' '
	FAKE_KEY=wrong test_expect_code 77 llm-providers --check fake >out 2>err &&
	test_grep "key refused" out &&
	test_not_grep wrong out &&
	test_not_grep wrong err
'

test_expect_success '--check of a provider without key, named: 77' '
	test_expect_code 77 llm-providers --check nokey 2>err &&
	test_grep "no key" err
'

test_expect_success '--check --json gives latency and errors' '
	test_expect_code 69 llm-providers --check --json fake dead >out &&
	jq -r ".[] | [.provider, .status, (.latency_ms >= 0), (.error != null)] | @tsv" out >got &&
	printf "fake\tok\ttrue\tfalse\ndead\tunreachable\ttrue\ttrue\n" >expect &&
	test_cmp expect got
'

test_expect_success '--discover lists served models that llm.ini lacks' '
	llm-providers --discover fake >out &&
	test_grep fake/sys-model out &&
	test_grep fake/big-model out &&
	test_not_grep fake/echo-model out &&
	llm-providers --discover --json fake | jq -r ".[0].served | length" >got &&
	echo 7 >expect &&
	test_cmp expect got
'

test_expect_success '--discover: an Ollama NAME:latest matches a model NAME' '
	write_config "
[provider.oll]
type = ollama
base_url = $FAKE_URL
api_key = \${FAKE_KEY}

[model.em]
provider = oll
name = echo-model
" &&
	llm-providers --discover oll >out &&
	test_not_grep oll/echo-model out &&
	test_grep oll/sys-model:latest out
'

test_expect_success 'the completions know every long option of --help' '
	completions_cover llm-providers
'

test_done
