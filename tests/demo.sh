#!/bin/sh
# make demo: the main job, end to end, against the bundled local test
# provider on loopback.  Nothing here needs a network or a key of yours.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLM_BUILD:-$SRC/build}
BIN=${LLM_BIN:-$SRC/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/llm-demo.XXXXXX")
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

"$BUILD/tests/fake/fakellm" -p "$T/port" -k demo-key -t 300 2>/dev/null &
FAKE_PID=$!
while [ ! -s "$T/port" ]; do sleep 0.01; done
export HOME="$T" LLM_DEFAULT_CONFIG="$SRC/llm.ini" LLM_CONFIG="$T/llm.ini"
export LOCAL_TEST_KEY=demo-key PATH="$BIN:$PATH"
cat >"$LLM_CONFIG" <<EOT
; The demo's own layer, on top of the shipped llm.ini.
[defaults]
model = local/echo
database = $T/llm.db

[provider.local]
type = openai
base_url = http://127.0.0.1:$(cat "$T/port")/v1
api_key = \${LOCAL_TEST_KEY}

[model.echo]
provider = local
name = echo
context_window = 8192
input_cost = 0.15
output_cost = 0.60
EOT

step() {
	printf '\n\033[1m$ %s\033[0m\n' "$*" >&2
}

step 'echo "Hello from a pipeline" | llm-chat -m local/echo'
echo "Hello from a pipeline" | llm-chat -m local/echo

step 'echo "offline" | llm-chat -m mock/echo    # the mock provider: no network at all'
echo "offline" | llm-chat -m mock/echo

step 'llm-chat -m local/utf8+split    # bytes split anywhere on the wire'
llm-chat -m local/utf8+split hi </dev/null

step 'llm-chat -S demo -s "Be brief." "first turn"; llm-chat -c "second turn"'
llm-chat -S demo -s "Be brief." "first turn" </dev/null
llm-chat -c "second turn" </dev/null

step 'llm-chat --json -m echo "price me" | jq'
if command -v jq >/dev/null; then
	llm-chat --json -m echo "price me" </dev/null | jq .
else
	llm-chat --json -m echo "price me" </dev/null
fi

step 'llm-chat --dry-run -m echo "what would be sent"    # key redacted'
llm-chat --dry-run -m echo "what would be sent" </dev/null

step 'llm-chat -m local/fail-429    # a rate limit: exit code 75'
code=0
llm-chat --retries 0 -m local/fail-429 hi </dev/null || code=$?
echo "exit code $code" >&2

step 'llm-providers local mock groq    # what is configured, and its status'
llm-providers local mock groq

step 'llm-providers --check local    # a live probe, as a cron health check would'
llm-providers --check local

step 'llm-providers --models --tag cheap'
llm-providers --models --tag cheap

step 'llm-compare -m local/echo -m local/fixed-Bonjour+delay-300 -m mock/echo "Say hello"    # at once'
llm-compare -m local/echo -m local/fixed-Bonjour+delay-300 -m mock/echo "Say hello" </dev/null

step 'llm-compare --format csv -m local/echo,local/fixed-Hi "Say hi"'
llm-compare --format csv -m local/echo,local/fixed-Hi "Say hi" </dev/null

step 'llm-chain --show-steps -m local/echo -s "Translate." -m local/echo "Bonjour"    # step by step'
llm-chain --show-steps -m local/echo -s "Translate." -m local/echo "Bonjour" </dev/null

step 'llm-chain --check -f share/examples/try-offline.chain && llm-chain -f ... "a pipeline"'
llm-chain --check -f "$SRC/share/examples/try-offline.chain"
llm-chain -f "$SRC/share/examples/try-offline.chain" "a pipeline" </dev/null

step 'llm-log    # what the commands above did'
llm-log

step 'llm-log search hello'
llm-log search hello

step 'llm-log stats --by model'
llm-log stats --by model

step 'llm-log sessions'
llm-log sessions

step 'llm-log show last'
llm-log show last

step 'the same log, as plain SQL: sqlite3 llm.db "select ... from requests"'
sqlite3 -header -column "$T/llm.db" "select id, model, status, input_tokens
	as tin, output_tokens as tout, latency_ms as ms,
	printf('%.6f', cost_usd) as usd, substr(prompt, 1, 24) as prompt
	from requests order by id"
