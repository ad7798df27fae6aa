/* test-history.c - unit tests of lib/history (llm-log's commands) and of
 * what lib/store does for it: migration 2, a WAL that stays small. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg.h"
#include "history.h"
#include "registry.h"
#include "store.h"
#include "tap.h"

/* 2026-11-23T09:00:00Z */
#define NOW ((time_t)1795424400)

static char tmp[] = "/tmp/test-history-XXXXXX";
static struct registry reg = REGISTRY_INIT;
static struct buf out = BUF_INIT, warn = BUF_INIT, err = BUF_INIT;
static struct buf qres = BUF_INIT, dbpath = BUF_INIT;
static enum llm_status sink_status = LLM_OK;

static enum llm_status
to_buf(void *ud, const char *p, size_t n)
{
	(void)ud;
	if (sink_status != LLM_OK)
		return sink_status;
	buf_add(&out, p, n);
	return LLM_OK;
}

static const struct history_sink sink = { to_buf, NULL };

/* Run "llm-log VERB ARGS" with the options o; output in out. */
static enum llm_status
run(struct history_opts *o, const char *verb, int nargs, ...)
{
	static char *args[8];
	va_list ap;
	int i;

	va_start(ap, nargs);
	for (i = 0; i < nargs && i < 8; i++)
		args[i] = va_arg(ap, char *);
	va_end(ap);
	o->verb = verb;
	o->args = args;
	o->nargs = nargs;
	o->now = NOW;
	buf_reset(&out);
	buf_reset(&err);
	return history_run(&reg, o, &sink, &warn, &err);
}

/* The same with the default options. */
static enum llm_status
run0(const char *verb, int nargs, const char *a, const char *b,
	const char *c)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	return run(&o, verb, nargs, a, b, c);
}

