#!/bin/sh
# llm-chat and llm-providers against Amazon Bedrock's Converse and
# ConverseStream: requests signed with SigV4 (checked by the fake's own
# verifier) or sent with an API key, the binary event stream, usage, and
# every fault.
. "$(dirname "$0")/lib.sh"

AWS_ACCESS_KEY_ID=AKIDFAKE1350EXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYfake1350KEY
AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEfake1350//session+token=
BED_API_KEY=ABSKZmFrZTEzNTBiZWFyZXI=
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN BED_API_KEY
REGION=eu-west-3

fake_start -k "$BED_API_KEY" -a "$AWS_ACCESS_KEY_ID" \
	-S "$AWS_SECRET_ACCESS_KEY" -r $REGION

# fake_extra NAME [fakellm options...]: one more local test provider, for
# the options that would disturb the first; its URL in NAME_URL, its log
# in $TRASH/NAME.log.  All of them end with the script.
EXTRA_PIDS=
fake_extra() {
	name=$1
	shift
	"$BUILD/tests/fake/fakellm" -p "$TRASH/$name.port" \
		-l "$TRASH/$name.log" -t 900 "$@" 2>"$TRASH/$name.err" &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	i=0
	while [ ! -s "$TRASH/$name.port" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			echo "fakellm $name did not start" >&2
			exit 1
		fi
		sleep 0.01
	done
	eval "${name}_URL=http://127.0.0.1:$(cat "$TRASH/$name.port")"
}
cleanup_extra() {
	for pid in $EXTRA_PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	cleanup
}
trap cleanup_extra EXIT

creds="-a $AWS_ACCESS_KEY_ID -S $AWS_SECRET_ACCESS_KEY -r $REGION"
# A session token is required; the clock is 14 minutes ahead: still good.
# shellcheck disable=SC2086
fake_extra TOK $creds -T "$AWS_SESSION_TOKEN" -z 840
# The clock 16 minutes ahead, and 16 minutes behind.
# shellcheck disable=SC2086
fake_extra LATE $creds -z 960
# shellcheck disable=SC2086
fake_extra EARLY $creds -z -960

write_config "
[provider.bed]
type = bedrock
base_url = $FAKE_URL
region = $REGION
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-east]
type = bedrock
base_url = $FAKE_URL
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-tok]
type = bedrock
base_url = $TOK_URL
region = $REGION
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}
session_token = \${AWS_SESSION_TOKEN}

[provider.bed-notok]
type = bedrock
base_url = $TOK_URL
region = $REGION
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-late]
type = bedrock
base_url = $LATE_URL
region = $REGION
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-early]
type = bedrock
base_url = $EARLY_URL
region = $REGION
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-key]
type = bedrock
base_url = $FAKE_URL
region = $REGION
api_key = \${BED_API_KEY}

[provider.bed-nocreds]
type = bedrock
base_url = $FAKE_URL
region = $REGION

[provider.bed-unset]
type = bedrock
base_url = $FAKE_URL
region = $REGION
api_key = \${UNSET_BED_KEY}
access_key_id = \${AWS_ACCESS_KEY_ID}
secret_access_key = \${AWS_SECRET_ACCESS_KEY}

[provider.bed-unset-nocreds]
type = bedrock
base_url = $FAKE_URL
region = $REGION
api_key = \${UNSET_BED_KEY}

[model.claude]
provider = bed
name = anthropic.echo-v1:0
input_cost = 3
output_cost = 15

[model.profile]
provider = bed
name = arn:aws:bedrock:$REGION:123456789012:inference-profile/eu.anthropic.echo-v1:0

[model.sys]
provider = bed
name = sys-model
"

# req FIELD: a field of the last request the fake received
req() {
	tail -n 1 "$FAKE_LOG" | jq -r "$1"
}

# secrets FILE...: none of the secrets is in the files
secrets() {
	for f in "$@"; do
		test_not_grep "$AWS_SECRET_ACCESS_KEY" "$f" &&
		test_not_grep "$AWS_SESSION_TOKEN" "$f" &&
		test_not_grep "$BED_API_KEY" "$f" || return 1
	done
}

