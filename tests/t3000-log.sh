#!/bin/sh
# llm-log: list, show, search, sessions, stats, export, prune, path,
# backup and reprice, on rows that llm-chat wrote and rows seeded with
# sqlite3 (fixed times, and a row of another program with NULLs).
. "$(dirname "$0")/lib.sh"

FAKE_KEY=sk-log-secret-4242
export FAKE_KEY
fake_start -k "$FAKE_KEY"
write_config

# The seed: two sessions, a compare run (group g-1), an imported row.
cat >"$TRASH/seed.sql" <<'EOT'
DELETE FROM messages; DELETE FROM requests; DELETE FROM sessions;
INSERT INTO sessions (id, name, model, system, created_at, updated_at) VALUES
 (1, 'trip', 'm1', 'Be brief.', '2026-11-20T10:00:00.000Z', '2026-11-21T09:00:00.000Z'),
 (2, 'work', 'm2', NULL, '2026-11-19T08:00:00.000Z', '2026-11-19T08:30:00.000Z');
INSERT INTO requests (id, created_at, tool, model, provider, provider_model,
 session_id, group_id, step, system, prompt, response, status, error,
 http_status, input_tokens, output_tokens, cached_tokens, tokens_estimated,
 latency_ms, ttft_ms, cost_usd, finish_reason, finish_reason_raw,
 temperature, max_tokens, attempts, response_id) VALUES
 (1, '2026-11-19T08:30:00.000Z', 'llm-chat', 'm2', 'fake', 'echo', 2, NULL,
  NULL, NULL, 'How do pipes work?', 'With a buffer.', 'ok', NULL, 200, 10,
  20, 0, 0, 800, 100, 0.000055, 'stop', 'stop', NULL, NULL, 1, 'r-1'),
 (2, '2026-11-20T10:00:00.000Z', 'llm-chat', 'm1', 'fake', 'echo', 1, NULL,
  NULL, 'Be brief.', 'Plan three days in Lisbon', 'Day one: Alfama.', 'ok',
  NULL, 200, 30, 40, NULL, 1, 1500, 300, 0.000125, 'stop', 'end_turn', 0.7,
  100, 1, NULL),
 (4, '2026-11-22T12:00:00.000Z', 'llm-compare', 'm1', 'fake', 'echo', NULL,
  'g-1', NULL, NULL, 'Compare: what is SIGPIPE?', 'A signal.', 'ok', NULL,
  200, 100, 50, NULL, 0, 2000, 500, 0.0002, 'stop', 'stop', NULL, NULL, 2,
  'r-4'),
 (5, '2026-11-22T12:00:00.000Z', 'llm-compare', 'm3', 'other', 'x', NULL,
  'g-1', NULL, NULL, 'Compare: what is SIGPIPE?', '', 'error',
  'other: HTTP 500: boom', 500, NULL, NULL, NULL, 0, 300, NULL, NULL,
  'error', NULL, NULL, NULL, 1, NULL),
 (6, '2026-11-23T08:00:00.000Z', 'llm-chat', 'm2', 'fake', 'echo', NULL,
  NULL, NULL, NULL,
  'Tell me about "quotes", commas, and' || char(10) || 'newlines',
  'Sure:' || char(13, 10) || '"ok"', 'interrupted', NULL, 200, 5, 3, NULL,
  1, 4000, 1000, NULL, NULL, NULL, NULL, NULL, 1, NULL);
INSERT INTO requests (id, created_at, model, prompt)
 VALUES (3, '2026-11-21 09:00:00', 'm1', 'imported pipes note');
INSERT INTO messages (session_id, role, content, request_id, created_at) VALUES
 (2, 'user', 'How do pipes work?', 1, '2026-11-19T08:30:00.000Z'),
 (2, 'assistant', 'With a buffer.', 1, '2026-11-19T08:30:00.000Z'),
 (1, 'user', 'Plan three days in Lisbon', 2, '2026-11-20T10:00:00.000Z'),
 (1, 'assistant', 'Day one: Alfama.', 2, '2026-11-20T10:00:00.000Z');
EOT

# seed: a log with exactly the rows above (the schema made by llm-chat)
seed() {
	reset_log &&
	llm-chat -m fake/echo "schema" >/dev/null &&
	sqlite3 -batch "$DB" <"$TRASH/seed.sql"
}