/* The first column of the first row of a query on the log, as text. */
static const char *
q(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	buf_reset(&qres);
	if (sqlite3_open_v2(dbpath.ptr, &db, SQLITE_OPEN_READWRITE, NULL) !=
			SQLITE_OK ||
		sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		buf_setf(&qres, "(error: %s)", sqlite3_errmsg(db));
	} else if (sqlite3_step(st) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		buf_adds(&qres, t ? (const char *)t : "(null)");
	} else {
		buf_adds(&qres, "(no row)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return qres.ptr;
}

static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
		sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		printf("# sql: %s\n", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void
rm_db(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct buf name = BUF_INIT;
	size_t i;

	for (i = 0; i < 3; i++) {
		buf_setf(&name, "%s%s", path, sfx[i]);
		unlink(name.ptr);
	}
	buf_release(&name);
}

static const char seed[] =
	"INSERT INTO sessions (id, name, model, system, created_at, updated_at)"
	" VALUES (1, 'trip', 'm1', 'Be brief.', '2026-11-20T10:00:00.000Z',"
	" '2026-11-21T09:00:00.000Z'),"
	" (2, 'work', 'm2', NULL, '2026-11-19T08:00:00.000Z',"
	" '2026-11-19T08:30:00.000Z');"
	"INSERT INTO requests (id, created_at, tool, model, provider,"
	" provider_model, session_id, group_id, step, system, prompt, response,"
	" status, error, http_status, input_tokens, output_tokens,"
	" cached_tokens, tokens_estimated, latency_ms, ttft_ms, cost_usd,"
	" finish_reason, finish_reason_raw, temperature, max_tokens, attempts,"
	" response_id) VALUES"
	" (1, '2026-11-19T08:30:00.000Z', 'llm-chat', 'm2', 'fake', 'echo', 2,"
	" NULL, NULL, NULL, 'How do pipes work?', 'With a buffer.', 'ok', NULL,"
	" 200, 10, 20, 0, 0, 800, 100, 0.000055, 'stop', 'stop', NULL, NULL, 1,"
	" 'r-1'),"
	" (2, '2026-11-20T10:00:00.000Z', 'llm-chat', 'm1', 'fake', 'echo', 1,"
	" NULL, NULL, 'Be brief.', 'Plan three days in Lisbon',"
	" 'Day one: Alfama.', 'ok', NULL, 200, 30, 40, NULL, 1, 1500, 300,"
	" 0.000125, 'stop', 'end_turn', 0.7, 100, 1, NULL),"
	" (4, '2026-11-22T12:00:00.000Z', 'llm-compare', 'm1', 'fake', 'echo',"
	" NULL, 'g-1', NULL, NULL, 'Compare: what is SIGPIPE?', 'A signal.',"
	" 'ok', NULL, 200, 100, 50, NULL, 0, 2000, 500, 0.0002, 'stop', 'stop',"
	" NULL, NULL, 2, 'r-4'),"
	" (5, '2026-11-22T12:00:00.000Z', 'llm-compare', 'm3', 'other', 'x',"
	" NULL, 'g-1', NULL, NULL, 'Compare: what is SIGPIPE?', '', 'error',"
	" 'other: HTTP 500: boom', 500, NULL, NULL, NULL, 0, 300, NULL, NULL,"
	" 'error', NULL, NULL, NULL, 1, NULL),"
	" (6, '2026-11-23T08:00:00.000Z', 'llm-chat', 'm2', 'fake', 'echo',"
	" NULL, NULL, NULL, NULL,"
	" 'Tell me about \"quotes\", commas, and' || char(10) || 'newlines',"
	" 'Sure:' || char(13, 10) || '\"ok\"', 'interrupted', NULL, 200, 5, 3,"
	" NULL, 1, 4000, 1000, NULL, NULL, NULL, NULL, NULL, 1, NULL);"
	/* a row of another program: most columns NULL, another time form */
	"INSERT INTO requests (id, created_at, model, prompt)"
	" VALUES (3, '2026-11-21 09:00:00', 'm1', 'imported pipes note');"
	"INSERT INTO messages (session_id, role, content, request_id,"
	" created_at) VALUES"
	" (2, 'user', 'How do pipes work?', 1, '2026-11-19T08:30:00.000Z'),"
	" (2, 'assistant', 'With a buffer.', 1, '2026-11-19T08:30:00.000Z'),"
	" (1, 'user', 'Plan three days in Lisbon', 2,"
	" '2026-11-20T10:00:00.000Z'),"
	" (1, 'assistant', 'Day one: Alfama.', 2,"
	" '2026-11-20T10:00:00.000Z');";

static void
setup(void)
{
	struct cfg cfg = CFG_INIT;
	struct store *s = NULL;
	struct buf ini = BUF_INIT;

	buf_setf(&dbpath, "%s/llm.db", tmp);
	buf_setf(&ini,
		"[defaults]\ndatabase = %s\n"
		"[provider.fake]\ntype = openai\nbase_url = http://127.0.0.1:9\n"
		"[provider.other]\ntype = openai\n"
		"base_url = http://127.0.0.1:9\n"
		"[model.m1]\nprovider = fake\nname = echo\ninput_cost = 1\n"
		"output_cost = 2\n"
		"[model.m2]\nprovider = fake\nname = echo2\ninput_cost = 10\n"
		"output_cost = 20\n",
		dbpath.ptr);
	if (cfg_load_string(&cfg, ini.ptr, "test.ini", &err) != LLM_OK ||
		registry_load(&reg, &cfg, &err) != LLM_OK)
		printf("# setup: %s\n", err.ptr);
	cfg_release(&cfg);
	buf_release(&ini);
	(void)s;
}

static void
seed_log(void)
{
	struct store *s = NULL;

	rm_db(dbpath.ptr);
	if (store_open(&s, dbpath.ptr, &err) != LLM_OK)
		printf("# seed: %s\n", err.ptr);
	store_close(s);
	exec_sql(dbpath.ptr, seed);
}

static void
test_missing(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;
	struct buf want = BUF_INIT;

	buf_setf(&want, "no log yet at '%s'", dbpath.ptr);
	is_int(run0(NULL, 0, NULL, NULL, NULL), LLM_OK, "list of no log: ok");
	is_str(out.ptr, "", "prints nothing");
	is_str(warn.ptr, want.ptr, "and warns");
	is_int(run0("stats", 0, NULL, NULL, NULL), LLM_OK, "stats of no log: ok");
	is_str(out.ptr, "", "nothing");
	is_int(run0("search", 1, "x", NULL, NULL), LLM_OK, "search: ok");
	o.keep = 1;
	is_int(run(&o, "prune", 0), LLM_OK, "prune of no log: ok");
	is_str(out.ptr, "", "nothing");
	ok(access(dbpath.ptr, F_OK) != 0, "no log was created");
	is_int(run0("show", 1, "1", NULL, NULL), LLM_ERR_DATA, "show of no log: 65");
	is_str(err.ptr, want.ptr, "says there is no log");
	is_int(run0("sessions", 2, "rm", "x", NULL), LLM_ERR_DATA,
		"sessions rm of no log: 65");
	is_int(run0("backup", 1, "x.db", NULL, NULL), LLM_ERR_DATA,
		"backup of no log: 65");
	is_int(run0("path", 0, NULL, NULL, NULL), LLM_OK, "path");
	buf_setf(&want, "%s\n", dbpath.ptr);
	is_str(out.ptr, want.ptr, "prints the path");
	is_str(warn.ptr, "", "no warning for path");
	ok(access(dbpath.ptr, F_OK) != 0, "still no log");
	buf_release(&want);
}

static void
test_usage(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("lsit", 0, NULL, NULL, NULL), LLM_ERR_USAGE, "unknown command");
	is_str(err.ptr,
		"unknown command 'lsit': give list, show, search, sessions, "
		"stats, export, prune, path, backup or reprice",
		"lists the commands");
	is_int(run0("list", 1, "x", NULL, NULL), LLM_ERR_USAGE, "list takes none");
	is_str(err.ptr, "wrong number of arguments: llm-log list", "says so");
	is_int(run0("show", 0, NULL, NULL, NULL), LLM_ERR_USAGE, "show needs one");
	is_str(err.ptr, "wrong number of arguments: llm-log show ID|last",
		"with its usage");
	is_int(run0("search", 0, NULL, NULL, NULL), LLM_ERR_USAGE, "search needs text");
	is_int(run0("search", 1, "  ", NULL, NULL), LLM_ERR_USAGE, "blank text");
	is_str(err.ptr, "nothing to search for: give a word", "says so");
	is_int(run0("sessions", 1, "frob", NULL, NULL), LLM_ERR_USAGE,
		"unknown sessions command");
	is_str(err.ptr, "unknown sessions command 'frob': give list, show, rm "
			"or rename",
		"names them");
	is_int(run0("sessions", 1, "show", NULL, NULL), LLM_ERR_USAGE,
		"sessions show needs a name");
	is_str(err.ptr, "wrong number of arguments: llm-log sessions show NAME",
		"with its usage");
	is_int(run0("sessions", 2, "rename", "a", NULL), LLM_ERR_USAGE,
		"rename needs two");
	o.keep = 5;
	is_int(run(&o, "list", 0), LLM_ERR_USAGE, "--keep with list");
	is_str(err.ptr, "option '--keep' does not apply to 'list'", "says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.json = true;
	is_int(run(&o, "sessions", 2, "rm", "x"), LLM_ERR_USAGE,
		"--json with sessions rm");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.limit = 3;
	is_int(run(&o, "stats", 0), LLM_ERR_USAGE, "-n with stats");
	is_str(err.ptr, "option '-n' does not apply to 'stats'", "says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.model = "x";
	is_int(run(&o, "sessions", 0), LLM_ERR_USAGE, "--model with sessions");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.status = "fine";
	is_int(run(&o, "list", 0), LLM_ERR_USAGE, "bad --status");
	is_str(err.ptr, "invalid status 'fine': give ok, error or interrupted",
		"says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.by = "week";
	is_int(run(&o, "stats", 0), LLM_ERR_USAGE, "bad --by");
	is_str(err.ptr, "invalid --by 'week': give model, provider or day",
		"says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.format = "xml";
	is_int(run(&o, "export", 0), LLM_ERR_USAGE, "bad --format");
	is_str(err.ptr, "invalid format 'xml': give csv or jsonl", "says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.since = "last week";
	is_int(run(&o, "list", 0), LLM_ERR_USAGE, "bad --since");
	is_str(err.ptr,
		"invalid time 'last week': give 30m, 24h, 7d, 2w, YYYY-MM-DD or "
		"YYYY-MM-DDTHH:MM[:SS][Z]",
		"says what to give");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.until = "2026-02-30";
	is_int(run(&o, "stats", 0), LLM_ERR_USAGE, "bad --until");
	is_int(run0("prune", 0, NULL, NULL, NULL), LLM_ERR_USAGE, "prune needs a rule");
	is_str(err.ptr, "prune needs --older-than AGE or --keep N", "says so");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.older_than = "soon";
	is_int(run(&o, "prune", 0), LLM_ERR_USAGE, "bad --older-than");
	is_int(run0("show", 1, "abc", NULL, NULL), LLM_ERR_USAGE, "show abc");
	is_str(err.ptr, "invalid request id 'abc': give a number or 'last'",
		"says so");
	is_int(run0("show", 1, "0", NULL, NULL), LLM_ERR_USAGE, "show 0");
	is_int(run0("show", 1, "-3", NULL, NULL), LLM_ERR_USAGE, "show -3");
}

static const char list_all[] =
	"ID  TIME              MODEL  STATUS       TOKENS  LATENCY       COST  "
	"PROMPT\n"
	" 6  2026-11-23 08:00  m2     interrupted    ~5/3     4.0s          -  "
	"Tell me about \"quotes\", commas, and newlines\n"
	" 5  2026-11-22 12:00  m3     error             -    300ms          -  "
	"Compare: what is SIGPIPE?\n"
	" 4  2026-11-22 12:00  m1     ok           100/50     2.0s  $0.000200  "
	"Compare: what is SIGPIPE?\n"
	" 3  2026-11-21 09:00  m1     -                 -        -          -  "
	"imported pipes note\n"
	" 2  2026-11-20 10:00  m1     ok           ~30/40     1.5s  $0.000125  "
	"Plan three days in Lisbon\n"
	" 1  2026-11-19 08:30  m2     ok            10/20    800ms  $0.000055  "
	"How do pipes work?\n";

static void
test_list(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0(NULL, 0, NULL, NULL, NULL), LLM_OK, "list");
	is_str(out.ptr, list_all, "newest first, the imported row among them");
	is_str(warn.ptr, "", "no warning");
	o.limit = 2;
	run(&o, "list", 0);
	is_str(out.ptr,
		"ID  TIME              MODEL  STATUS       TOKENS  LATENCY  COST  "
		"PROMPT\n"
		" 6  2026-11-23 08:00  m2     interrupted    ~5/3     4.0s     -  "
		"Tell me about \"quotes\", commas, and newlines\n"
		" 5  2026-11-22 12:00  m3     error             -    300ms     -  "
		"Compare: what is SIGPIPE?\n",
		"-n 2");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.model = "m1";
	o.json = true;
	run(&o, "list", 0);
	is_str(out.ptr,
		"{\"id\":4,\"created_at\":\"2026-11-22T12:00:00.000Z\","
		"\"tool\":\"llm-compare\",\"model\":\"m1\",\"provider\":\"fake\","
		"\"provider_model\":\"echo\",\"session_id\":null,"
		"\"group_id\":\"g-1\",\"step\":null,\"system\":null,"
		"\"prompt\":\"Compare: what is SIGPIPE?\","
		"\"response\":\"A signal.\",\"status\":\"ok\",\"error\":null,"
		"\"http_status\":200,\"input_tokens\":100,\"output_tokens\":50,"
		"\"cached_tokens\":null,\"tokens_estimated\":0,"
		"\"latency_ms\":2000,\"ttft_ms\":500,\"cost_usd\":0.0002,"
		"\"finish_reason\":\"stop\",\"finish_reason_raw\":\"stop\","
		"\"temperature\":null,\"max_tokens\":null,\"attempts\":2,"
		"\"response_id\":\"r-4\",\"cached\":0,\"route\":null,"
		"\"session\":null}\n"
		"{\"id\":3,\"created_at\":\"2026-11-21 09:00:00\",\"tool\":null,"
		"\"model\":\"m1\",\"provider\":null,\"provider_model\":null,"
		"\"session_id\":null,\"group_id\":null,\"step\":null,"
		"\"system\":null,\"prompt\":\"imported pipes note\","
		"\"response\":null,\"status\":null,\"error\":null,"
		"\"http_status\":null,\"input_tokens\":null,"
		"\"output_tokens\":null,\"cached_tokens\":null,"
		"\"tokens_estimated\":0,\"latency_ms\":null,\"ttft_ms\":null,"
		"\"cost_usd\":null,\"finish_reason\":null,"
		"\"finish_reason_raw\":null,\"temperature\":null,"
		"\"max_tokens\":null,\"attempts\":1,\"response_id\":null,"
		"\"cached\":0,\"route\":null,\"session\":null}\n"
		"{\"id\":2,\"created_at\":\"2026-11-20T10:00:00.000Z\","
		"\"tool\":\"llm-chat\",\"model\":\"m1\",\"provider\":\"fake\","
		"\"provider_model\":\"echo\",\"session_id\":1,\"group_id\":null,"
		"\"step\":null,\"system\":\"Be brief.\","
		"\"prompt\":\"Plan three days in Lisbon\","
		"\"response\":\"Day one: Alfama.\",\"status\":\"ok\","
		"\"error\":null,\"http_status\":200,\"input_tokens\":30,"
		"\"output_tokens\":40,\"cached_tokens\":null,"
		"\"tokens_estimated\":1,\"latency_ms\":1500,\"ttft_ms\":300,"
		"\"cost_usd\":0.000125,\"finish_reason\":\"stop\","
		"\"finish_reason_raw\":\"end_turn\",\"temperature\":0.7,"
		"\"max_tokens\":100,\"attempts\":1,\"response_id\":null,"
		"\"cached\":0,\"route\":null,\"session\":\"trip\"}\n",
		"--model m1 --json: JSON lines, every column and the session");

	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.provider = "other";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 5 ") && !strstr(out.ptr, "\n 4 "),
		"--provider other: only 5");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.status = "ok";
	o.session = "trip";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 2 ") && strchr(out.ptr, '\n') &&
			strchr(strchr(out.ptr, '\n') + 1, '\n')[1] == '\0',
		"--session trip --status ok: only 2");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.session = "nobody";
	is_int(run(&o, "list", 0), LLM_OK, "an unknown session: ok");
	is_str(out.ptr, "", "and nothing");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.group = "g-1";
	o.json = true;
	run(&o, "list", 0);
	ok(strncmp(out.ptr, "{\"id\":5,", 8) == 0 &&
			strstr(out.ptr, "\n{\"id\":4,") &&
			!strstr(out.ptr, "\"id\":6"),
		"--group g-1: 5 and 4");

	/* times: the imported row's form compares like ours */
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.since = "2026-11-21T08:59";
	o.until = "2026-11-21T09:01Z";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 3 ") != NULL &&
			strstr(out.ptr, "\n 2 ") == NULL &&
			strstr(out.ptr, "\n 4 ") == NULL,
		"--since/--until around a 'YYYY-MM-DD HH:MM:SS' row");
	o.since = "2026-11-21 09:00:00";
	o.until = "2026-11-21 09:00:00.001";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 3 ") != NULL, "--since is inclusive");
	o.since = "2026-11-20T10:00";
	o.until = "2026-11-21 09:00";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 2 ") && !strstr(out.ptr, "\n 3 "),
		"--until is exclusive");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.since = "2d";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 6 ") && strstr(out.ptr, "\n 3 ") &&
			!strstr(out.ptr, "\n 2 "),
		"--since 2d: 3, two days old to the second, is in; 2 is not");
	o.since = "47h";
	run(&o, "list", 0);
	ok(strstr(out.ptr, "\n 4 ") && !strstr(out.ptr, "\n 3 "),
		"--since 47h leaves 3 out");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.limit = 0;
	run(&o, "list", 0);
	is_str(out.ptr, list_all, "-n 0: all");
}

static void
test_show(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("show", 1, "2", NULL, NULL), LLM_OK, "show 2");
	is_str(out.ptr,
		"id                2\n"
		"created_at        2026-11-20T10:00:00.000Z\n"
		"tool              llm-chat\n"
		"model             m1\n"
		"provider          fake\n"
		"provider_model    echo\n"
		"session_id        1\n"
		"session           trip\n"
		"status            ok\n"
		"http_status       200\n"
		"input_tokens      30\n"
		"output_tokens     40\n"
		"tokens_estimated  1\n"
		"latency_ms        1500\n"
		"ttft_ms           300\n"
		"cost_usd          0.000125\n"
		"finish_reason     stop\n"
		"finish_reason_raw end_turn\n"
		"temperature       0.7\n"
		"max_tokens        100\n"
		"attempts          1\n"
		"cached            0\n"
		"--- system\n"
		"Be brief.\n"
		"--- prompt\n"
		"Plan three days in Lisbon\n"
		"--- response\n"
		"Day one: Alfama.\n",
		"every column that is set, then the texts");
	is_int(run0("show", 1, "last", NULL, NULL), LLM_OK, "show last");
	ok(strncmp(out.ptr, "id                6\n", 20) == 0,
		"last is the newest (6)");
	ok(strstr(out.ptr, "--- prompt\nTell me about \"quotes\", commas, and\n"
			   "newlines\n--- response\nSure:\r\n\"ok\"\n") != NULL,
		"texts verbatim, a newline added at the end");
	is_int(run0("show", 1, "5", NULL, NULL), LLM_OK, "show 5, of a group");
	ok(strncmp(out.ptr, "id                4\n", 20) == 0 &&
			strstr(out.ptr, "\n\nid                5\n") != NULL,
		"the whole group: 4, a blank line, 5");
	ok(strstr(out.ptr, "error             other: HTTP 500: boom\n") &&
			!strstr(out.ptr, "--- response\n\n"),
		"the error shown, the empty answer not");
	o.json = true;
	is_int(run(&o, "show", 1, "4"), LLM_OK, "show 4 --json");
	ok(strncmp(out.ptr, "{\"id\":4,", 8) == 0 &&
			strstr(out.ptr, "}\n{\"id\":5,") != NULL &&
			out.ptr[out.len - 1] == '\n',
		"a JSON line per request of the group");
	is_int(run0("show", 1, "99", NULL, NULL), LLM_ERR_DATA, "show 99: 65");
	is_str(err.ptr, "no request 99 in the log; see 'llm-log list'",
		"says so");
}