test_expect_success 'stdin prompt: exactly the answer on stdout' '
	echo "hello world" | llm-chat -m bed/echo >out 2>err &&
	printf "hello world\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(req .auth.verified)" = true
'

test_expect_success 'the request body: messages, system, inferenceConfig' '
	echo "Say hi" | llm-chat -m bed/echo -s "Be terse." -t 0.2 \
		--max-tokens 64 --top-p 0.9 --stop "###" --stop END >out &&
	last_request >got &&
	cat >expect <<-\EOT &&
	{"messages":[{"role":"user","content":[{"text":"Say hi"}]}],"system":[{"text":"Be terse."}],"inferenceConfig":{"maxTokens":64,"temperature":0.2,"topP":0.9,"stopSequences":["###","END"]}}
	EOT
	test_cmp expect got &&
	echo "Say hi" >expect &&
	test_cmp expect out
'

test_expect_success 'ConverseStream: the path, the headers, a verified signature' '
	echo hi | llm-chat -m bed/echo >/dev/null &&
	test "$(req .method)" = POST &&
	test "$(req .path)" = /model/echo/converse-stream &&
	test "$(req .query)" = "" &&
	test "$(req ".headers[\"content-type\"]")" = application/json &&
	test "$(req .headers.accept)" = application/vnd.amazon.eventstream &&
	test "$(req .headers.host)" = "127.0.0.1:$FAKE_PORT" &&
	amz=$(req ".headers[\"x-amz-date\"]") &&
	echo "$amz" | grep -Eq "^[0-9]{8}T[0-9]{6}Z\$" &&
	day=$(echo "$amz" | cut -c1-8) &&
	req .headers.authorization >got &&
	grep -Eq "^AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/$day/$REGION/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}\$" got &&
	test "$(req ".headers[\"x-amz-security-token\"]")" = null &&
	test "$(req .auth.scheme)" = sigv4 &&
	test "$(req .auth.verified)" = true
'

test_expect_success 'Converse (--no-stream): its path and Accept, verified' '
	echo hi | llm-chat -m bed/echo --no-stream >out &&
	echo hi >expect &&
	test_cmp expect out &&
	test "$(req .path)" = /model/echo/converse &&
	test "$(req .headers.accept)" = application/json &&
	test "$(req .auth.verified)" = true
'

test_expect_success 'the canonical request the fake verified' '
	echo hi | llm-chat -m bed/echo --no-stream >/dev/null &&
	amz=$(req ".headers[\"x-amz-date\"]") &&
	hash=$(printf "%s" "$(last_request)" | sha256sum | cut -d " " -f 1) &&
	req .auth.canonical_request >got &&
	cat >expect <<-EOT &&
	POST
	/model/echo/converse

	content-type:application/json
	host:127.0.0.1:$FAKE_PORT
	x-amz-date:$amz

	content-type;host;x-amz-date
	$hash
	EOT
	test_cmp expect got
'

test_expect_success 'a model id with ":": sent as %3A, signed as %253A' '
	echo "hello there" | llm-chat -m bed/anthropic.echo-v1:0 >out &&
	echo "hello there" >expect &&
	test_cmp expect out &&
	test "$(req .path)" = /model/anthropic.echo-v1%3A0/converse-stream &&
	test "$(req .auth.canonical_request | sed -n 2p)" = /model/anthropic.echo-v1%253A0/converse-stream &&
	test "$(req .auth.verified)" = true &&
	echo "hello there" | llm-chat -m claude --no-stream >out &&
	test_cmp expect out &&
	test "$(req .path)" = /model/anthropic.echo-v1%3A0/converse &&
	test "$(req .auth.verified)" = true &&
	echo "hello there" | llm-chat -m bed/us.anthropic.echo-v1:0+words >out &&
	test_cmp expect out &&
	test "$(req .path)" = /model/us.anthropic.echo-v1%3A0%2Bwords/converse-stream &&
	test "$(req .auth.verified)" = true &&
	echo x | llm-chat -m bed/fakellm.fixed-hi:0 >out &&
	echo hi >expect &&
	test_cmp expect out
'

