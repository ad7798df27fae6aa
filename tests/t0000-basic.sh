#!/bin/sh
# Every program: --help, --version, a bad option.
. "$(dirname "$0")/lib.sh"

for prog in llm-chat llm-providers llm-compare llm-chain llm-log; do
	test_expect_success "$prog --help prints usage to stdout" "
		$prog --help >out 2>err &&
		test_grep 'usage: $prog' out &&
		test_must_be_empty err
	"
	test_expect_success "$prog -h is --help" "
		$prog -h >out &&
		test_grep 'usage: $prog' out
	"
	test_expect_success "$prog --version" "
		$prog --version >out &&
		echo '$prog 0.1.0' >expect &&
		test_cmp expect out
	"
	test_expect_success "$prog with a bad option exits 64" "
		test_expect_code 64 $prog --no-such-option >out 2>err &&
		test_must_be_empty out &&
		test_grep \"$prog: error: unknown option '--no-such-option'\" err &&
		test_grep \"Try '$prog --help'\" err
	"
	test_expect_success "$prog with a missing option argument exits 64" "
		test_expect_code 64 $prog --config 2>err </dev/null &&
		test_grep \"needs an argument\" err
	"
done

test_done