static void
test_search(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("search", 1, "lisbon", NULL, NULL), LLM_OK, "search");
	is_str(out.ptr,
		"ID  TIME              MODEL  STATUS  TOKENS  LATENCY       COST  "
		"MATCH\n"
		" 2  2026-11-20 10:00  m1     ok      ~30/40     1.5s  $0.000125  "
		"Plan three days in Lisbon\n",
		"the row and its match");
	is_int(run0("search", 1, "pipes", NULL, NULL), LLM_OK, "pipes");
	ok(strstr(out.ptr, "\n 1 ") && strstr(out.ptr, "\n 3 "),
		"found in ours and in the imported row");
	is_int(run0("search", 1, "alfama", NULL, NULL), LLM_OK, "a word of an answer");
	ok(strstr(out.ptr, "Day one: Alfama.") != NULL, "the answer's snippet");
	is_int(run0("search", 1, "\"three days\"", NULL, NULL), LLM_OK, "a phrase");
	ok(strstr(out.ptr, "\n 2 ") != NULL, "found");
	is_int(run0("search", 1, "\"days three\"", NULL, NULL), LLM_OK, "reversed");
	is_str(out.ptr, "", "not found");
	is_int(run0("search", 1, "lis*", NULL, NULL), LLM_OK, "a prefix");
	ok(strstr(out.ptr, "\n 2 ") != NULL, "found");
	is_int(run0("search", 2, "sigpipe", "-signal", NULL), LLM_OK,
		"'-' is no operator");
	ok(strstr(out.ptr, "\n 4 ") != NULL, "4 has both words");
	is_int(run0("search", 1, "\"quotes\", (commas) AND: OR NOT* NEAR(",
		       NULL, NULL),
		LLM_OK, "FTS5 syntax characters: no error");
	is_int(run0("search", 1, "-- * : ( ) \"", NULL, NULL), LLM_OK,
		"punctuation alone: no error");
	is_str(out.ptr, "", "and no match");
	o.model = "m2";
	is_int(run(&o, "search", 1, "pipes"), LLM_OK, "search with --model");
	ok(strstr(out.ptr, "\n 1 ") && !strstr(out.ptr, "\n 3 "),
		"filtered");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.json = true;
	run(&o, "search", 1, "lisbon");
	ok(strncmp(out.ptr, "{\"id\":2,", 8) == 0 &&
			strstr(out.ptr, ",\"session\":\"trip\",\"rank\":-") &&
			strcmp(out.ptr + out.len - 2, "}\n") == 0,
		"--json: the row, its session and its rank");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.color = true;
	run(&o, "search", 1, "lisbon");
	if (!ok(strstr(out.ptr, "Plan three days in \033[1mLisbon\033[22m\n") !=
			    NULL,
		    "with colour the match is bold"))
		printf("# %s", out.ptr);
}