cat >"$TRASH/list.expect" <<'EOT'
ID  TIME              MODEL  STATUS       TOKENS  LATENCY       COST  PROMPT
 6  2026-11-23 08:00  m2     interrupted    ~5/3     4.0s          -  Tell me about "quotes", commas, and newlines
 5  2026-11-22 12:00  m3     error             -    300ms          -  Compare: what is SIGPIPE?
 4  2026-11-22 12:00  m1     ok           100/50     2.0s  $0.000200  Compare: what is SIGPIPE?
 3  2026-11-21 09:00  m1     -                 -        -          -  imported pipes note
 2  2026-11-20 10:00  m1     ok           ~30/40     1.5s  $0.000125  Plan three days in Lisbon
 1  2026-11-19 08:30  m2     ok            10/20    800ms  $0.000055  How do pipes work?
EOT

# ---- the program ----

test_expect_success '--help, --version' '
	llm-log --help >out 2>err &&
	test_grep "usage: llm-log" out &&
	test_grep "reprice" out &&
	test_must_be_empty err &&
	llm-log -h >out &&
	test_grep "usage: llm-log" out &&
	llm-log --version >out &&
	echo "llm-log 0.1.0" >expect &&
	test_cmp expect out
'

test_expect_success 'a bad option: 64' '
	test_expect_code 64 llm-log --frobnicate >out 2>err &&
	test_must_be_empty out &&
	test_grep "llm-log: error: unknown option '\''--frobnicate'\''" err &&
	test_grep "Try '\''llm-log --help'\''" err &&
	test_expect_code 64 llm-log list --since 2>err &&
	test_grep "needs an argument" err
'

test_expect_success 'no log yet: list prints nothing and warns, -q does not' '
	reset_log &&
	llm-log >out 2>err &&
	test_must_be_empty out &&
	echo "llm-log: warning: no log yet at '\''$DB'\''" >expect &&
	test_cmp expect err &&
	llm-log -q list >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	llm-log -q stats >out &&
	llm-log -q export >out &&
	test_must_be_empty out &&
	test ! -e "$DB"
'

test_expect_success 'no log yet: show and sessions show are 65' '
	test_expect_code 65 llm-log show 1 >out 2>err &&
	echo "llm-log: error: no log yet at '\''$DB'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 65 llm-log sessions show x 2>err &&
	test_expect_code 65 llm-log backup copy.db 2>err &&
	test ! -e "$DB" && test ! -e copy.db
'

test_expect_success 'path: the database of llm.ini' '
	llm-log path >out &&
	echo "$DB" >expect &&
	test_cmp expect out &&
	sed "s|^database = .*|database = ~/elsewhere/x.db|" "$LLM_CONFIG" >other.ini &&
	llm-log --config other.ini path >out &&
	echo "$HOME/elsewhere/x.db" >expect &&
	test_cmp expect out
'

test_expect_success 'path: the default under XDG_DATA_HOME' '
	grep -v "^database" "$LLM_CONFIG" >nodb.ini &&
	llm-log --config nodb.ini path >out &&
	echo "$XDG_DATA_HOME/llm/llm.db" >expect &&
	test_cmp expect out &&
	XDG_DATA_HOME= llm-log --config nodb.ini path >out &&
	echo "$HOME/.local/share/llm/llm.db" >expect &&
	test_cmp expect out
'

test_expect_success 'a bad llm.ini: 78' '
	printf "[defaults]\nbogus = 1\n" >bad.ini &&
	test_expect_code 78 llm-log --config bad.ini path 2>err &&
	test_grep "bogus" err
'

# ---- rows that llm-chat wrote ----

test_expect_success 'the requests of llm-chat are listed, newest first' '
	reset_log &&
	llm-chat -m echo "hello pipes and filters" >/dev/null &&
	llm-chat -S trip -m fake/echo "Plan three days in Lisbon" >/dev/null &&
	test_expect_code 69 llm-chat -m fake/fail-500 "this one fails" 2>/dev/null >/dev/null;
	llm-log >out 2>err &&
	test_must_be_empty err &&
	test "$(wc -l <out)" -eq 4 &&
	sed -n 1p out | grep -q "^ID  TIME  *MODEL  *STATUS  *TOKENS  LATENCY  *COST  PROMPT$" &&
	sed -n 2p out | grep -q "^ 3  20[0-9-]* [0-9:]*  fake/fail-500  error  .*  this one fails$" &&
	sed -n 3p out | grep -q "^ 2  .*  fake/echo  *ok  .*\\\$0\\.0.*  Plan three days in Lisbon$" &&
	sed -n 4p out | grep -q "^ 1  .*  echo  *ok  .*  hello pipes and filters$"
'

test_expect_success 'list --json: JSON lines that jq reads' '
	llm-log list --json >out &&
	test "$(wc -l <out)" -eq 3 &&
	jq -r "[.id, .model, .status, .session // \"-\"] | @tsv" out >got &&
	printf "3\tfake/fail-500\terror\t-\n2\tfake/echo\tok\ttrip\n1\techo\tok\t-\n" >expect &&
	test_cmp expect got &&
	jq -e "select(.id == 1) | .cost_usd > 0 and .input_tokens > 0 and .response == \"hello pipes and filters\"" out >/dev/null