test_expect_success 'an inference-profile ARN: ":" and "/" escaped, verified' '
	reset_log &&
	echo "via a profile" | llm-chat -m profile >out &&
	echo "via a profile" >expect &&
	test_cmp expect out &&
	test "$(req .path)" = "/model/arn%3Aaws%3Abedrock%3A$REGION%3A123456789012%3Ainference-profile%2Feu.anthropic.echo-v1%3A0/converse-stream" &&
	test "$(req .auth.canonical_request | sed -n 2p)" = "/model/arn%253Aaws%253Abedrock%253A$REGION%253A123456789012%253Ainference-profile%252Feu.anthropic.echo-v1%253A0/converse-stream" &&
	test "$(req .auth.verified)" = true &&
	test "$(sql "select provider_model from requests")" = "arn:aws:bedrock:$REGION:123456789012:inference-profile/eu.anthropic.echo-v1:0"
'

test_expect_success 'the parameters arrive as sent (params)' '
	echo hi | llm-chat -m bed/params -t 0.5 --max-tokens 7 --stop x \
		--top-p 0.25 --no-stream >out &&
	echo "{\"temperature\":0.5,\"topP\":0.25,\"maxTokens\":7,\"stopSequences\":[\"x\"],\"messages\":1}" >expect &&
	test_cmp expect out
'

test_expect_success 'the system prompt is the top-level system blocks' '
	echo hi | llm-chat -m bed/sys -s "You are a test." >out &&
	echo "You are a test." >expect &&
	test_cmp expect out
'

test_expect_success '-o adds fields; a session sends the turns as blocks' '
	echo hi | llm-chat -m bed/echo \
		-o additionalModelRequestFields="{\"top_k\":5}" >/dev/null &&
	last_request | jq -c .additionalModelRequestFields >got &&
	echo "{\"top_k\":5}" >expect &&
	test_cmp expect got &&
	reset_log &&
	echo one | llm-chat -S conv -m bed/echo -s "Be brief." >/dev/null &&
	echo two | llm-chat -S conv >out &&
	last_request | jq -c "[.system, .messages]" >got &&
	echo "[[{\"text\":\"Be brief.\"}],[{\"role\":\"user\",\"content\":[{\"text\":\"one\"}]},{\"role\":\"assistant\",\"content\":[{\"text\":\"one\"}]},{\"role\":\"user\",\"content\":[{\"text\":\"two\"}]}]]" >expect &&
	test_cmp expect got &&
	echo two >expect &&
	test_cmp expect out
'

for m in utf8 utf8+split utf8+ascii utf8+words+split; do
	test_expect_success "multibyte UTF-8 comes out byte-exact ($m)" "
		echo x | llm-chat -m bed/$m >out &&
		printf 'h\303\251llo w\303\266rld \342\200\224 \303\274n\303\257c\303\266d\303\251 \342\234\223 \360\237\230\200 \346\227\245\346\234\254\350\252\236\n' >expect &&
		test_cmp expect out
	"
done

for opt in split words close thinking gap-5 ascii split+thinking+words \
	close+split; do
	test_expect_success "event-stream variant '$opt' gives the same bytes" "
		printf 'The quick brown fox\njumps over \303\274ber the lazy dog.' >prompt &&
		llm-chat -m 'bed/echo+$opt' <prompt >out &&
		{ cat prompt; echo; } >expect &&
		test_cmp expect out
	"
done

test_expect_success 'streamed and --no-stream answers are byte-identical' '
	for m in echo big-5000 fixed- echo+thinking echo+words; do
		printf "a b\n\nc" | llm-chat -m "bed/$m" >s.out &&
		printf "a b\n\nc" | llm-chat -m "bed/$m" --no-stream >n.out &&
		test_cmp s.out n.out || return 1
	done &&
	test "$(wc -c <s.out)" = 7
'