static void
test_sessions(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("sessions", 0, NULL, NULL, NULL), LLM_OK, "sessions");
	is_str(out.ptr,
		"NAME  MODEL  TURNS  LAST_USED\n"
		"trip  m1         1  2026-11-21 09:00\n"
		"work  m2         1  2026-11-19 08:30\n",
		"last used first");
	is_int(run0("sessions", 1, "list", NULL, NULL), LLM_OK, "sessions list");
	o.json = true;
	run(&o, "sessions", 0);
	is_str(out.ptr,
		"{\"name\":\"trip\",\"model\":\"m1\",\"system\":\"Be brief.\","
		"\"turns\":1,\"created_at\":\"2026-11-20T10:00:00.000Z\","
		"\"updated_at\":\"2026-11-21T09:00:00.000Z\"}\n"
		"{\"name\":\"work\",\"model\":\"m2\",\"system\":null,\"turns\":1,"
		"\"created_at\":\"2026-11-19T08:00:00.000Z\","
		"\"updated_at\":\"2026-11-19T08:30:00.000Z\"}\n",
		"sessions --json");
	is_int(run0("sessions", 2, "show", "trip", NULL), LLM_OK, "sessions show");
	is_str(out.ptr,
		"session  trip\n"
		"model    m1\n"
		"turns    1\n"
		"started  2026-11-20 10:00\n"
		"used     2026-11-21 09:00\n"
		"\n## system\nBe brief.\n"
		"\n## user\nPlan three days in Lisbon\n"
		"\n## assistant\nDay one: Alfama.\n",
		"the transcript");
	run(&o, "sessions", 2, "show", "work");
	is_str(out.ptr,
		"{\"name\":\"work\",\"model\":\"m2\",\"system\":null,\"turns\":1,"
		"\"created_at\":\"2026-11-19T08:00:00.000Z\","
		"\"updated_at\":\"2026-11-19T08:30:00.000Z\",\"messages\":["
		"{\"role\":\"user\",\"content\":\"How do pipes work?\","
		"\"request_id\":1,\"created_at\":\"2026-11-19T08:30:00.000Z\"},"
		"{\"role\":\"assistant\",\"content\":\"With a buffer.\","
		"\"request_id\":1,\"created_at\":\"2026-11-19T08:30:00.000Z\"}"
		"]}\n",
		"sessions show --json");
	is_int(run0("sessions", 2, "show", "nope", NULL), LLM_ERR_DATA,
		"an unknown session: 65");
	is_str(err.ptr, "no session 'nope'; see 'llm-log sessions'", "says so");

	is_int(run0("sessions", 3, "rename", "trip", "work"), LLM_ERR_DATA,
		"rename onto an existing name: 65");
	is_str(err.ptr,
		"session 'work' already exists; remove it or choose another name",
		"says so");
	is_int(run0("sessions", 3, "rename", "nope", "x"), LLM_ERR_DATA,
		"rename an unknown session: 65");
	is_int(run0("sessions", 3, "rename", "trip", ""), LLM_ERR_USAGE,
		"rename to nothing: 64");
	is_int(run0("sessions", 3, "rename", "trip", "lisbon"), LLM_OK,
		"rename");
	is_str(out.ptr, "", "silently");
	is_str(q("SELECT group_concat(name) FROM (SELECT name FROM sessions"
		   " ORDER BY id)"),
		"lisbon,work", "renamed");
	is_int(run0("sessions", 3, "rename", "lisbon", "lisbon"), LLM_OK,
		"rename to itself is nothing");
	is_int(run0("sessions", 2, "rm", "work", NULL), LLM_OK, "rm");
	is_str(q("SELECT count(*) || ',' || (SELECT count(*) FROM messages)"
		 " || ',' || (SELECT count(*) FROM requests WHERE id = 1"
		 " AND session_id IS NULL) FROM sessions"),
		"1,2,1", "session and messages gone, its request kept");
	is_int(run0("sessions", 2, "rm", "work", NULL), LLM_ERR_DATA, "rm again: 65");
	is_str(err.ptr, "no session 'work'; see 'llm-log sessions'", "says so");
}

