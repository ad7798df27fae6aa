/* test-store.c - unit tests of lib/store. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "tap.h"

#define NCHILD 8
#define NEACH  50

static char tmp[] = "/tmp/test-store-XXXXXX";
static struct buf qres = BUF_INIT;

/* The first column of the first row of a query, as text (or a marker). */
static const char *q(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *
q(sqlite3 *db, const char *fmt, ...)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	buf_vaddf(&sql, fmt, ap);
	va_end(ap);
	buf_reset(&qres);
	rc = sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		buf_adds(&qres, t ? (const char *)t : "(null)");
	} else if (rc == SQLITE_DONE) {
		buf_adds(&qres, "(no row)");
	} else {
		buf_setf(&qres, "(error: %s)", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	buf_release(&sql);
	return qres.ptr;
}

static int
file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & (S_IFMT | 07777)) : -1;
}

static bool
is_timestamp(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'd' && !isdigit((unsigned char)s[i]))
			return false;
		if (pat[i] != 'd' && s[i] != pat[i])
			return false;
	}
	return true;
}

static void
rm_db(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	struct buf name = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		buf_setf(&name, "%s%s", path, sfx[i]);
		unlink(name.ptr);
	}
	buf_release(&name);
}

/* A simple turn of session name; returns the request id. */
static int64_t
turn(struct store *s, const char *name, const char *model, const char *user,
	const char *prompt, const char *response, const char *status)
{
	struct store_request rq = { 0 };
	struct buf err = BUF_INIT;
	int64_t id = -1;

	rq.tool = "llm-chat";
	rq.model = model;
	rq.session = name;
	rq.session_model = model;
	rq.session_user = user;
	rq.system = "be brief";
	rq.prompt = prompt;
	rq.response = response;
	rq.status = status;
	rq.step = rq.http_status = rq.input_tokens = rq.output_tokens = -1;
	rq.cached_tokens = rq.latency_ms = rq.ttft_ms = -1;
	rq.cost_usd = rq.temperature = -1;
	if (store_log(s, &rq, &id, &err) != LLM_OK)
		printf("# store_log: %s\n", err.ptr);
	buf_release(&err);
	return id;
}

static void
child(const char *path, int k)
{
	struct store_request rq = { 0 };
	struct store *s = NULL;
	struct buf err = BUF_INIT, tool = BUF_INIT;
	int i, rc = 0;

	if (store_open(&s, path, &err) != LLM_OK) {
		printf("# child %d: %s\n", k, err.ptr);
		fflush(stdout);
		_exit(1);
	}
	buf_setf(&tool, "child-%d", k);
	rq.tool = tool.ptr;
	rq.prompt = "concurrent prompt";
	rq.response = "concurrent response";
	rq.status = "ok";
	for (i = 0; i < NEACH && rc == 0; i++) {
		rq.step = i;
		if (store_log(s, &rq, NULL, &err) != LLM_OK) {
			printf("# child %d: %s\n", k, err.ptr);
			fflush(stdout);
			rc = 1;
		}
	}
	store_close(s);
	buf_release(&tool);
	buf_release(&err);
	_exit(rc);
}

static void
test_concurrency(void)
{
	struct store *s = NULL;
	struct buf err = BUF_INIT;
	char dir[64], path[64]; /* no heap memory for the children to inherit */
	sqlite3 *db;
	pid_t pids[NCHILD];
	int i, status, good = 0;
	long n = 0;

	snprintf(dir, sizeof(dir), "%s/conc", tmp);
	snprintf(path, sizeof(path), "%s/conc/llm.db", tmp);
	fflush(stdout);
	for (i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			child(path, i);
	}
	for (i = 0; i < NCHILD; i++) {
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] &&
			WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
	}
	is_int(good, NCHILD, "all children created the log and logged");
	is_int(store_open(&s, path, &err), LLM_OK, "reopen after children");
	db = s ? store_handle(s) : NULL;
	is_str(q(db, "SELECT count(*) FROM requests"), "400",
		"8 x 50 rows logged concurrently");
	is_str(q(db, "SELECT count(DISTINCT tool) || ',' || min(c) || ','"
		     " || max(c) FROM (SELECT tool, count(*) AS c"
		     " FROM requests GROUP BY tool)"),
		"8,50,50", "each child has its 50 rows");
	is_str(q(db, "SELECT count(DISTINCT step) FROM requests"), "50",
		"steps 0-49 all there");
	is_str(q(db, "PRAGMA integrity_check"), "ok", "integrity_check is ok");
	is_str(q(db, "SELECT count(*) FROM requests_fts"
		     " WHERE requests_fts MATCH 'concurrent'"),
		"0", "no row is indexed yet");
	is_int(store_index(s, &n, &err), LLM_OK, "index them");
	is_str(q(db, "SELECT count(*) FROM requests_fts"
		     " WHERE requests_fts MATCH 'concurrent'"),
		"400", "every concurrent row is indexed");
	is_str(q(db, "PRAGMA user_version"), "4",
		"user_version is 4 after the race");
	store_close(s);
	rm_db(path);
	rmdir(dir);
	buf_release(&err);
}