test_expect_success 'usage (ConverseStream: the metadata event), cost, finish' '
	reset_log &&
	echo "hello world" | llm-chat -m claude >out &&
	echo "hello world" | llm-chat -m claude --no-stream >out &&
	sql "select model, provider, provider_model, response, status,
		http_status, input_tokens, output_tokens, tokens_estimated,
		printf(\"%.6f\", cost_usd), finish_reason, finish_reason_raw,
		attempts from requests order by id" >got &&
	cat >expect <<-\EOT &&
	claude|bed|anthropic.echo-v1:0|hello world|ok|200|5|2|0|0.000045|stop|end_turn|1
	claude|bed|anthropic.echo-v1:0|hello world|ok|200|5|2|0|0.000045|stop|end_turn|1
	EOT
	test_cmp expect got
'

test_expect_success 'the system prompt counts in the input tokens (--json)' '
	echo "hello world" | llm-chat -m bed/echo -s "Be brief." --json >out &&
	jq -c "[.response, .usage.input_tokens, .usage.output_tokens,
		.usage.estimated, .finish_reason, .finish_reason_raw]" out >got &&
	echo "[\"hello world\",10,2,false,\"stop\",\"end_turn\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'a reply without usage gets estimated tokens' '
	reset_log &&
	echo "abcdefgh" | llm-chat -m bed/echo+nousage >/dev/null &&
	echo "abcdefgh" | llm-chat -m bed/echo+nousage --no-stream >/dev/null &&
	sql "select input_tokens, output_tokens, tokens_estimated from requests" >got &&
	printf "3|2|1\n3|2|1\n" >expect &&
	test_cmp expect got
'

test_expect_success 'stop reasons are normalized, the raw one kept' '
	reset_log &&
	for r in max_tokens stop_sequence content_filtered \
		guardrail_intervened tool_use model_context_window_exceeded; do
		echo hi | llm-chat -m "bed/echo+finish-$r" >/dev/null &&
		echo hi | llm-chat -m "bed/echo+finish-$r" --no-stream >/dev/null ||
		return 1
	done &&
	sql "select finish_reason, finish_reason_raw from requests order by id" >got &&
	cat >expect <<-\EOT &&
	length|max_tokens
	length|max_tokens
	stop|stop_sequence
	stop|stop_sequence
	content_filter|content_filtered
	content_filter|content_filtered
	content_filter|guardrail_intervened
	content_filter|guardrail_intervened
	tool_calls|tool_use
	tool_calls|tool_use
	length|model_context_window_exceeded
	length|model_context_window_exceeded
	EOT
	test_cmp expect got
'

test_expect_success '--dry-run shows the signed request, signature redacted' '
	lines=$(wc -l <"$FAKE_LOG") &&
	echo "Say hi" | llm-chat -m bed/anthropic.echo-v1:0 --dry-run >out 2>err &&
	test_must_be_empty err &&
	sed "s/^X-Amz-Date: [0-9]\{8\}T[0-9]\{6\}Z\$/X-Amz-Date: DATE/" out >got &&
	cat >expect <<-EOT &&
	POST $FAKE_URL/model/anthropic.echo-v1%3A0/converse-stream
	Content-Type: application/json
	Accept: application/vnd.amazon.eventstream
	Host: 127.0.0.1:$FAKE_PORT
	X-Amz-Date: DATE
	Authorization: ***

	{"messages":[{"role":"user","content":[{"text":"Say hi"}]}]}
	EOT
	test_cmp expect got &&
	test "$(wc -l <"$FAKE_LOG")" -eq "$lines" &&
	secrets out
'

test_expect_success '--dry-run: the session token and the API key redacted' '
	echo hi | llm-chat -m bed-tok/echo --dry-run --no-stream >out 2>err &&
	test_must_be_empty err &&
	test_grep "X-Amz-Security-Token: ***" out &&
	test_grep "Authorization: ***" out &&
	echo hi | llm-chat -m bed-key/echo --dry-run >>out 2>err &&
	test_must_be_empty err &&
	test_grep "Authorization: Bearer ***" out &&
	secrets out
'

test_expect_success 'a session token: sent, signed and accepted' '
	echo "with a token" | llm-chat -m bed-tok/echo >out 2>err &&
	echo "with a token" >expect &&
	test_cmp expect out &&
	log=$TRASH/TOK.log &&
	test "$(tail -n 1 "$log" | jq -r ".headers[\"x-amz-security-token\"]")" = "$AWS_SESSION_TOKEN" &&
	tail -n 1 "$log" | jq -r .auth.signed_headers >got &&
	echo "content-type;host;x-amz-date;x-amz-security-token" >expect &&
	test_cmp expect got &&
	test "$(tail -n 1 "$log" | jq -r .auth.verified)" = true &&
	secrets out err