static void
test_stats(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("stats", 0, NULL, NULL, NULL), LLM_OK, "stats");
	is_str(out.ptr,
		"MODEL  REQUESTS  ERRORS    P50    P95  TTFT_P50  TTFT_P95   IN  "
		"OUT       COST\n"
		"m1            3       0   1.5s   2.0s     300ms     500ms  130  "
		" 90  $0.000325\n"
		"m2            2       0  800ms   4.0s     100ms      1.0s   15  "
		" 23  $0.000055\n"
		"m3            1       1  300ms  300ms         -         -    0  "
		"  0          -\n"
		"total         6       1   1.5s   4.0s     300ms      1.0s  145  "
		"113  $0.000380\n",
		"per model");
	o.by = "day";
	o.json = true;
	run(&o, "stats", 0);
	is_str(out.ptr,
		"{\"by\":\"day\",\"groups\":["
		"{\"day\":\"2026-11-19\",\"requests\":1,\"errors\":0,"
		"\"latency_p50_ms\":800,\"latency_p95_ms\":800,"
		"\"ttft_p50_ms\":100,\"ttft_p95_ms\":100,\"input_tokens\":10,"
		"\"output_tokens\":20,\"cost_usd\":5.5e-05},"
		"{\"day\":\"2026-11-20\",\"requests\":1,\"errors\":0,"
		"\"latency_p50_ms\":1500,\"latency_p95_ms\":1500,"
		"\"ttft_p50_ms\":300,\"ttft_p95_ms\":300,\"input_tokens\":30,"
		"\"output_tokens\":40,\"cost_usd\":0.000125},"
		"{\"day\":\"2026-11-21\",\"requests\":1,\"errors\":0,"
		"\"latency_p50_ms\":null,\"latency_p95_ms\":null,"
		"\"ttft_p50_ms\":null,\"ttft_p95_ms\":null,\"input_tokens\":0,"
		"\"output_tokens\":0,\"cost_usd\":null},"
		"{\"day\":\"2026-11-22\",\"requests\":2,\"errors\":1,"
		"\"latency_p50_ms\":300,\"latency_p95_ms\":2000,"
		"\"ttft_p50_ms\":500,\"ttft_p95_ms\":500,\"input_tokens\":100,"
		"\"output_tokens\":50,\"cost_usd\":0.0002},"
		"{\"day\":\"2026-11-23\",\"requests\":1,\"errors\":0,"
		"\"latency_p50_ms\":4000,\"latency_p95_ms\":4000,"
		"\"ttft_p50_ms\":1000,\"ttft_p95_ms\":1000,\"input_tokens\":5,"
		"\"output_tokens\":3,\"cost_usd\":null}],"
		"\"total\":{\"requests\":6,\"errors\":1,\"latency_p50_ms\":1500,"
		"\"latency_p95_ms\":4000,\"ttft_p50_ms\":300,"
		"\"ttft_p95_ms\":1000,\"input_tokens\":145,"
		"\"output_tokens\":113,\"cost_usd\":0.00038}}\n",
		"--by day --json, the imported row on its day");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.by = "provider";
	o.since = "2026-11-22";
	o.status = "ok";
	run(&o, "stats", 0);
	is_str(out.ptr,
		"PROVIDER  REQUESTS  ERRORS   P50   P95  TTFT_P50  TTFT_P95   IN  "
		"OUT       COST\n"
		"fake             1       0  2.0s  2.0s     500ms     500ms  100  "
		" 50  $0.000200\n"
		"total            1       0  2.0s  2.0s     500ms     500ms  100  "
		" 50  $0.000200\n",
		"--by provider --since --status");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.tty = true;
	run(&o, "stats", 0);
	ok(strstr(out.ptr, "$0.000380\n\nrequests per day, 2026-11-19 to "
			   "2026-11-23, max 2\n"
			   "\u2584\u2584\u2584\u2588\u2584\n") != NULL,
		"on a terminal: the chart of requests per day");
	o.cost = true;
	run(&o, "stats", 0);
	ok(strstr(out.ptr, "\n\ncost per day, 2026-11-19 to 2026-11-23, max "
			   "$0.000200\n"
			   "\u2583\u2585 \u2588 \n") != NULL,
		"--cost: the chart of the cost");
}