'

test_expect_success 'show last: the whole request, with its answer and error' '
	test_expect_code 0 llm-log show last >out &&
	test_grep "id                3" out &&
	test_grep "status            error" out &&
	test_grep "error             fake: HTTP 500" out &&
	test_grep "attempts          1" out &&
	test_grep "--- prompt" out &&
	llm-log show 2 >out &&
	test_grep "session           trip" out &&
	sed -n "/^--- response$/,\$p" out >got &&
	printf -- "--- response\nPlan three days in Lisbon\n" >expect &&
	test_cmp expect got
'

test_expect_success 'search, sessions and stats see them' '
	llm-log search lisbon >out &&
	test "$(wc -l <out)" -eq 2 &&
	test_grep "Plan three days in Lisbon" out &&
	llm-log sessions >out &&
	sed -n 2p out | grep -q "^trip  fake/echo      1  20" &&
	llm-log stats --json | jq -e ".total.requests == 3 and .total.errors == 1" >/dev/null
'

test_expect_success 'the key is nowhere in the log or what llm-log prints' '
	llm-log export >a && llm-log export --format jsonl >b &&
	llm-log show 1 >c && llm-log list --json >d &&
	! grep -q "$FAKE_KEY" a b c d "$DB" &&
	! grep -q "$FAKE_KEY" "$DB-wal" 2>/dev/null
'

# ---- seeded rows: exact output ----

test_expect_success 'list: every row, the imported one too, newest first' '
	seed &&
	llm-log list >out 2>err &&
	test_must_be_empty err &&
	test_cmp "$TRASH/list.expect" out &&
	llm-log -n 0 >out &&
	test_cmp "$TRASH/list.expect" out
'

test_expect_success 'list -n 2' '
	llm-log -n 2 >out &&
	cat >expect <<-\EOT &&
	ID  TIME              MODEL  STATUS       TOKENS  LATENCY  COST  PROMPT
	 6  2026-11-23 08:00  m2     interrupted    ~5/3     4.0s     -  Tell me about "quotes", commas, and newlines
	 5  2026-11-22 12:00  m3     error             -    300ms     -  Compare: what is SIGPIPE?
	EOT
	test_cmp expect out
'

ids() {
	llm-log list --json "$@" | jq -r .id | tr "\n" " "
}

test_expect_success 'list --model, --provider, --status, --session, --group' '
	test "$(ids --model m1)" = "4 3 2 " &&
	test "$(ids --provider other)" = "5 " &&
	test "$(ids --status ok)" = "4 2 1 " &&
	test "$(ids --status interrupted)" = "6 " &&
	test "$(ids --session trip)" = "2 " &&
	test "$(ids --session nobody)" = "" &&
	test "$(ids --group g-1)" = "5 4 " &&
	test "$(ids --model m1 --status ok -n 1)" = "4 "
'

test_expect_success 'list --since and --until: dates, times, both forms of stored time' '
	test "$(ids --since 2026-11-21)" = "6 5 4 3 " &&
	test "$(ids --since 2026-11-21T09:00:00Z)" = "6 5 4 3 " &&
	test "$(ids --since "2026-11-21 09:00:01")" = "6 5 4 " &&
	test "$(ids --until 2026-11-21T09:00)" = "2 1 " &&
	test "$(ids --until 2026-11-21T09:00:00.001Z)" = "3 2 1 " &&
	test "$(ids --since 2026-11-21T10:00+01:00 --until 2026-11-22)" = "3 " &&
	test "$(ids --since 2026-11-24)" = ""
'

test_expect_success 'list --since 24h, 7d, 30m: relative to now' '
	sqlite3 "$DB" "INSERT INTO requests (id, created_at, model, prompt) VALUES
		(10, strftime('\''%Y-%m-%dT%H:%M:%fZ'\'', '\''now'\'', '\''-10 minutes'\''), '\''r'\'', '\''recent'\''),
		(11, strftime('\''%Y-%m-%dT%H:%M:%fZ'\'', '\''now'\'', '\''-3 hours'\''), '\''r'\'', '\''hours'\''),
		(12, datetime('\''now'\'', '\''-3 days'\''), '\''r'\'', '\''days'\'')" &&
	test "$(ids --model r --since 30m)" = "10 " &&
	test "$(ids --model r --since 24h)" = "10 11 " &&
	test "$(ids --model r --since 7d)" = "10 11 12 " &&
	test "$(ids --model r --since 1w --until 1d)" = "12 " &&
	test "$(ids --model r --since 3600s)" = "10 " &&
	sqlite3 "$DB" "DELETE FROM requests WHERE model = '\''r'\''"