'

test_expect_success 'a session token required but not sent: 77' '
	echo hi | test_expect_code 77 llm-chat -m bed-notok/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: bed-notok: HTTP 403: UnrecognizedClientException: The security token included in the request is invalid." >expect &&
	test_cmp expect err
'

test_expect_success 'a wrong session token: 77, the token not shown' '
	echo hi | AWS_SESSION_TOKEN=wrong-token test_expect_code 77 \
		llm-chat -vv -m bed-tok/echo >out 2>err &&
	test_grep "The security token included in the request is invalid." err &&
	test_grep "> X-Amz-Security-Token: ***" err &&
	test_not_grep wrong-token err
'

test_expect_success 'a wrong secret: 77, a clear message, no secret shown' '
	reset_log &&
	echo hi | AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYwrong0KEY \
		test_expect_code 77 llm-chat -m bed/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: bed: HTTP 403: InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details." >expect &&
	test_cmp expect err &&
	test "$(req .auth.verified)" = false &&
	test "$(req .auth.error)" = "the signature differs" &&
	test "$(sql "select status, http_status, finish_reason from requests")" = "error|403|error" &&
	test_not_grep fiCYwrong0KEY err &&
	sqlite3 "$DB" .dump >dump &&
	test_not_grep fiCYwrong0KEY dump
'

test_expect_success 'an unknown access key id: 77' '
	echo hi | AWS_ACCESS_KEY_ID=AKIDUNKNOWN test_expect_code 77 \
		llm-chat -m bed/echo >out 2>err &&
	echo "llm-chat: error: bed: HTTP 403: UnrecognizedClientException: The security token included in the request is invalid." >expect &&
	test_cmp expect err
'

test_expect_success 'signed for another region (the default us-east-1): 77' '
	echo hi | test_expect_code 77 llm-chat -m bed-east/echo >out 2>err &&
	echo "llm-chat: error: bed-east: HTTP 403: InvalidSignatureException: Credential should be scoped to a valid region, not '\''us-east-1'\''. " >expect &&
	test_cmp expect err &&
	test "$(req .auth.credential | cut -d / -f 3)" = us-east-1
'

test_expect_success 'a signature 16 minutes old: 77, Signature expired' '
	echo hi | test_expect_code 77 llm-chat -m bed-late/echo >out 2>err &&
	test_must_be_empty out &&
	grep -Eq "^llm-chat: error: bed-late: HTTP 403: InvalidSignatureException: Signature expired: [0-9]{8}T[0-9]{6}Z is now earlier than [0-9]{8}T[0-9]{6}Z \([0-9]{8}T[0-9]{6}Z - 15 min\.\)\$" err
'

test_expect_success 'a signature 16 minutes early: 77, not yet current' '
	echo hi | test_expect_code 77 llm-chat -m bed-early/echo >out 2>err &&
	grep -Eq "^llm-chat: error: bed-early: HTTP 403: InvalidSignatureException: Signature not yet current: [0-9]{8}T[0-9]{6}Z is still later than [0-9]{8}T[0-9]{6}Z \([0-9]{8}T[0-9]{6}Z \+ 15 min\.\)\$" err
'

test_expect_success 'an API key: Bearer, no signature, accepted' '
	echo "by key" | llm-chat -m bed-key/echo >out 2>err &&
	echo "by key" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(req .headers.authorization)" = "Bearer $BED_API_KEY" &&
	test "$(req ".headers[\"x-amz-date\"]")" = null &&
	test "$(req .auth.scheme)" = bearer &&
	test "$(req .auth.verified)" = true &&
	echo "by key" | llm-chat -m bed-key/echo --no-stream >out &&
	test_cmp expect out
'

test_expect_success 'a wrong API key: 77, naming the variable' '
	echo hi | BED_API_KEY=ABSKwrong test_expect_code 77 \
		llm-chat -m bed-key/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: bed-key: HTTP 403: UnrecognizedClientException: The security token included in the request is invalid; check BED_API_KEY" >expect &&
	test_cmp expect err &&
	test_not_grep ABSKwrong err
