#!/bin/sh
# Budgets: daily and monthly, global and per provider; a request reserves
# its worst case and settles to its real cost, across processes.
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-budgets-789
export FAKE_KEY
fake_start -k "$FAKE_KEY"

# The fake answers "fixed-a b" with the two words "a b": 2 tokens out at
# $1 a token, input free, max_tokens 2: $2 both worst and real.  "fixed-a"
# costs $1 for the same worst case of $2.
MODELS='
[model.two]
provider = fake
name = fixed-a b
input_cost = 0
output_cost = 1000000
max_tokens = 2

[model.one]
provider = fake
name = fixed-a
input_cost = 0
output_cost = 1000000
max_tokens = 2

[model.free]
provider = fake
name = fixed-free
'

budget_config() {
	reset_log
	: >"$FAKE_LOG"
	write_config "$MODELS
$1"
}

test_expect_success 'the request over the daily budget exits 75, naming it' '
	budget_config "
[provider.fake]
daily_budget_usd = 5
" &&
	llm-chat -m two hi >out &&
	echo "a b" >expect &&
	test_cmp expect out &&
	llm-chat -m two hi >/dev/null &&
	test_expect_code 75 llm-chat -m two hi >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: daily budget of \$5.00 for provider '\''fake'\'' reached: \$4.00 spent or reserved today (UTC), and this request may cost up to \$2.00; raise daily_budget_usd in [provider.fake]" >expect &&
	test_cmp expect err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 2 &&
	test "$(sql "select count(*), sum(cost_usd), sum(open) from guard_ledger")" = "2|4.0|0"
'

test_expect_success 'a model without prices costs nothing and still goes' '
	llm-chat -m free hi >out &&
	echo free >expect &&
	test_cmp expect out
'

test_expect_success 'concurrent processes never overspend: $6 buys exactly 3 of 8' '
	budget_config "
[provider.fake]
daily_budget_usd = 6
" &&
	i=0 &&
	while [ $i -lt 8 ]; do
		i=$((i + 1))
		{ llm-chat -m two "p $i" >/dev/null 2>"err.$i"; echo $? >"code.$i"; } &
	done &&
	wait &&
	test "$(cat code.* | grep -c "^0$")" -eq 3 &&
	test "$(cat code.* | grep -c "^75$")" -eq 5 &&
	test "$(cat err.* | grep -c "daily budget of \$6.00 for provider")" -eq 5 &&
	test "$(wc -l <"$FAKE_LOG")" -eq 3 &&
	test "$(sql "select sum(cost_usd) from guard_ledger")" = 6.0
'

test_expect_success 'a reservation settles to the real cost' '
	budget_config "
[provider.fake]
daily_budget_usd = 3
" &&
	llm-chat -m one hi >/dev/null &&
	llm-chat -m one hi >/dev/null &&
	test_expect_code 75 llm-chat -m one hi 2>err &&
	test_grep "\$2.00 spent or reserved today (UTC), and this request may cost up to \$2.00" err &&
	test "$(sql "select group_concat(cost_usd) from guard_ledger")" = "1.0,1.0"
'

test_expect_success 'the global budget in [defaults] covers every provider' '
	budget_config "
[defaults]
daily_budget_usd = 3
" &&
	llm-chat -m two hi >/dev/null &&
	test_expect_code 75 llm-chat -m two hi 2>err &&
	echo "llm-chat: error: daily budget of \$3.00 reached: \$2.00 spent or reserved today (UTC), and this request may cost up to \$2.00; raise daily_budget_usd in [defaults]" >expect &&
	test_cmp expect err
'

test_expect_success 'a monthly budget' '
	budget_config "
[provider.fake]
monthly_budget_usd = 3.5
" &&
	llm-chat -m two hi >/dev/null &&
	test_expect_code 75 llm-chat -m two hi 2>err &&
	test_grep "monthly budget of \$3.50 for provider '\''fake'\'' reached: \$2.00 spent or reserved this month (UTC)" err &&
	test_grep "raise monthly_budget_usd in [provider.fake]" err
'

test_expect_success 'another day does not count today' '
	budget_config "
[provider.fake]
daily_budget_usd = 3
" &&
	llm-chat -m two hi >/dev/null &&
	sql "update guard_ledger set day = date('\''now'\'', '\''-1 day'\'')" &&
	llm-chat -m two hi >/dev/null
'

test_expect_success '--no-log requests count too' '
	budget_config "
[provider.fake]
daily_budget_usd = 4
" &&
	llm-chat --no-log -m two hi >/dev/null &&
	llm-chat --no-log -m two hi >/dev/null &&
	test_expect_code 75 llm-chat -m two hi 2>err &&
	test_grep "\$4.00 spent or reserved today" err &&
	test "$(sql "select count(*) from requests")" -eq 0
'

test_expect_success 'a failed request costs nothing' '
	budget_config "
[provider.fake]
daily_budget_usd = 2

[model.broken]
provider = fake
name = fail-500
input_cost = 0
output_cost = 1000000
max_tokens = 2
" &&
	test_expect_code 69 llm-chat -m broken hi 2>err &&
	test "$(sql "select cost_usd, open from guard_ledger")" = "0.0|0" &&
	llm-chat -m two hi >out &&
	echo "a b" >expect &&
	test_cmp expect out
'

test_expect_success 'a budget that cannot be checked refuses: 74' '
	budget_config "
[provider.fake]
daily_budget_usd = 100
" &&
	sed "s|^database = .*|database = /dev/null/llm.db|" "$LLM_CONFIG" >cfg &&
	mv cfg "$LLM_CONFIG" &&
	test_expect_code 74 llm-chat -m two hi >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-chat: error: cannot check the budget: cannot open log '\''/dev/null/llm.db'\''" err &&
	test "$(wc -l <"$FAKE_LOG")" -eq 0
'

test_done