'

test_expect_success 'bad times and values: 64 with a message' '
	test_expect_code 64 llm-log --since yesterday 2>err &&
	test_grep "llm-log: error: invalid time '\''yesterday'\'': give 30m, 24h, 7d" err &&
	test_expect_code 64 llm-log --until 2026-02-30 2>err &&
	test_expect_code 64 llm-log --since 7y 2>err &&
	test_expect_code 64 llm-log --status fine 2>err &&
	test_grep "invalid status '\''fine'\'': give ok, error or interrupted" err &&
	test_expect_code 64 llm-log -n abc 2>err &&
	test_grep "count is invalid: '\''abc'\''" err &&
	test_expect_code 64 llm-log -n -1 2>err &&
	test_expect_code 64 llm-log stats --by week 2>err &&
	test_expect_code 64 llm-log export --format xml 2>err &&
	test_expect_code 64 llm-log list --keep 3 2>err &&
	test_grep "option '\''--keep'\'' does not apply to '\''list'\''" err &&
	test_expect_code 64 llm-log stats -n 3 2>err &&
	test_expect_code 64 llm-log frob 2>err &&
	test_grep "unknown command '\''frob'\'': give list, show, search" err &&
	test_expect_code 64 llm-log list extra 2>err &&
	test_expect_code 64 llm-log path extra 2>err
'

test_expect_success 'show ID: every column set, then the texts' '
	llm-log show 2 >out &&
	cat >expect <<-\EOT &&
	id                2
	created_at        2026-11-20T10:00:00.000Z
	tool              llm-chat
	model             m1
	provider          fake
	provider_model    echo
	session_id        1
	session           trip
	status            ok
	http_status       200
	input_tokens      30
	output_tokens     40
	tokens_estimated  1
	latency_ms        1500
	ttft_ms           300
	cost_usd          0.000125
	finish_reason     stop
	finish_reason_raw end_turn
	temperature       0.7
	max_tokens        100
	attempts          1
	cached            0
	--- system
	Be brief.
	--- prompt
	Plan three days in Lisbon
	--- response
	Day one: Alfama.
	EOT
	test_cmp expect out
'

test_expect_success 'show of a compare run: the whole group, in order' '
	llm-log show 5 >out &&
	grep "^id  " out >got &&
	printf "id                4\nid                5\n" >expect &&
	test_cmp expect got &&
	test_grep "error             other: HTTP 500: boom" out &&
	llm-log show 4 --json >out &&
	jq -r .id out >got &&
	printf "4\n5\n" >expect &&
	test_cmp expect got
'

test_expect_success 'show last, and the texts byte for byte' '
	llm-log show last >out &&
	sed -n "/^--- prompt$/,\$p" out >got &&
	printf -- "--- prompt\nTell me about \"quotes\", commas, and\nnewlines\n--- response\nSure:\r\n\"ok\"\n" >expect &&
	test_cmp expect got
'

test_expect_success 'show of a missing or bad id: 65 and 64' '
	test_expect_code 65 llm-log show 99 2>err &&
	echo "llm-log: error: no request 99 in the log; see '\''llm-log list'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 64 llm-log show abc 2>err &&
	test_grep "invalid request id '\''abc'\''" err &&
	test_expect_code 64 llm-log show 2>err &&
	test_grep "wrong number of arguments: llm-log show ID|last" err
'

test_expect_success 'search: ranked matches of prompts and answers' '
	llm-log search lisbon >out &&
	cat >expect <<-\EOT &&
	ID  TIME              MODEL  STATUS  TOKENS  LATENCY       COST  MATCH
	 2  2026-11-20 10:00  m1     ok      ~30/40     1.5s  $0.000125  Plan three days in Lisbon
	EOT
	test_cmp expect out &&
	test "$(llm-log search --json alfama | jq -r .id)" = 2 &&
	test "$(llm-log search --json pipes | jq -r .id | sort | tr "\n" " ")" = "1 3 " &&
	test "$(llm-log search --json pipes --model m1 | jq -r .id)" = 3 &&
	test "$(llm-log search --json what sigpipe -n 1 | jq -r .id | wc -l)" = 1
'

test_expect_success 'search: phrases, prefixes, and FTS5 syntax taken literally' '
	test "$(llm-log search --json "\"three days\"" | jq -r .id)" = 2 &&
	llm-log search "\"days three\"" >out &&
	test_must_be_empty out &&
	test "$(llm-log search --json "lis*" | jq -r .id)" = 2 &&
	for q in "-" "a:b" "(x" "x)" "AND" "OR" "NOT" "NEAR(" "*" "^" \
		"don'\''t" "\"quotes\", commas" "col:lisbon" "-lisbon" "lisbon OR"; do
		llm-log search -- "$q" >out 2>err || { echo "failed on $q"; cat err; exit 1; }
		test_must_be_empty err || exit 1
	done &&
	test "$(llm-log search --json "\"quotes\", commas, and" | jq -r .id)" = 6 &&
	test "$(llm-log search --json -- -lisbon | jq -r .id)" = 2 &&
	test_expect_code 64 llm-log search "  " 2>err &&
	test_grep "nothing to search for" err &&
	test_expect_code 64 llm-log search "\"" 2>err &&
	test_expect_code 64 llm-log search 2>err