'

test_expect_success 'no credentials at all: 77 before anything is sent' '
	lines=$(wc -l <"$FAKE_LOG") &&
	echo hi | test_expect_code 77 llm-chat -m bed-nocreds/echo >out 2>err &&
	test_grep "no AWS credentials for provider '\''bed-nocreds'\''" err &&
	test "$(wc -l <"$FAKE_LOG")" -eq "$lines"
'

test_expect_success 'api_key of an unset variable beside SigV4: signed' '
	echo signed | llm-chat -m bed-unset/echo >out 2>err &&
	echo signed >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(req .auth.scheme)" = sigv4 &&
	test "$(req .auth.verified)" = true &&
	test "$(req .headers.authorization | cut -c1-16)" = AWS4-HMAC-SHA256 &&
	test "$(llm-providers --json bed-unset | jq -r ".[0].status")" = ready
'

test_expect_success 'the same variable set: its key wins, as Bearer' '
	echo keyed | UNSET_BED_KEY=$BED_API_KEY llm-chat -m bed-unset/echo >out 2>err &&
	echo keyed >expect &&
	test_cmp expect out &&
	test "$(req .auth.scheme)" = bearer &&
	secrets out err
'

test_expect_success 'api_key of an unset variable, no SigV4: 77, nothing sent' '
	lines=$(wc -l <"$FAKE_LOG") &&
	echo hi | test_expect_code 77 llm-chat -m bed-unset-nocreds/echo >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: no API key for provider '\''bed-unset-nocreds'\'': set UNSET_BED_KEY" >expect &&
	test_cmp expect err &&
	test "$(wc -l <"$FAKE_LOG")" -eq "$lines"
'

# refusal CURL-ARGS...: the fake's answer as "STATUS NAME: MESSAGE"
refusal() {
	curl -s -o body -D headers "$@" &&
	tr -d "\r" <headers >h &&
	name=$(sed -n "s/^x-amzn-ErrorType: \([^:]*\):.*/\1/p" h) &&
	printf "%s %s: %s\n" "$(head -n 1 h | cut -d " " -f 2)" "$name" \
		"$(jq -r .message body)"
}

test_expect_success 'the verifier refuses what the client never sends' '
	url=$FAKE_URL/model/echo/converse &&
	amz=$(date -u +%Y%m%dT%H%M%SZ) &&
	day=$(echo "$amz" | cut -c1-8) &&
	cred=$AWS_ACCESS_KEY_ID/$day/$REGION &&
	sig="SignedHeaders=host;x-amz-date, Signature=0123" &&
	refusal "$url" -d "{}" >got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: $amz" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/bedrock/aws4_request" >>got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: $amz" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/s3/aws4_request, $sig" >>got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: 20200101T000000Z" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/bedrock/aws4_request, $sig" >>got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: $amz" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/bedrock/aws4_request, SignedHeaders=x-amz-date, Signature=0123" >>got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: $amz" -H "x-amz-content-sha256: 0123" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/bedrock/aws4_request, $sig" >>got &&
	refusal "$url" -d "{}" -H "X-Amz-Date: $amz" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$cred/bedrock/aws4_request, SignedHeaders=x-amz-date;host, Signature=0123" >>got &&
	cat >expect <<-EOT &&
	403 MissingAuthenticationTokenException: Missing Authentication Token
	403 IncompleteSignatureException: Authorization header requires '\''Signature'\'' parameter. Authorization header requires '\''SignedHeaders'\'' parameter.
	403 InvalidSignatureException: Credential should be scoped to correct service: '\''bedrock'\''.
	403 InvalidSignatureException: Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\''$day'\'' != '\''20200101'\'', from '\''20200101T000000Z'\''.
	403 InvalidSignatureException: '\''Host'\'' or '\'':authority'\'' must be a '\''SignedHeader'\'' in the AWS Authorization.
	400 XAmzContentSHA256Mismatch: The provided '\''x-amz-content-sha256'\'' header does not match what was computed.
	403 InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.
	EOT
	sed "s/ *\$//" got >trimmed &&
	test_cmp expect trimmed &&
	test "$(req .auth.error)" = "SignedHeaders are not lowercase, sorted and unique"