/* Exactly what export --format csv writes of the seed. */
static const char csv_all[] =
	"id,created_at,tool,model,provider,provider_model,session_id,group_id,"
	"step,system,prompt,response,status,error,http_status,input_tokens,"
	"output_tokens,cached_tokens,tokens_estimated,latency_ms,ttft_ms,"
	"cost_usd,finish_reason,finish_reason_raw,temperature,max_tokens,"
	"attempts,response_id,cached,route\r\n"
	"1,2026-11-19T08:30:00.000Z,llm-chat,m2,fake,echo,2,,,,How do pipes "
	"work?,With a buffer.,ok,,200,10,20,0,0,800,100,5.5e-05,stop,stop,,,1,"
	"r-1,0,\r\n"
	"2,2026-11-20T10:00:00.000Z,llm-chat,m1,fake,echo,1,,,Be brief.,Plan "
	"three days in Lisbon,Day one: Alfama.,ok,,200,30,40,,1,1500,300,"
	"0.000125,stop,end_turn,0.7,100,1,,0,\r\n"
	"3,2026-11-21 09:00:00,,m1,,,,,,,imported pipes note,,,,,,,,0,,,,,,,,1,"
	",0,\r\n"
	"4,2026-11-22T12:00:00.000Z,llm-compare,m1,fake,echo,,g-1,,,Compare: "
	"what is SIGPIPE?,A signal.,ok,,200,100,50,,0,2000,500,0.0002,stop,"
	"stop,,,2,r-4,0,\r\n"
	"5,2026-11-22T12:00:00.000Z,llm-compare,m3,other,x,,g-1,,,Compare: "
	"what is SIGPIPE?,,error,other: HTTP 500: boom,500,,,,0,300,,,error,,,"
	",1,,0,\r\n"
	"6,2026-11-23T08:00:00.000Z,llm-chat,m2,fake,echo,,,,,\"Tell me about "
	"\"\"quotes\"\", commas, and\nnewlines\",\"Sure:\r\n\"\"ok\"\"\","
	"interrupted,,200,5,3,,1,4000,1000,,,,,,1,,0,\r\n";

static void
test_export(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	is_int(run0("export", 0, NULL, NULL, NULL), LLM_OK, "export");
	is_str(out.ptr, csv_all, "CSV by RFC 4180, every column, CRLF");
	o.format = "jsonl";
	o.status = "error";
	run(&o, "export", 0);
	is_str(out.ptr,
		"{\"id\":5,\"created_at\":\"2026-11-22T12:00:00.000Z\","
		"\"tool\":\"llm-compare\",\"model\":\"m3\",\"provider\":\"other\","
		"\"provider_model\":\"x\",\"session_id\":null,"
		"\"group_id\":\"g-1\",\"step\":null,\"system\":null,"
		"\"prompt\":\"Compare: what is SIGPIPE?\",\"response\":\"\","
		"\"status\":\"error\",\"error\":\"other: HTTP 500: boom\","
		"\"http_status\":500,\"input_tokens\":null,"
		"\"output_tokens\":null,\"cached_tokens\":null,"
		"\"tokens_estimated\":0,\"latency_ms\":300,\"ttft_ms\":null,"
		"\"cost_usd\":null,\"finish_reason\":\"error\","
		"\"finish_reason_raw\":null,\"temperature\":null,"
		"\"max_tokens\":null,\"attempts\":1,\"response_id\":null,"
		"\"cached\":0,\"route\":null}\n",
		"--format jsonl --status error");
	o = (struct history_opts)HISTORY_OPTS_INIT;
	o.format = "jsonl";
	o.since = "2026-11-30";
	run(&o, "export", 0);
	is_str(out.ptr, "", "jsonl of nothing: nothing");
	o.format = "csv";
	run(&o, "export", 0);
	ok(strncmp(out.ptr, "id,created_at,", 14) == 0 &&
			strcmp(out.ptr + out.len - 26, "response_id,cached,route\r\n") == 0,
		"CSV of nothing: the header");
}