'

test_expect_success 'sessions: name, model, turns, last used' '
	llm-log sessions >out &&
	cat >expect <<-\EOT &&
	NAME  MODEL  TURNS  LAST_USED
	trip  m1         1  2026-11-21 09:00
	work  m2         1  2026-11-19 08:30
	EOT
	test_cmp expect out &&
	llm-log sessions list >out &&
	test_cmp expect out &&
	llm-log sessions --json | jq -r "[.name, .turns, .system] | @tsv" >got &&
	printf "trip\t1\tBe brief.\nwork\t1\t\n" >expect &&
	test_cmp expect got
'

test_expect_success 'sessions show: the transcript' '
	llm-log sessions show trip >out &&
	cat >expect <<-\EOT &&
	session  trip
	model    m1
	turns    1
	started  2026-11-20 10:00
	used     2026-11-21 09:00

	## system
	Be brief.

	## user
	Plan three days in Lisbon

	## assistant
	Day one: Alfama.
	EOT
	test_cmp expect out &&
	llm-log sessions show work --json | jq -e ".messages | length == 2 and .[1].content == \"With a buffer.\"" >/dev/null
'

test_expect_success 'sessions rename and rm' '
	test_expect_code 65 llm-log sessions rename trip work 2>err &&
	echo "llm-log: error: session '\''work'\'' already exists; remove it or choose another name" >expect &&
	test_cmp expect err &&
	test_expect_code 65 llm-log sessions rename nope x 2>err &&
	echo "llm-log: error: no session '\''nope'\''; see '\''llm-log sessions'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 64 llm-log sessions rename trip 2>err &&
	test_expect_code 64 llm-log sessions frob 2>err &&
	llm-log sessions rename trip lisbon >out 2>err &&
	test_must_be_empty out && test_must_be_empty err &&
	test "$(sql "select name from sessions where id = 1")" = lisbon &&
	test "$(ids --session lisbon)" = "2 " &&
	llm-log sessions rm work &&
	test "$(sql "select count(*) from sessions")" = 1 &&
	test "$(sql "select count(*) from messages")" = 2 &&
	test "$(sql "select count(*) from requests where id = 1 and session_id is null")" = 1 &&
	test_expect_code 65 llm-log sessions rm work 2>err &&
	test_expect_code 65 llm-log sessions show work 2>err
'

test_expect_success 'llm-chat -c still finds the renamed session' '
	llm-chat -c -m fake/echo "and day two?" >/dev/null &&
	test "$(sql "select count(*) from messages where session_id = 1")" = 4
'

test_expect_success 'stats: per model, piped: plain columns' '
	seed &&
	llm-log stats >out &&
	cat >expect <<-\EOT &&
	MODEL  REQUESTS  ERRORS    P50    P95  TTFT_P50  TTFT_P95   IN  OUT       COST
	m1            3       0   1.5s   2.0s     300ms     500ms  130   90  $0.000325
	m2            2       0  800ms   4.0s     100ms      1.0s   15   23  $0.000055
	m3            1       1  300ms  300ms         -         -    0    0          -
	total         6       1   1.5s   4.0s     300ms      1.0s  145  113  $0.000380
	EOT
	test_cmp expect out
'

test_expect_success 'stats --by provider and --by day, with filters' '
	llm-log stats --by provider >out &&
	cat >expect <<-\EOT &&
	PROVIDER  REQUESTS  ERRORS    P50    P95  TTFT_P50  TTFT_P95   IN  OUT       COST
	fake             4       0   1.5s   4.0s     300ms      1.0s  145  113  $0.000380
	other            1       1  300ms  300ms         -         -    0    0          -
	-                1       0      -      -         -         -    0    0          -
	total            6       1   1.5s   4.0s     300ms      1.0s  145  113  $0.000380
	EOT
	test_cmp expect out &&
	llm-log stats --by day --since 2026-11-21 --until 2026-11-23 >out &&
	cat >expect <<-\EOT &&
	DAY         REQUESTS  ERRORS    P50   P95  TTFT_P50  TTFT_P95   IN  OUT       COST
	2026-11-21         1       0      -     -         -         -    0    0          -
	2026-11-22         2       1  300ms  2.0s     500ms     500ms  100   50  $0.000200
	total              3       1  300ms  2.0s     500ms     500ms  100   50  $0.000200
	EOT
	test_cmp expect out