'

test_expect_success 'the exception named from x-amzn-ErrorType, not the body' '
	refusal "$FAKE_URL/model/echo/converse" -d "{}" >/dev/null &&
	test "$(jq -c "keys" body)" = "[\"message\"]" &&
	echo hi | test_expect_code 75 llm-chat -m bed/fail-429 --json >out 2>err &&
	test "$(jq -r .error out)" = "bed: HTTP 429: ThrottlingException: Too many requests, please wait before trying again." &&
	echo hi | test_expect_code 77 llm-chat -m bed/fail-403 2>err &&
	echo "llm-chat: error: bed: HTTP 403: AccessDeniedException: You don'\''t have access to the model with the specified model ID." >expect &&
	test_cmp expect err
'

test_expect_success 'the secrets never reach stdout, stderr or the log (-vv)' '
	reset_log &&
	echo hi | llm-chat -vv -m bed/echo >out 2>err &&
	echo hi | llm-chat -vv -m bed/echo --no-stream >>out 2>>err &&
	echo hi | llm-chat -vv -m bed-tok/echo --json >>out 2>>err &&
	echo hi | llm-chat -vv -m bed-key/echo >>out 2>>err &&
	echo hi | llm-chat -vv -m bed/fail-403 >>out 2>>err;
	echo hi | llm-chat -vv -m bed/echo+midstream-error >>out 2>>err;
	llm-providers -v --check bed bed-tok bed-key >>out 2>>err &&
	test_grep "> Authorization: ***" err &&
	test_grep "> X-Amz-Security-Token: ***" err &&
	sqlite3 "$DB" .dump >dump &&
	test "$(sql "select count(*) from requests")" = 6 &&
	secrets out err dump
'

test_expect_success '429 once, then an answer when retried' '
	reset_log &&
	echo "second time" | llm-chat -m bed/echo+failfirst-429 --retries 1 >out 2>err &&
	echo "second time" >expect &&
	test_cmp expect out &&
	test "$(sql "select attempts, status, latency_ms >= 1000 from requests")" = "2|ok|1" &&
	test "$(req .auth.verified)" = true
'

test_expect_success '429 rate limited: 75, the message' '
	echo hi | test_expect_code 75 llm-chat -m bed/fail-429 >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: bed: HTTP 429: ThrottlingException: Too many requests, please wait before trying again." >expect &&
	test_cmp expect err
'

test_expect_success '500 and 503: 69' '
	echo hi | test_expect_code 69 llm-chat -m bed/fail-500 2>err &&
	echo "llm-chat: error: bed: HTTP 500: InternalServerException: The system encountered an unexpected error during processing. Try your request again." >expect &&
	test_cmp expect err &&
	echo hi | test_expect_code 69 llm-chat -m bed/fail-503 --no-stream 2>err &&
	echo "llm-chat: error: bed: HTTP 503: ServiceUnavailableException: Bedrock is unable to process your request." >expect &&
	test_cmp expect err
'

test_expect_success '403 access denied to the model: 77' '
	echo hi | test_expect_code 77 llm-chat -m bed/fail-403 2>err &&
	test_grep "HTTP 403: AccessDeniedException: You don'\''t have access to the model with the specified model ID." err
'

test_expect_success 'an unknown model id: 78, as Bedrock says it' '
	reset_log &&
	echo hi | test_expect_code 78 llm-chat -m bed/anthropic.nonesuch-v1:0 >out 2>err &&
	test_must_be_empty out &&
	echo "llm-chat: error: bed: HTTP 400: ValidationException: The provided model identifier is invalid." >expect &&
	test_cmp expect err &&
	test "$(sql "select status, http_status from requests")" = "error|400" &&
	echo hi | test_expect_code 78 llm-chat -m bed/fail-404 2>err &&
	test_grep "HTTP 404: ResourceNotFoundException: Could not resolve the foundation model from the provided model identifier; check the model id '\''fail-404'\''" err
'