static void
test_sink(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	sink_status = LLM_ERR_PIPE;
	is_int(run(&o, "export", 0), LLM_ERR_PIPE,
		"the reader went away: the sink's status");
	sink_status = LLM_ERR_IO;
	is_int(run(&o, "list", 0), LLM_ERR_IO, "a write error: 74");
	is_str(err.ptr, "cannot write standard output", "says so");
	sink_status = LLM_OK;
}

static void
test_reprice(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	o.dry_run = true;
	is_int(run(&o, "reprice", 0), LLM_OK, "reprice --dry-run");
	is_str(out.ptr, "would reprice 3 requests (1 unchanged, 2 without a "
			"price)\n",
		"reports what it would do");
	is_str(q("SELECT cost_usd FROM requests WHERE id = 2"), "0.000125",
		"and does nothing");
	o.dry_run = false;
	o.model = "m1";
	is_int(run(&o, "reprice", 0), LLM_OK, "reprice --model m1");
	is_str(out.ptr, "repriced 1 request (1 unchanged, 1 without a price)\n",
		"only m1's rows");
	is_int(run0("reprice", 0, NULL, NULL, NULL), LLM_OK, "reprice");
	is_str(out.ptr, "repriced 2 requests (2 unchanged, 2 without a price)\n",
		"the rest");
	is_str(q("SELECT group_concat(coalesce(cost_usd, 'null'), ' ')"
		 " FROM (SELECT cost_usd FROM requests ORDER BY id)"),
		"5.0e-05 0.00011 null 0.0002 null 1.1e-05",
		"at the prices of the model sent (fake/echo is m1), "
		"rows without tokens untouched");
	is_int(run0("reprice", 0, NULL, NULL, NULL), LLM_OK, "again");
	is_str(out.ptr, "repriced 0 requests (4 unchanged, 2 without a price)\n",
		"nothing left to change");
	is_str(q("SELECT count(*) FROM requests_fts WHERE requests_fts MATCH "
		 "'lisbon'"),
		"1", "the full-text index is intact");
}

static void
test_prune(void)
{
	struct history_opts o = HISTORY_OPTS_INIT;

	o.keep = 4;
	o.dry_run = true;
	is_int(run(&o, "prune", 0), LLM_OK, "prune --keep 4 --dry-run");
	is_str(out.ptr, "would remove 2 requests, 82 bytes of text\n",
		"reports the two oldest and their text");
	is_str(q("SELECT count(*) FROM requests"), "6", "removes nothing");
	o.dry_run = false;
	o.keep = -1;
	o.older_than = "2026-11-20T10:00:00.001Z";
	is_int(run(&o, "prune", 0), LLM_OK, "prune --older-than");
	is_str(out.ptr, "removed 2 requests, 82 bytes of text\n", "reports");
	is_str(q("SELECT group_concat(id) FROM (SELECT id FROM requests"
		   " ORDER BY id)"),
		"3,4,5,6", "1 and 2 gone");
	is_str(q("SELECT count(*) || ',' || count(request_id) FROM messages"),
		"2,0", "the session's messages kept, unlinked");
	is_str(q("SELECT count(*) FROM requests_fts WHERE requests_fts MATCH "
		 "'lisbon'"),
		"0", "gone from the full-text index too");
	o.older_than = "3d";
	o.keep = 1;
	is_int(run(&o, "prune", 0), LLM_OK, "both rules");
	is_str(out.ptr, "removed 3 requests, 99 bytes of text\n",
		"everything but the newest");
	is_str(q("SELECT group_concat(id) FROM requests"), "6", "6 is left");
	o.older_than = NULL;
	is_int(run(&o, "prune", 0), LLM_OK, "again");
	is_str(out.ptr, "removed 0 requests, 0 bytes of text\n", "nothing");
	o.keep = 0;
	is_int(run(&o, "prune", 0), LLM_OK, "--keep 0");
	is_str(q("SELECT count(*) FROM requests"), "0", "empties the log");
	is_int(run0("list", 0, NULL, NULL, NULL), LLM_OK, "list of an empty log");
	is_str(out.ptr, "", "nothing");
	is_str(warn.ptr, "", "and no warning: the log is there");
	is_int(run0("show", 1, "last", NULL, NULL), LLM_ERR_DATA, "show last: 65");
}

static void
test_backup(void)
{
	struct buf copy = BUF_INIT, save = BUF_INIT;
	struct stat sb;

	buf_setf(&copy, "%s/copy.db", tmp);
	is_int(run0("backup", 1, copy.ptr, NULL, NULL), LLM_OK, "backup");
	is_str(out.ptr, "", "silently");
	ok(stat(copy.ptr, &sb) == 0 && (sb.st_mode & 0777) == 0600,
		"the copy is 0600");
	buf_addf(&save, "%s", dbpath.ptr);
	buf_setf(&dbpath, "%s", copy.ptr);
	is_str(q("PRAGMA integrity_check"), "ok", "and sound");
	is_str(q("SELECT count(*) FROM requests"), "6", "with every request");
	is_str(q("SELECT count(*) FROM requests_fts WHERE requests_fts MATCH "
		 "'pipes'"),
		"2", "and its full-text index");
	buf_setf(&dbpath, "%s", save.ptr);
	is_int(run0("backup", 1, copy.ptr, NULL, NULL), LLM_OK,
		"backup over an older copy");
	buf_setf(&copy, "%s/no/such/dir/copy.db", tmp);
	is_int(run0("backup", 1, copy.ptr, NULL, NULL), LLM_ERR_IO,
		"into a missing directory: 74");
	ok(strncmp(err.ptr, "cannot write backup '", 21) == 0, err.ptr);
	buf_release(&copy);
	buf_release(&save);
}