'

test_expect_success 'stats --json' '
	llm-log stats --json >out &&
	jq -e ".by == \"model\" and (.groups | length) == 3 and .total.requests == 6 and .total.latency_p95_ms == 4000 and .groups[0].model == \"m1\" and .groups[2].cost_usd == null" out >/dev/null &&
	llm-log stats --json --by day | jq -r ".groups[].day" >got &&
	printf "2026-11-19\n2026-11-20\n2026-11-21\n2026-11-22\n2026-11-23\n" >expect &&
	test_cmp expect got
'

test_expect_success 'stats on a terminal: a bar chart of requests (or cost) per day' '
	TERM=xterm script -qec "llm-log stats; llm-log stats --cost --by day" /dev/null >tty </dev/null &&
	tr -d "\r" <tty >got &&
	test_grep "requests per day, 2026-11-19 to 2026-11-23, max 2" got &&
	test_grep "▄▄▄█▄" got &&
	test_grep "cost per day, 2026-11-19 to 2026-11-23, max \$0.000200" got &&
	test_grep "▃▅ █ " got &&
	llm-log stats >piped &&
	test_not_grep "per day" piped
'

test_expect_success 'export: CSV by RFC 4180, CRLF, every column, a header' '
	llm-log export >out.csv &&
	head -n 1 out.csv >got &&
	printf "id,created_at,tool,model,provider,provider_model,session_id,group_id,step,system,prompt,response,status,error,http_status,input_tokens,output_tokens,cached_tokens,tokens_estimated,latency_ms,ttft_ms,cost_usd,finish_reason,finish_reason_raw,temperature,max_tokens,attempts,response_id,cached,route\r\n" >expect &&
	test_cmp expect got &&
	sed -n "/^6,/,\$p" out.csv >got &&
	printf "6,2026-11-23T08:00:00.000Z,llm-chat,m2,fake,echo,,,,,\"Tell me about \"\"quotes\"\", commas, and\nnewlines\",\"Sure:\r\n\"\"ok\"\"\",interrupted,,200,5,3,,1,4000,1000,,,,,,1,,0,\r\n" >expect &&
	test_cmp expect got
'

test_expect_success 'export: the CSV reads back into sqlite3 unchanged' '
	rm -f rt.db &&
	sqlite3 rt.db ".mode csv" ".import out.csv imp" &&
	test "$(sqlite3 rt.db "select count(*) from imp")" = 6 &&
	cols=$(sqlite3 "$DB" "select group_concat(name, '\'' '\'') from pragma_table_info('\''requests'\'')") &&
	cond= &&
	for c in $cols; do
		cond="$cond AND (CASE WHEN r.$c IS NULL THEN i.$c = '\'''\'' WHEN typeof(r.$c) = '\''real'\'' THEN r.$c = CAST(i.$c AS REAL) ELSE CAST(r.$c AS TEXT) = i.$c END)"
	done &&
	test "$(sqlite3 rt.db "attach '\''$DB'\'' as l; select count(*) from imp i join l.requests r on r.id = CAST(i.id AS INTEGER) where 1 $cond")" = 6
'

test_expect_success 'export --format jsonl: one object per request, jq reads it' '
	llm-log export --format jsonl >out.jsonl &&
	test "$(wc -l <out.jsonl)" = 6 &&
	jq -e -s "length == 6 and (.[5].prompt | contains(\"\\n\")) and .[5].response == \"Sure:\\r\\n\\\"ok\\\"\" and .[2].created_at == \"2026-11-21 09:00:00\" and .[2].provider == null and .[0].cost_usd == 0.000055" out.jsonl >/dev/null &&
	llm-log export --format jsonl --status ok --since 2026-11-20 | jq -r .id >got &&
	printf "2\n4\n" >expect &&
	test_cmp expect got
'

test_expect_success 'export to a reader that goes away: quiet, 0' '
	sqlite3 "$DB" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000)
		INSERT INTO requests (created_at, model, prompt) SELECT '\''2026-01-01 00:00:00'\'', '\''bulk'\'', '\''bulk row '\'' || x FROM n" &&
	{ llm-log export --format jsonl 2>err; echo $? >code; } | head -n 1 >/dev/null &&
	test "$(cat code)" = 0 &&
	test_must_be_empty err
'

test_expect_success 'a full disk on stdout: 74' '
	if test -w /dev/full; then
		test_expect_code 74 llm-log export >/dev/full 2>err &&
		test_grep "cannot write standard output" err
	fi
'