static long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Log n requests of about 20 KB each, one transaction apiece. */
static void
log_big(struct store *s, int n)
{
	struct store_request rq = { 0 };
	struct buf err = BUF_INIT, sys = BUF_INIT;
	int i;

	for (i = 0; i < 2000; i++)
		buf_adds(&sys, "system text ");
	rq.tool = "llm-chat";
	rq.system = sys.ptr; /* (not in the full-text index) */
	rq.prompt = "a prompt";
	rq.response = "an answer";
	rq.status = "ok";
	for (i = 0; i < n; i++)
		if (store_log(s, &rq, NULL, &err) != LLM_OK)
			printf("# store_log: %s\n", err.ptr);
	buf_release(&sys);
	buf_release(&err);
}

/* Who checkpoints a long WAL: the process that closes the log, unless its
 * request waited (store_warm), which leaves it to the next one's wait. */
static void
test_checkpoint(void)
{
	struct store *s = NULL;
	struct buf err = BUF_INIT, path = BUF_INIT, wal = BUF_INIT;
	long before;

	buf_setf(&path, "%s/ckpt.db", tmp);
	buf_setf(&wal, "%s-wal", path.ptr);
	store_open(&s, path.ptr, &err);
	log_big(s, 40);
	before = file_size(wal.ptr);
	printf("# WAL: %ld bytes\n", before);
	ok(before > 128 * 4096, "40 requests of 20 KB: a WAL of > 128 pages");
	store_close(s);
	is_int(file_size(wal.ptr), 0, "store_close truncates it");

	s = NULL;
	store_open(&s, path.ptr, &err);
	store_warm(s);
	log_big(s, 40);
	before = file_size(wal.ptr);
	printf("# WAL: %ld bytes\n", before);
	ok(before > 128 * 4096, "again, after store_warm");
	store_close(s);
	is_int(file_size(wal.ptr), before,
		"store_close leaves it alone after an answer it waited for");

	s = NULL;
	store_open(&s, path.ptr, &err);
	store_warm(s);
	printf("# WAL: %ld bytes\n", file_size(wal.ptr));
	ok(file_size(wal.ptr) < before / 4,
		"the next store_warm checkpoints it (what is left: the index"
		" of the new rows)");
	is_str(q(store_handle(s), "PRAGMA integrity_check"), "ok",
		"integrity_check is ok");
	is_str(q(store_handle(s), "SELECT count(*) FROM requests"), "80",
		"every row is there");
	store_close(s);
	rm_db(path.ptr);
	buf_release(&path);
	buf_release(&wal);
	buf_release(&err);
}

