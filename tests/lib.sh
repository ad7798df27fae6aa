# tests/lib.sh - the end-to-end test harness (cf. git's t/test-lib.sh).
#
# A test script sources this file, declares tests and ends with test_done:
#
#	test_expect_success 'what it checks' '
#		llm-chat -m fake/echo hi >out &&
#		test_cmp expect out
#	'
#
# Each test body runs in a subshell inside a fresh scratch directory
# ($TRASH), with HOME, XDG_* and LLM_CONFIG pointing into it, API keys
# unset, and the programs under test first on PATH.  Output is TAP.

set -u
LC_ALL=C
export LC_ALL
unset LANG LANGUAGE LLM_MODEL LLM_CONFIG
for v in OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY GROQ_API_KEY \
	HF_TOKEN MISTRAL_API_KEY DEEPSEEK_API_KEY TOGETHER_API_KEY \
	XAI_API_KEY OPENROUTER_API_KEY SAMBANOVA_API_KEY AZURE_OPENAI_API_KEY \
	AZURE_OPENAI_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN AWS_BEARER_TOKEN_BEDROCK OLLAMA_HOST FAKE_KEY; do
	unset "$v"
done

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build/san}
DATA=$SRC/tests/data
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/llm-$TEST_NAME.XXXXXX")
HOME=$TRASH/home
XDG_CONFIG_HOME=$HOME/.config
XDG_DATA_HOME=$HOME/.local/share
LLM_DEFAULT_CONFIG=$TRASH/no-default.ini
LLM_CONFIG=$TRASH/llm.ini
DB=$TRASH/llm.db
export HOME XDG_CONFIG_HOME XDG_DATA_HOME LLM_DEFAULT_CONFIG LLM_CONFIG
mkdir -p "$HOME"
PATH=$BUILD/bin:$PATH
export PATH
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export ASAN_OPTIONS

test_count=0
test_failed=0
FAKE_PID=

cleanup() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
	fi
	cd /
	rm -rf "$TRASH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Under VALGRIND=1 every program runs under valgrind, through wrapper
# scripts first on PATH.
if [ "${LLM_VALGRIND:-}" = 1 ]; then
	mkdir -p "$TRASH/vgbin"
	for prog in "$BUILD"/bin/*; do
		name=$(basename "$prog")
		cat >"$TRASH/vgbin/$name" <<EOT
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite "$prog" "\$@"
EOT
		chmod +x "$TRASH/vgbin/$name"
	done
	PATH=$TRASH/vgbin:$PATH
fi

say() {
	printf '%s\n' "$*"
}

# test_expect_success DESCRIPTION BODY
test_expect_success() {
	test_count=$((test_count + 1))
	if (cd "$TRASH" && eval "$2") </dev/null >"$TRASH/.out" 2>&1; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
		sed 's/^/#	/' "$TRASH/.out" >&2
	fi
}

# test_skip DESCRIPTION REASON
test_skip() {
	test_count=$((test_count + 1))
	say "ok $test_count - $1 # SKIP $2"
}

# test_expect_code CODE COMMAND...: the command exits with CODE.
test_expect_code() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "exit code $got, want $want: $*" >&2
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: the files are byte-identical.
test_cmp() {
	if ! cmp -s "$1" "$2"; then
		echo "files differ: $1 $2" >&2
		diff -u "$1" "$2" >&2 || :
		return 1
	fi
}

test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "'$1' is not empty:" >&2
		cat "$1" >&2
		return 1
	fi
}

# test_grep PATTERN FILE (fixed string)
test_grep() {
	if ! grep -F -q -- "$1" "$2"; then
		echo "'$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

test_not_grep() {
	if grep -F -q -- "$1" "$2"; then
		echo "'$1' unexpectedly found in $2" >&2
		return 1
	fi
}

# completions_cover PROG: every long option of "PROG --help" is in PROG's
# bash, zsh and fish completions; says which is missing.
completions_cover() {
	"$1" --help | grep -oE -- "--[a-z][a-z-]*" | sort -u >opts &&
	test "$(wc -l <opts)" -gt 3 &&
	while read -r o; do
		if ! grep -qF -- "$o" "$SRC/completions/$1.bash" ||
			! grep -qF -- "$o" "$SRC/completions/_$1" ||
			! grep -qF -- "-l ${o#--}" "$SRC/completions/$1.fish"; then
			echo "$1: $o missing from its completions" >&2
			return 1
		fi
	done <opts
}

# reset_log: remove the test log with its WAL files (a stale -wal next to
# a new database would be replayed into it).
reset_log() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
}

# sql QUERY: run a query on the test log.
sql() {
	sqlite3 -batch -noheader "$DB" "$1"
}

# fake_start [fakellm options...]: start the local test provider and
# point [provider.fake] at it; sets FAKE_PORT, FAKE_URL and FAKE_LOG.
fake_start() {
	FAKE_LOG=$TRASH/fake.log
	: >"$FAKE_LOG"
	rm -f "$TRASH/fake.port"
	"$BUILD/tests/fake/fakellm" -p "$TRASH/fake.port" -l "$FAKE_LOG" \
		-t 900 "$@" 2>"$TRASH/fake.err" &
	FAKE_PID=$!
	i=0
	while [ ! -s "$TRASH/fake.port" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			echo "fakellm did not start" >&2
			cat "$TRASH/fake.err" >&2
			exit 1
		fi
		sleep 0.01
	done
	FAKE_PORT=$(cat "$TRASH/fake.port")
	FAKE_URL=http://127.0.0.1:$FAKE_PORT
	export FAKE_PORT FAKE_URL FAKE_LOG
}

# write_config [extra ini text]: the test llm.ini, with the fake
# provider (key ${FAKE_KEY}), a key-less one and the log in $TRASH.
write_config() {
	cat >"$LLM_CONFIG" <<EOT
[defaults]
model = fake/echo
database = $DB
timeout = 30
retries = 0

[provider.fake]
type = openai
base_url = ${FAKE_URL:-http://127.0.0.1:9}/v1
api_key = \${FAKE_KEY}

[provider.open]
type = openai
base_url = ${FAKE_URL:-http://127.0.0.1:9}/v1

[model.echo]
provider = fake
name = echo
context_window = 8192
input_cost = 1.5
output_cost = 2

${1:-}
EOT
}

# last_request: the body of the last request the fake received.
last_request() {
	tail -n 1 "$FAKE_LOG" | jq -c .body
}

test_done() {
	say "1..$test_count"
	if [ "$test_failed" -gt 0 ]; then
		say "# failed $test_failed of $test_count"
		exit 1
	fi
	exit 0
}