/* The schema of version 1, as a log of before migration 2 has it. */
static const char schema_v1[] =
	"CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT NOT NULL"
	" UNIQUE, model TEXT, system TEXT, created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL);"
	"CREATE TABLE requests (id INTEGER PRIMARY KEY, created_at TEXT NOT"
	" NULL, tool TEXT, model TEXT, provider TEXT, provider_model TEXT,"
	" session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,"
	" group_id TEXT, step INTEGER, system TEXT, prompt TEXT, response"
	" TEXT, status TEXT, error TEXT, http_status INTEGER, input_tokens"
	" INTEGER, output_tokens INTEGER, cached_tokens INTEGER,"
	" tokens_estimated INTEGER NOT NULL DEFAULT 0, latency_ms INTEGER,"
	" ttft_ms INTEGER, cost_usd REAL, finish_reason TEXT,"
	" finish_reason_raw TEXT, temperature REAL, max_tokens INTEGER,"
	" attempts INTEGER NOT NULL DEFAULT 1, response_id TEXT);"
	"CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id INTEGER NOT"
	" NULL REFERENCES sessions(id) ON DELETE CASCADE, role TEXT NOT NULL,"
	" content TEXT, request_id INTEGER REFERENCES requests(id) ON DELETE"
	" SET NULL, created_at TEXT NOT NULL);"
	"CREATE VIRTUAL TABLE requests_fts USING fts5(prompt, response,"
	" content='requests', content_rowid='id');"
	"CREATE TRIGGER requests_ai AFTER INSERT ON requests BEGIN"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	" VALUES (new.id, new.prompt, new.response); END;"
	"CREATE TRIGGER requests_ad AFTER DELETE ON requests BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	" VALUES ('delete', old.id, old.prompt, old.response); END;"
	"CREATE TRIGGER requests_au AFTER UPDATE ON requests BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	" VALUES ('delete', old.id, old.prompt, old.response);"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	" VALUES (new.id, new.prompt, new.response); END;"
	"CREATE INDEX requests_created_at ON requests(created_at);"
	"CREATE INDEX requests_model ON requests(model);"
	"CREATE INDEX requests_provider ON requests(provider);"
	"CREATE INDEX requests_session_id ON requests(session_id);"
	"CREATE INDEX requests_group_id ON requests(group_id);"
	"CREATE INDEX requests_status ON requests(status);"
	"CREATE INDEX messages_session_id ON messages(session_id);"
	"CREATE INDEX messages_request_id ON messages(request_id);"
	"CREATE INDEX sessions_updated_at ON sessions(updated_at);"
	"PRAGMA user_version = 1;";

static void
test_store(void)
{
	struct store_request rq;
	struct store *s = NULL;
	struct buf wal = BUF_INIT;
	struct stat sb;
	long max = 0;
	int i;

	/* migration 2 of a version 1 log */
	rm_db(dbpath.ptr);
	exec_sql(dbpath.ptr, schema_v1);
	exec_sql(dbpath.ptr, seed);
	is_int(store_open(&s, dbpath.ptr, &err), LLM_OK, "open a version 1 log");
	store_close(s);
	s = NULL;
	is_str(q("PRAGMA user_version"), "4", "migrated to version 4");
	is_str(q("SELECT group_concat(name, ' ') FROM (SELECT name FROM"
		 " sqlite_master WHERE type = 'index' AND tbl_name = 'requests'"
		 " AND sql IS NOT NULL ORDER BY name)"),
		"requests_group_id requests_model_time requests_provider_time "
		"requests_session_id requests_status_time requests_time",
		"the indexes of version 2");
	is_str(q("SELECT count(*) FROM requests"), "6", "the rows kept");
	is_str(q("PRAGMA integrity_check"), "ok", "sound");
	is_str(q("SELECT count(*) FROM requests r INDEXED BY requests_time"
		 " WHERE strftime('%Y-%m-%dT%H:%M:%fZ', r.created_at)"
		 " >= '2026-11-21T09:00:00.000Z'"),
		"4", "the time index orders both forms of time");
	exec_sql(dbpath.ptr, "UPDATE requests SET cost_usd = 1");
	is_str(q("SELECT count(*) FROM requests_fts WHERE requests_fts MATCH "
		 "'pipes'"),
		"2", "an update of the cost leaves the text indexed");
	exec_sql(dbpath.ptr, "UPDATE requests SET prompt = 'tubes'"
			     " WHERE id = 3");
	is_str(q("SELECT group_concat(rowid) FROM requests_fts WHERE "
		 "requests_fts MATCH 'pipes OR tubes'"),
		"1,3", "an update of the text re-indexes it");
	is_str(q("SELECT count(*) FROM requests_fts WHERE requests_fts MATCH "
		 "'imported'"),
		"0", "the old text is gone from the index");

	/* the WAL stays small over many short-lived writers */
	memset(&rq, 0, sizeof(rq));
	rq.tool = "llm-chat";
	rq.prompt = "a prompt of a few words";
	rq.response = "an answer of a few more words";
	rq.status = "ok";
	rq.step = rq.http_status = rq.input_tokens = rq.output_tokens = -1;
	rq.cached_tokens = rq.latency_ms = rq.ttft_ms = -1;
	rq.cost_usd = rq.temperature = -1;
	buf_setf(&wal, "%s-wal", dbpath.ptr);
	for (i = 0; i < 120; i++) {
		if (store_open(&s, dbpath.ptr, &err) != LLM_OK ||
			store_log(s, &rq, NULL, &err) != LLM_OK)
			break;
		store_close(s);
		s = NULL;
		if (stat(wal.ptr, &sb) == 0 && sb.st_size > max)
			max = (long)sb.st_size;
	}
	is_int(i, 120, "120 processes' worth of requests logged");
	ok(max > 0 && max < 1024 * 1024, "the WAL never reached 1 MB");
	if (max >= 1024 * 1024)
		printf("#   the WAL grew to %ld bytes\n", max);
	is_str(q("SELECT count(*) FROM requests"), "126", "all logged");
	is_str(q("PRAGMA integrity_check"), "ok", "sound");
	store_close(s);
	buf_release(&wal);
}

int
main(void)
{
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	setup();
	test_missing();
	test_usage();
	seed_log();
	test_list();
	test_show();
	test_search();
	test_stats();
	test_export();
	test_sink();
	test_backup();
	test_sessions();
	test_reprice();
	test_prune();
	test_store();

	rm_db(dbpath.ptr);
	buf_setf(&dbpath, "%s/copy.db", tmp);
	rm_db(dbpath.ptr);
	rmdir(tmp);
	registry_release(&reg);
	buf_release(&out);
	buf_release(&warn);
	buf_release(&err);
	buf_release(&qres);
	buf_release(&dbpath);
	return tap_done();
}