int
main(void)
{
	struct store *s = NULL, *ro = NULL;
	struct store_request rq = { 0 };
	struct store_session ss = { 0 }, ss2 = { 0 };
	struct store_message *msgs = NULL;
	struct buf path = BUF_INIT, name = BUF_INIT, err = BUF_INIT,
		   want = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	sqlite3 *db;
	size_t n = 0;
	int64_t id = 0, id2 = 0, plain, plain2, t1, t2;
	long nidx, nrows;
	bool found = true;
	int fd;

	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	/* First, while the parent holds no memory the children inherit. */
	test_concurrency();

	test_checkpoint();

	/* ---- creation ---- */
	buf_setf(&path, "%s/a/b/c/llm.db", tmp);
	is_int(store_open(&s, path.ptr, &err), LLM_OK, "open creates the log");
	is_str(err.ptr, "", "no error message");
	buf_setf(&name, "%s/a/b/c", tmp);
	is_int(file_mode(name.ptr), S_IFDIR | 0700,
		"missing directories made 0700");
	is_int(file_mode(path.ptr), S_IFREG | 0600, "log file is 0600");
	buf_setf(&name, "%s-wal", path.ptr);
	is_int(file_mode(name.ptr), S_IFREG | 0600, "-wal file is 0600");
	buf_setf(&name, "%s-shm", path.ptr);
	is_int(file_mode(name.ptr), S_IFREG | 0600, "-shm file is 0600");
	db = store_handle(s);
	is_str(q(db, "PRAGMA journal_mode"), "wal", "journal_mode is wal");
	is_str(q(db, "PRAGMA user_version"), "4", "user_version is 4");
	is_str(q(db, "PRAGMA foreign_keys"), "1", "foreign keys are on");
	is_str(q(db, "PRAGMA synchronous"), "1", "synchronous is normal");
	is_str(q(db, "SELECT group_concat(name, ',') FROM (SELECT name"
		     " FROM sqlite_master WHERE type IN ('table', 'trigger')"
		     " AND name NOT LIKE 'requests_fts_%%' ORDER BY name)"),
		"cache,guard_counters,guard_events,guard_health,guard_ledger,"
		"guard_slots,messages,requests,requests_ad,requests_au,"
		"requests_fts,sessions",
		"tables and fts triggers");
	is_str(q(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		     " AND sql IS NOT NULL"),
		"16", "sixteen indexes");

	/* ---- a full row ---- */
	rq.tool = "llm-compare";
	rq.model = "fast";
	rq.provider = "groq";
	rq.provider_model = "llama-3.1-8b-instant";
	rq.group_id = "g-123";
	rq.step = 2;
	rq.system = "you are terse";
	rq.prompt = "tell me about the zebra";
	rq.response = "stripes everywhere";
	rq.status = "ok";
	rq.error = "none really";
	rq.http_status = 200;
	rq.input_tokens = 12;
	rq.output_tokens = 34;
	rq.cached_tokens = 5;
	rq.tokens_estimated = true;
	rq.latency_ms = 1500;
	rq.ttft_ms = 250;
	rq.cost_usd = 0.00125;
	rq.finish_reason = "stop";
	rq.finish_reason_raw = "end_turn";
	rq.temperature = 0.5;
	rq.max_tokens = 256;
	rq.attempts = 3;
	rq.response_id = "resp-9";
	store_now(&before);
	is_int(store_log(s, &rq, &id, &err), LLM_OK, "store_log of a full row");
	store_now(&after);
	ok(id > 0, "store_log gives the rowid");
	ok(is_timestamp(before.ptr), "store_now is ISO 8601 with ms");
	ok(is_timestamp(q(db, "SELECT created_at FROM requests WHERE id = %lld",
		   (long long)id)),
		"created_at has the same form");
	ok(strcmp(before.ptr, q(db, "SELECT created_at FROM requests")) <= 0 &&
			strcmp(after.ptr, q(db, "SELECT created_at"
						" FROM requests")) >= 0,
		"created_at is the time of the call");
	is_str(q(db, "SELECT quote(tool) || quote(model) || quote(provider) ||"
		     " quote(provider_model) || quote(session_id) ||"
		     " quote(group_id) || quote(step) || quote(system)"
		     " FROM requests WHERE id = %lld",
		   (long long)id),
		"'llm-compare''fast''groq''llama-3.1-8b-instant'NULL'g-123'2"
		"'you are terse'",
		"tool .. system read back");
	is_str(q(db, "SELECT quote(prompt) || quote(response) || quote(status)"
		     " || quote(error) || quote(http_status) FROM requests"
		     " WHERE id = %lld",
		   (long long)id),
		"'tell me about the zebra''stripes everywhere''ok'"
		"'none really'200",
		"prompt .. http_status read back");
	is_str(q(db, "SELECT printf('%%d,%%d,%%d,%%d,%%d,%%d',"
		     " input_tokens, output_tokens, cached_tokens,"
		     " tokens_estimated, latency_ms, ttft_ms) FROM requests"
		     " WHERE id = %lld",
		   (long long)id),
		"12,34,5,1,1500,250", "tokens and latency read back");
	is_str(q(db, "SELECT quote(cost_usd) || ',' || quote(temperature) ||"
		     " ',' || typeof(cost_usd) FROM requests WHERE id = %lld",
		   (long long)id),
		"0.00125,0.5,real", "cost and temperature read back");
	is_str(q(db, "SELECT quote(finish_reason) || quote(finish_reason_raw)"
		     " || quote(max_tokens) || quote(attempts) ||"
		     " quote(response_id) FROM requests WHERE id = %lld",
		   (long long)id),
		"'stop''end_turn'2563'resp-9'",
		"finish .. response_id read back");

	/* ---- NULL rules ---- */
	memset(&rq, 0, sizeof(rq));
	rq.step = -1;
	rq.http_status = 0;
	rq.input_tokens = rq.output_tokens = rq.cached_tokens = -1;
	rq.latency_ms = rq.ttft_ms = -1;
	rq.cost_usd = -1;
	rq.temperature = -0.5;
	rq.max_tokens = 0;
	rq.attempts = 0;
	is_int(store_log(s, &rq, &id2, &err), LLM_OK, "store_log of NULLs");
	is_int(id2, id + 1, "ids increase");
	is_str(q(db, "SELECT quote(tool) || quote(model) || quote(provider) ||"
		     " quote(provider_model) || quote(group_id) || quote(step)"
		     " || quote(system) || quote(prompt) || quote(response) ||"
		     " quote(status) || quote(error) || quote(http_status) ||"
		     " quote(input_tokens) || quote(output_tokens) ||"
		     " quote(cached_tokens) || quote(latency_ms) ||"
		     " quote(ttft_ms) || quote(cost_usd) ||"
		     " quote(finish_reason) || quote(finish_reason_raw) ||"
		     " quote(temperature) ||"
		     " quote(max_tokens) || quote(response_id) ||"
		     " quote(session_id) FROM requests WHERE id = %lld",
		   (long long)id2),
		"NULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULL"
		"NULLNULLNULLNULLNULLNULLNULLNULLNULL",
		"NULL strings and negative numbers are NULL");
	is_str(q(db, "SELECT attempts || ',' || tokens_estimated FROM requests"
		     " WHERE id = %lld",
		   (long long)id2),
		"1,0", "attempts <= 0 is 1, tokens_estimated false is 0");
	rq.step = 0;
	rq.input_tokens = 0;
	rq.cost_usd = 0;
	rq.temperature = 0;
	rq.http_status = -5;
	store_log(s, &rq, &id2, &err);
	is_str(q(db, "SELECT quote(step) || ',' || quote(input_tokens) || ','"
		     " || quote(cost_usd) || ',' || quote(temperature) || ','"
		     " || quote(http_status) FROM requests WHERE id = %lld",
		   (long long)id2),
		"0,0,0.0,0.0,NULL",
		"zero is kept where only negatives are NULL");

	/* ---- full-text index ---- */
	buf_setf(&want, "%lld", (long long)id);
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'zebra'"),
		"0", "a logged row is not indexed at once");
	nidx = -1;
	is_int(store_unindexed(s, &nidx, &err), LLM_OK, "store_unindexed");
	is_int(nidx, atol(q(db, "SELECT count(*) FROM requests")),
		"counts every row so far");
	is_int(store_index(s, &nidx, &err), LLM_OK, "store_index");
	is_int(nidx, atol(q(db, "SELECT count(*) FROM requests")),
		"indexes them all");
	store_unindexed(s, &nidx, &err);
	is_int(nidx, 0, "none left");
	store_index(s, &nidx, &err);
	is_int(nidx, 0, "indexing again does nothing");
	is_str(q(db, "SELECT rowid FROM requests_fts WHERE requests_fts"
		     " MATCH 'zebra'"),
		want.ptr, "fts finds a prompt word");
	is_str(q(db, "SELECT rowid FROM requests_fts WHERE requests_fts"
		     " MATCH 'response:stripes'"),
		want.ptr, "fts finds a response word");
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'prompt:stripes'"),
		"0", "fts keeps the columns apart");
	ok(sqlite3_exec(db, "INSERT INTO requests (prompt, response, status)"
			    " VALUES ('a walrus tusk', 'ivory', 'ok')",
		   NULL, NULL, NULL) == SQLITE_OK,
		"plain sql insert works");
	plain = sqlite3_last_insert_rowid(db);
	buf_setf(&want, "%lld", (long long)plain);
	ok(sqlite3_exec(db, "INSERT INTO requests (prompt, response, status)"
			    " VALUES ('a seal pup', 'white fur', 'ok')",
		   NULL, NULL, NULL) == SQLITE_OK,
		"another, about to change before it is indexed");
	plain2 = sqlite3_last_insert_rowid(db);
	sqlite3_exec(db, "UPDATE requests SET prompt = 'an otter'"
			 " WHERE prompt = 'a seal pup'",
		NULL, NULL, NULL);
	store_index(s, &nidx, &err);
	is_int(nidx, 2, "plain sql inserts are indexed by store_index");
	is_str(q(db, "SELECT rowid FROM requests_fts WHERE requests_fts"
		     " MATCH 'walrus'"),
		want.ptr, "fts finds a row inserted with plain sql");
	buf_setf(&want, "%lld", (long long)plain2);
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'seal'") ,
		"0", "a row changed before it was indexed: not its old words");
	is_str(q(db, "SELECT rowid FROM requests_fts WHERE requests_fts"
		     " MATCH 'otter'"),
		want.ptr, "but its new ones");
	buf_setf(&want, "%lld", (long long)plain);
	ok(is_timestamp(q(db, "SELECT created_at FROM requests WHERE id = %lld",
		   (long long)plain)),
		"plain sql insert gets a created_at");
	is_str(q(db, "SELECT attempts || tokens_estimated FROM requests"
		     " WHERE id = %lld",
		   (long long)plain),
		"10", "plain sql insert gets defaults");
	sqlite3_exec(db, "UPDATE requests SET prompt = 'a narwhal horn'"
			 " WHERE prompt = 'a walrus tusk'",
		NULL, NULL, NULL);
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'walrus'"),
		"0", "update removes the old words");
	is_str(q(db, "SELECT rowid FROM requests_fts WHERE requests_fts"
		     " MATCH 'narwhal AND ivory'"),
		want.ptr, "update indexes the new words");
	sqlite3_exec(db, "DELETE FROM requests WHERE prompt = 'a narwhal horn'",
		NULL, NULL, NULL);
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'narwhal OR ivory'"),
		"0", "delete removes the row from the index");
	ok(sqlite3_exec(db, "INSERT INTO requests (prompt, response, status)"
			    " VALUES ('a puffin', 'beak', 'ok');"
			    "DELETE FROM requests WHERE prompt = 'a puffin'",
		   NULL, NULL, NULL) == SQLITE_OK,
		"deleting a row not yet indexed");
	ok(sqlite3_exec(db, "INSERT INTO requests_fts(requests_fts)"
			    " VALUES ('integrity-check')",
		   NULL, NULL, NULL) == SQLITE_OK,
		"fts integrity-check passes");
	ok(sqlite3_exec(db, "INSERT INTO requests (prompt, response, status)"
			    " VALUES ('a gannet', 'dives', 'ok')",
		   NULL, NULL, NULL) == SQLITE_OK,
		"one more, for store_warm");
	nrows = atol(q(db, "SELECT count(*) FROM requests"));
	store_warm(s);
	is_str(q(db, "SELECT count(*) FROM requests_fts WHERE requests_fts"
		     " MATCH 'gannet'"),
		"1", "store_warm indexes what is new");
	is_int(atol(q(db, "SELECT count(*) FROM requests")), nrows,
		"and adds no row");
	ok(sqlite3_exec(db, "INSERT INTO requests_fts(requests_fts)"
			    " VALUES ('integrity-check')",
		   NULL, NULL, NULL) == SQLITE_OK,
		"fts integrity-check passes after store_warm");

	/* ---- sessions ---- */
	is_int(store_session_find(s, "proj", &ss, &found, &err), LLM_OK,
		"find of a missing session succeeds");
	ok(!found && ss.name == NULL, "and says not found");
	is_int(store_session_last(s, &ss, &found, &err), LLM_OK,
		"last with no sessions succeeds");
	ok(!found, "and says not found");
	t1 = turn(s, "proj", "m1", "hello", "history + hello", "hi there",
		"ok");
	ok(t1 > 0, "first session turn logged");
	store_session_find(s, "proj", &ss, &found, &err);
	ok(found, "the turn created the session");
	is_str(ss.name, "proj", "session name");
	is_str(ss.model, "m1", "session model");
	is_str(ss.system, "be brief", "session system");
	ok(is_timestamp(ss.created_at) && ss.updated_at &&
			strcmp(ss.created_at, ss.updated_at) == 0,
		"created_at == updated_at on creation");
	buf_setf(&want, "%lld", (long long)ss.id);
	is_str(q(db, "SELECT session_id FROM requests WHERE id = %lld",
		   (long long)t1),
		want.ptr, "the request points at its session");
	is_int(store_session_messages(s, ss.id, &msgs, &n, &err), LLM_OK,
		"messages of the session");
	is_int((long long)n, 2, "a turn adds two messages");
	if (n == 2) {
		is_str(msgs[0].role, "user", "first is the user's");
		is_str(msgs[0].content, "hello",
			"session_user, not the prompt");
		is_str(msgs[1].role, "assistant", "second is the answer");
		is_str(msgs[1].content, "hi there", "the response");
	}
	store_messages_free(msgs, n);
	t2 = turn(s, "proj", "m2", NULL, "second q", "second a", "ok");
	store_session_release(&ss);
	store_session_find(s, "proj", &ss, &found, &err);
	is_str(ss.model, "m2", "a later turn updates the model");
	is_str(ss.system, "be brief", "and keeps the system");
	buf_setf(&want, "%lld,%lld,%lld,%lld", (long long)t1, (long long)t1,
		(long long)t2, (long long)t2);
	is_str(q(db, "SELECT group_concat(request_id, ',') FROM (SELECT"
		     " request_id FROM messages WHERE session_id = %lld"
		     " ORDER BY id)",
		   (long long)ss.id),
		want.ptr, "messages point at their request");
	store_session_messages(s, ss.id, &msgs, &n, &err);
	is_int((long long)n, 4, "the second turn appends two more");
	if (n == 4) {
		buf_setf(&want, "%s:%s|%s:%s|%s:%s|%s:%s", msgs[0].role,
			msgs[0].content, msgs[1].role, msgs[1].content,
			msgs[2].role, msgs[2].content, msgs[3].role,
			msgs[3].content);
		is_str(want.ptr,
			"user:hello|assistant:hi there|user:second q|"
			"assistant:second a",
			"in order; the prompt stands in for session_user");
	}
	store_messages_free(msgs, n);
	ok(turn(s, "proj", "m2", "boom", "boom", NULL, "error") > 0,
		"an error turn is logged");
	store_session_messages(s, ss.id, &msgs, &n, &err);
	is_int((long long)n, 4, "an error turn adds no messages");
	store_messages_free(msgs, n);
	is_str(q(db, "SELECT count(*) FROM requests WHERE session_id = %lld",
		   (long long)ss.id),
		"3", "but its request belongs to the session");

	turn(s, "other", "m3", "x", "x", "y", "ok");
	store_session_last(s, &ss2, &found, &err);
	ok(found, "last finds a session");
	is_str(ss2.name, "other", "last is the newest session");
	store_session_release(&ss2);
	turn(s, "proj", "m2", "again", "again", "yes", "ok");
	store_session_last(s, &ss2, &found, &err);
	is_str(ss2.name, "proj", "using the older one again makes it last");
	store_session_release(&ss2);
	sqlite3_exec(db, "UPDATE sessions SET updated_at ="
			 " '2030-01-01T00:00:00.000Z'",
		NULL, NULL, NULL);
	store_session_last(s, &ss2, &found, &err);
	is_str(ss2.name, "proj", "a tie goes to the latest request");
	store_session_release(&ss2);
	store_session_messages(s, 9999, &msgs, &n, &err);
	ok(n == 0 && msgs == NULL, "no messages for an unknown session");
	store_session_release(&ss);
	store_session_release(&ss);
	ok(ss.name == NULL, "release twice is safe");

	/* ---- reopening, read-only ---- */
	buf_setf(&want, "%s", q(db, "SELECT count(*) FROM requests"));
	store_close(s);
	s = NULL;
	is_int(store_open(&s, path.ptr, &err), LLM_OK, "reopen");
	db = s ? store_handle(s) : NULL;
	is_str(q(db, "SELECT count(*) FROM requests"), want.ptr,
		"reopening keeps the rows (no re-migration)");
	is_str(q(db, "PRAGMA user_version"), "4", "still version 4");
	is_int(store_open_readonly(&ro, path.ptr, &err), LLM_OK,
		"open read-only");
	store_session_find(ro, "proj", &ss, &found, &err);
	ok(found, "read-only can read sessions");
	store_session_release(&ss);
	memset(&rq, 0, sizeof(rq));
	rq.prompt = "x";
	buf_reset(&err);
	is_int(store_log(ro, &rq, NULL, &err), LLM_ERR_IO,
		"writing a read-only log fails");
	buf_setf(&want, "cannot write log '%s': attempt to write a readonly"
			" database",
		path.ptr);
	is_str(err.ptr, want.ptr, "with the path in the message");
	store_close(ro);
	ro = NULL;
	store_close(s);
	s = NULL;

	/* ---- errors ---- */
	buf_setf(&name, "%s/missing.db", tmp);
	is_int(store_open_readonly(&ro, name.ptr, &err), LLM_ERR_IO,
		"read-only open of a missing log fails");
	buf_setf(&want, "cannot open log '%s': No such file or directory",
		name.ptr);
	is_str(err.ptr, want.ptr, "and says so");
	ok(ro == NULL && file_mode(name.ptr) == -1, "and creates nothing");

	buf_setf(&name, "%s/file", tmp);
	fd = open(name.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "not sqlite, not at all, no no no\n", 33) == 33,
		"made a regular file");
	if (fd >= 0)
		close(fd);
	buf_setf(&path, "%s/sub/llm.db", name.ptr);
	s = (struct store *)&fd; /* a non-NULL sentinel, never used */
	is_int(store_open(&s, path.ptr, &err), LLM_ERR_IO,
		"a regular file as a directory gives LLM_ERR_IO");
	buf_setf(&want, "cannot open log '%s': '%s' is not a directory",
		path.ptr, name.ptr);
	is_str(err.ptr, want.ptr, "the message names the log and the file");
	ok(s == NULL, "*sp is NULL on failure");
	is_int(store_open(&s, name.ptr, &err), LLM_ERR_IO,
		"a file that is not a database");
	buf_setf(&want, "cannot open log '%s': file is not a database",
		name.ptr);
	is_str(err.ptr, want.ptr, "says so");
	unlink(name.ptr);

	fd = open(name.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	is_int(store_open_readonly(&ro, name.ptr, &err), LLM_ERR_IO,
		"read-only open of an empty file fails");
	buf_setf(&want, "cannot open log '%s': not an llm log", name.ptr);
	is_str(err.ptr, want.ptr, "as not an llm log");
	buf_setf(&path, "%s-wal", name.ptr);
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && fchmod(fd, 0644) == 0, "made a stale 0644 -wal file");
	if (fd >= 0)
		close(fd);
	is_int(store_open(&s, name.ptr, &err), LLM_OK,
		"open over a stale -wal file");
	is_int(file_mode(path.ptr), S_IFREG | 0600, "which is made 0600");
	store_close(s);
	s = NULL;
	rm_db(name.ptr);

	buf_setf(&path, "%s/a/b/c/llm.db", tmp);
	rm_db(path.ptr);
	buf_setf(&name, "%s/a/b/c", tmp);
	rmdir(name.ptr);
	buf_setf(&name, "%s/a/b", tmp);
	rmdir(name.ptr);
	buf_setf(&name, "%s/a", tmp);
	rmdir(name.ptr);
	ok(rmdir(tmp) == 0, "the temporary directory is left empty");

	buf_release(&qres);
	buf_release(&path);
	buf_release(&name);
	buf_release(&err);
	buf_release(&want);
	buf_release(&before);
	buf_release(&after);
	return tap_done();
}