test_expect_success 'prune --dry-run reports and removes nothing' '
	seed &&
	llm-log prune --keep 4 --dry-run >out &&
	echo "would remove 2 requests, 82 bytes of text" >expect &&
	test_cmp expect out &&
	test "$(sql "select count(*) from requests")" = 6
'

test_expect_success 'prune --older-than: old requests go, sessions and messages stay' '
	llm-log search lisbon >/dev/null &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''lisbon'\''")" -gt 0 &&
	llm-log prune --older-than 2026-11-21 >out &&
	echo "removed 2 requests, 82 bytes of text" >expect &&
	test_cmp expect out &&
	test "$(sql "select group_concat(id) from (select id from requests order by id)")" = "3,4,5,6" &&
	test "$(sql "select count(*) || '\'' '\'' || count(request_id) from messages")" = "4 0" &&
	test "$(sql "select count(*) from sessions")" = 2 &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''lisbon'\''")" = 0 &&
	test "$(sql "pragma integrity_check")" = ok
'

test_expect_success 'prune --keep N keeps the newest N' '
	llm-log prune --keep 1 >out &&
	echo "removed 3 requests, 99 bytes of text" >expect &&
	test_cmp expect out &&
	test "$(sql "select group_concat(id) from requests")" = 6 &&
	llm-log prune --keep 1 >out &&
	echo "removed 0 requests, 0 bytes of text" >expect &&
	test_cmp expect out
'

test_expect_success 'prune --older-than 30d, relative to now' '
	sqlite3 "$DB" "INSERT INTO requests (id, created_at, model, prompt) VALUES
		(20, strftime('\''%Y-%m-%dT%H:%M:%fZ'\'', '\''now'\'', '\''-29 days'\''), '\''r'\'', '\''young'\''),
		(21, datetime('\''now'\'', '\''-31 days'\''), '\''r'\'', '\''old'\'')" &&
	llm-log prune --older-than 30d >out &&
	echo "removed 1 request, 3 bytes of text" >expect &&
	test_cmp expect out &&
	test "$(sql "select group_concat(id) from (select id from requests order by id)")" = "6,20" &&
	test_expect_code 64 llm-log prune 2>err &&
	test_grep "prune needs --older-than AGE or --keep N" err &&
	test_expect_code 64 llm-log prune --older-than soon 2>err &&
	test_expect_code 64 llm-log prune --keep x 2>err &&
	test_expect_code 64 llm-log list --dry-run 2>err
'

test_expect_success 'reprice: the costs at the prices of llm.ini' '
	seed &&
	llm-log reprice --dry-run >out &&
	echo "would reprice 2 requests (2 unchanged, 2 without a price)" >expect &&
	test_cmp expect out &&
	test "$(sql "select cost_usd from requests where id = 4")" = 0.0002 &&
	llm-log reprice >out &&
	echo "repriced 2 requests (2 unchanged, 2 without a price)" >expect &&
	test_cmp expect out &&
	test "$(sql "select group_concat(coalesce(cost_usd, '\''-'\''), '\'' '\'') from (select cost_usd from requests order by id)")" = "5.5e-05 0.000125 - 0.00025 - 1.35e-05"
'

test_expect_success 'reprice after a price change, with a filter' '
	llm-log search lisbon >/dev/null &&
	sed "s/^input_cost = 1.5/input_cost = 3/" "$LLM_CONFIG" >new.ini &&
	llm-log --config new.ini reprice --model m2 >out &&
	echo "repriced 2 requests (0 unchanged, 0 without a price)" >expect &&
	test_cmp expect out &&
	test "$(sql "select group_concat(coalesce(cost_usd, '\''-'\''), '\'' '\'') from (select cost_usd from requests order by id)")" = "7.0e-05 0.000125 - 0.00025 - 2.1e-05" &&
	llm-log --config new.ini reprice >out &&
	echo "repriced 2 requests (2 unchanged, 2 without a price)" >expect &&
	test_cmp expect out &&
	test "$(sql "select count(*) from requests_fts where requests_fts match '\''lisbon'\''")" = 1
'

test_expect_success 'rows of another program: NULLs everywhere, listed and counted' '
	reset_log &&
	llm-chat -m fake/echo "schema" >/dev/null &&
	sqlite3 "$DB" "DELETE FROM requests;
		INSERT INTO requests (created_at) VALUES ('\''2026-11-01 10:00:00'\'');
		INSERT INTO requests (created_at, prompt) VALUES ('\''not a time'\'', '\''odd time'\'');" &&
	llm-log >out &&
	cat >expect <<-\EOT &&
	ID  TIME              MODEL  STATUS  TOKENS  LATENCY  COST  PROMPT
	 1  2026-11-01 10:00  -      -            -        -     -
	 2  -                 -      -            -        -     -  odd time
	EOT
	test_cmp expect out &&
	llm-log show 1 >out &&
	printf "id                1\ncreated_at        2026-11-01 10:00:00\ntokens_estimated  0\nattempts          1\ncached            0\n" >expect &&
	test_cmp expect out &&
	test "$(llm-log stats --json | jq .total.requests)" = 2 &&
	test "$(llm-log stats --by day --json | jq -c "[.groups[].day]")" = "[\"2026-11-01\",null]" &&
	test "$(llm-log search --json odd | jq .id)" = 2 &&
	llm-log export --format jsonl | jq -e -s "length == 2" >/dev/null