test_expect_success 'a request Bedrock refuses (temperature above 1): 65' '
	echo hi | test_expect_code 65 llm-chat -m bed/echo -t 1.5 2>err &&
	echo "llm-chat: error: bed: HTTP 400: ValidationException: 1 validation error detected: Value '\''1.5'\'' at '\''inferenceConfig.temperature'\'' failed to satisfy constraint: Member must have value less than or equal to 1" >expect &&
	test_cmp expect err
'

test_expect_success 'an exception frame mid-stream: 75, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 75 llm-chat -m bed/echo+midstream-error+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: bed: error in the stream: throttlingException: Too many tokens, please wait before trying again." >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response, finish_reason, http_status from requests")" = "error|one |error|200"
'

test_expect_success 'a stream without messageStop: 65' '
	reset_log &&
	echo "one two" |
		test_expect_code 65 llm-chat -m bed/echo+nostop+words >out 2>err &&
	echo "one two" >expect &&
	test_cmp expect out &&
	echo "llm-chat: error: bed: the stream ended without messageStop" >expect &&
	test_cmp expect err &&
	test "$(sql "select status, response from requests")" = "error|one two"
'

test_expect_success 'a flipped CRC bit: 65, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 65 llm-chat -m bed/echo+badcrc+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "llm-chat: error: bed: event-stream message CRC mismatch" err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'a flipped CRC bit, bytes split: the same' '
	echo "one two three" |
		test_expect_code 65 llm-chat -m bed/echo+badcrc+words+split >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "CRC mismatch" err
'

test_expect_success 'a stream cut mid-frame: 65, the partial answer kept' '
	reset_log &&
	echo "one two three four five six" |
		test_expect_code 65 llm-chat -m bed/echo+cut+words >out 2>err &&
	printf "one two three \n" >expect &&
	test_cmp expect out &&
	test "$(sql "select status, response from requests")" = "error|one two three "
'

test_expect_success 'a close-delimited stream cut mid-frame: 65' '
	echo "one two" |
		test_expect_code 65 llm-chat -m bed/echo+cut+close+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	grep -Eq "^llm-chat: error: bed: the stream ended inside an event-stream message \([0-9]+ bytes left\)\$" err
'

test_expect_success 'a frame whose JSON is malformed: 65, what arrived kept' '
	reset_log &&
	echo "one two three" |
		test_expect_code 65 llm-chat -m bed/echo+malformed+words >out 2>err &&
	echo "one " >expect &&
	test_cmp expect out &&
	test_grep "malformed event in the stream" err &&
	test "$(sql "select status, response from requests")" = "error|one "
'

test_expect_success 'malformed and cut whole replies: 65' '
	echo hi | test_expect_code 65 llm-chat -m bed/echo+malformed --no-stream 2>err &&
	test_grep "malformed reply" err &&
	echo hi | test_expect_code 65 llm-chat -m bed/echo+cut --no-stream 2>err
'

test_expect_success 'llm-providers --check: the signed listing' '
	llm-providers --check bed bed-key bed-tok >out 2>err &&
	test_must_be_empty err &&
	test "$(grep -c " ok " out)" = 3 &&
	test "$(req .method)" = GET &&
	test "$(req .path)" = /foundation-models &&
	test "$(req .auth.verified)" = true
'

test_expect_success 'llm-providers --check with a wrong secret: 77' '
	AWS_SECRET_ACCESS_KEY=wrong test_expect_code 77 \
		llm-providers --check bed >out 2>err &&
	test_grep "key refused" out &&
	test "$(req .auth.verified)" = false
'

test_expect_success 'llm-providers --discover: the served models' '
	llm-providers --discover bed >out &&
	test_grep bed/echo-model out &&
	test_grep bed/fakellm.echo-v1:0 out &&
	test_not_grep bed/sys-model out &&
	test "$(wc -l <out)" = 7 &&
	llm-providers --discover --json bed | jq -r ".[0].served | length" >got &&
	echo 8 >expect &&
	test_cmp expect got &&
	echo hi | llm-chat -m bed/fakellm.echo-v1:0 >out &&
	echo hi >expect &&
	test_cmp expect out
'

test_done