'

test_expect_success 'backup: a consistent copy while others keep logging' '
	seed &&
	{
		(
			i=0
			while [ $i -lt 300 ]; do
				sqlite3 -cmd ".timeout 10000" "$DB" "INSERT INTO requests (created_at, model, prompt, response) VALUES (strftime('\''%Y-%m-%dT%H:%M:%fZ'\'', '\''now'\''), '\''w'\'', '\''writer $i'\'', '\''answer $i'\'')" || exit 1
				i=$((i + 1))
			done
		) &
		writer=$!
	} &&
	sleep 0.2 &&
	for k in 1 2 3 4 5; do
		llm-log backup "copy$k.db" || exit 1
		test "$(sqlite3 "copy$k.db" "pragma integrity_check")" = ok || exit 1
		n=$(sqlite3 "copy$k.db" "select count(*) from requests") &&
		test "$n" -ge 6 && test "$n" -le 306 || exit 1
		sqlite3 "copy$k.db" "INSERT INTO requests_fts(rowid, prompt, response) SELECT id, prompt, response FROM requests WHERE id > coalesce((SELECT max(id) FROM requests_fts_docsize), 0); INSERT INTO requests_fts(requests_fts) VALUES ('\''integrity-check'\'')" || exit 1
		test "$(sqlite3 "copy$k.db" "select count(*) from requests_fts where requests_fts match '\''writer OR lisbon'\''")" = $((n - 5)) || exit 1
	done &&
	wait $writer &&
	llm-log backup final.db &&
	test "$(sqlite3 final.db "select count(*) from requests")" = 306 &&
	test "$(stat -c %a final.db)" = 600 &&
	ls copy*.db* final.db* >files &&
	! grep -q XXXXXX files
'

test_expect_success 'backup: the copy is a log llm-log reads' '
	sed "s|^database = .*|database = $TRASH/final.db|" "$LLM_CONFIG" >copy.ini &&
	llm-log --config copy.ini show 2 >out &&
	test_grep "Plan three days in Lisbon" out &&
	test_expect_code 74 llm-log backup "$TRASH/no/such/dir/x.db" 2>err &&
	test_grep "llm-log: error: cannot write backup" err &&
	test_expect_code 64 llm-log backup 2>err
'

test_expect_success 'completions know every option of llm-log --help' '
	completions_cover llm-log &&
	test "$(wc -l <opts)" -gt 15
'

test_expect_success 'completions: session names from the log, latest first' '
	llm-chat -S zeta -m fake/echo "one" >/dev/null &&
	llm-chat -S alpha -m fake/echo "two" >/dev/null &&
	sql "select name from sessions order by updated_at desc" >expect &&
	test "$(sed -n 1,2p expect | tr "\n" " ")" = "alpha zeta " &&
	bash -c ". \"\$1\" && COMP_WORDS=(llm-log sessions show \"\") &&
		COMP_CWORD=3 && _llm_log &&
		printf \"%s\\n\" \"\${COMPREPLY[@]}\"" \
		sh "$SRC/completions/llm-log.bash" >got &&
	test_cmp expect got &&
	bash -c ". \"\$1\" && COMP_WORDS=(llm-log list --session z) &&
		COMP_CWORD=3 && _llm_log &&
		printf \"%s\\n\" \"\${COMPREPLY[@]}\"" \
		sh "$SRC/completions/llm-log.bash" >got &&
	echo zeta >expect &&
	test_cmp expect got
'

if command -v fish >/dev/null; then
	test_expect_success 'fish completion: session names from the log' '
		fish -c "source \$argv[1]; complete -C \"llm-log sessions rm \"" \
			"$SRC/completions/llm-log.fish" >got &&
		sql "select name || char(9) || '\''session'\'' from sessions order by updated_at desc" >expect &&
		test_cmp expect got
	'
else
	test_skip 'fish completion: session names from the log' 'no fish'
fi

test_expect_success 'the log is at schema version 4, with the time index' '
	test "$(sql "pragma user_version")" = 4 &&
	test "$(sql "select count(*) from sqlite_master where name = '\''requests_time'\''")" = 1
'

test_done
