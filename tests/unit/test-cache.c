/* test-cache.c - unit tests of lib/cache. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "cache.h"
#include "provider.h"
#include "sha256.h"
#include "store.h"
#include "tap.h"

#define NCHILD 4
#define NEACH  25

/* The key of the request built by base(), pinned once computed. */
#define BASE_KEY \
	"77980067477f97b2a9637a466aab5ea780effe75fe94e1076546cdda17a0998a"

static char tmp[] = "/tmp/test-cache-XXXXXX";
static struct buf qres = BUF_INIT;

/* ==== a request and its variations ==== */

static char p_name[] = "groq", p_type[] = "openai",
	    p_url[] = "https://api.groq.com/openai/v1",
	    m_id[] = "llama-3.1-8b-instant";
static char other[] = "other", api_v[] = "2024-10-21";

struct fixture {
	struct provider p;
	struct model m;
	struct llm_message msgs[3];
	const char *stop[2];
	const char *opts[4];
	struct llm_request rq;
};

static void
base(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->p.name = p_name;
	f->p.type = p_type;
	f->p.base_url = p_url;
	f->m.id = m_id;
	f->msgs[0].role = "user";
	f->msgs[0].content = "Say hi";
	f->msgs[1].role = "assistant";
	f->msgs[1].content = "Hi.";
	f->msgs[2].role = "user";
	f->msgs[2].content = "Again";
	f->stop[0] = "END";
	f->opts[0] = "seed=42";
	f->opts[1] = "user=abc";
	f->rq.provider = &f->p;
	f->rq.model = &f->m;
	f->rq.api_key = "sk-secret-1";
	f->rq.system = "Be brief.";
	f->rq.messages = f->msgs;
	f->rq.nmessages = 3;
	f->rq.has_temperature = true;
	f->rq.temperature = 0.5;
	f->rq.has_top_p = true;
	f->rq.top_p = 0.25;
	f->rq.max_tokens = 256;
	f->rq.stop = f->stop;
	f->rq.nstop = 1;
	f->rq.options = f->opts;
	f->rq.noptions = 2;
	f->rq.stream = false;
}

/* The serialization of base(), as cache.h describes it. */
static const char base_text[] = "llm-cache 1\n"
				"provider 4:groq\n"
				"type 6:openai\n"
				"base_url 30:https://api.groq.com/openai/v1\n"
				"model 20:llama-3.1-8b-instant\n"
				"system 9:Be brief.\n"
				"message 4:user 6:Say hi\n"
				"message 9:assistant 3:Hi.\n"
				"message 4:user 5:Again\n"
				"temperature 3:0.5\n"
				"top_p 4:0.25\n"
				"max_tokens 3:256\n"
				"stop 3:END\n"
				"option 4:seed 2:42\n"
				"option 4:user 5:\"abc\"\n";

static void
key_of(const struct fixture *f, struct buf *out)
{
	cache_key(&f->rq, out);
}

enum change {
	C_PROVIDER, C_TYPE, C_BASE_URL, C_API_VERSION, C_MODEL, C_SYSTEM,
	C_NO_SYSTEM, C_ROLE0, C_ROLE1, C_CONTENT0, C_CONTENT1, C_CONTENT2,
	C_FEWER, C_ORDER, C_TEMPERATURE, C_NO_TEMPERATURE, C_TOP_P,
	C_NO_TOP_P, C_MAX_TOKENS, C_NO_MAX_TOKENS, C_STOP, C_MORE_STOP,
	C_NO_STOP, C_OPTION_VALUE, C_OPTION_TYPE, C_OPTION_KEY, C_MORE_OPTION,
	C_NO_OPTION, NCHANGES
};

static const char *const change_name[NCHANGES] = {
	"provider name", "provider type", "base_url", "api_version", "model id",
	"system prompt", "no system prompt", "first message's role",
	"second message's role", "first message", "second message",
	"third message", "one message fewer", "messages swapped",
	"temperature", "no temperature", "top_p", "no top_p", "max_tokens",
	"no max_tokens", "stop sequence", "another stop sequence",
	"no stop sequence", "an option's value", "an option's JSON type",
	"an option's key", "another option", "one option fewer",
};

static void
apply(struct fixture *f, enum change c)
{
	struct llm_message t;

	switch (c) {
	case C_PROVIDER:
		f->p.name = other;
		break;
	case C_TYPE:
		f->p.type = other;
		break;
	case C_BASE_URL:
		f->p.base_url = other;
		break;
	case C_API_VERSION:
		f->p.api_version = api_v;
		break;
	case C_MODEL:
		f->m.id = other;
		break;
	case C_SYSTEM:
		f->rq.system = "Be brief!";
		break;
	case C_NO_SYSTEM:
		f->rq.system = NULL;
		break;
	case C_ROLE0:
		f->msgs[0].role = "assistant";
		break;
	case C_ROLE1:
		f->msgs[1].role = "user";
		break;
	case C_CONTENT0:
		f->msgs[0].content = "Say hi!";
		break;
	case C_CONTENT1:
		f->msgs[1].content = "";
		break;
	case C_CONTENT2:
		f->msgs[2].content = "again";
		break;
	case C_FEWER:
		f->rq.nmessages = 2;
		break;
	case C_ORDER:
		t = f->msgs[0];
		f->msgs[0] = f->msgs[2];
		f->msgs[2] = t;
		break;
	case C_TEMPERATURE:
		f->rq.temperature = 0.50000000000000011;
		break;
	case C_NO_TEMPERATURE:
		f->rq.has_temperature = false;
		break;
	case C_TOP_P:
		f->rq.top_p = 0.3;
		break;
	case C_NO_TOP_P:
		f->rq.has_top_p = false;
		break;
	case C_MAX_TOKENS:
		f->rq.max_tokens = 257;
		break;
	case C_NO_MAX_TOKENS:
		f->rq.max_tokens = 0;
		break;
	case C_STOP:
		f->stop[0] = "END.";
		break;
	case C_MORE_STOP:
		f->stop[1] = "";
		f->rq.nstop = 2;
		break;
	case C_NO_STOP:
		f->rq.nstop = 0;
		break;
	case C_OPTION_VALUE:
		f->opts[0] = "seed=43";
		break;
	case C_OPTION_TYPE:
		f->opts[0] = "seed=\"42\"";
		break;
	case C_OPTION_KEY:
		f->opts[0] = "Seed=42";
		break;
	case C_MORE_OPTION:
		f->opts[2] = "top_k=5";
		f->rq.noptions = 3;
		break;
	case C_NO_OPTION:
		f->rq.noptions = 1;
		break;
	case NCHANGES:
		break;
	}
}

static void
test_key(void)
{
	struct fixture f;
	struct buf k = BUF_INIT, k2 = BUF_INIT;
	unsigned char md[SHA256_LEN];
	char want[SHA256_HEX_LEN + 1];
	struct buf seen = BUF_INIT;
	int c, distinct = 1;

	base(&f);
	key_of(&f, &k);
	sha256(base_text, sizeof(base_text) - 1, md);
	sha256_hex(md, sizeof(md), want);
	is_str(k.ptr, want,
		"the key is SHA-256 of the documented serialization");
	is_str(k.ptr, BASE_KEY, "the key of a known request is pinned");
	is_int((long long)k.len, 64, "64 hex digits");
	buf_adds(&k2, "junk");
	key_of(&f, &k2);
	is_str(k2.ptr, BASE_KEY, "cache_key replaces what hex held");
	buf_adds(&seen, k.ptr);

	for (c = 0; c < NCHANGES; c++) {
		struct buf name = BUF_INIT;

		base(&f);
		apply(&f, (enum change)c);
		key_of(&f, &k2);
		buf_setf(&name, "the key changes with the %s", change_name[c]);
		ok(strcmp(k2.ptr, k.ptr) != 0, name.ptr);
		if (strstr(seen.ptr, k2.ptr))
			distinct = 0;
		buf_addf(&seen, " %s", k2.ptr);
		buf_release(&name);
	}
	ok(distinct, "every variation has a key of its own");

	/* What does not change it. */
	base(&f);
	f.rq.api_key = "sk-other-key";
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr, "the API key does not change the key");
	base(&f);
	f.rq.api_key = "";
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr, "no API key: the same key");
	base(&f);
	f.rq.stream = true;
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr, "the stream flag does not change the key");
	base(&f);
	f.opts[0] = "user=abc";
	f.opts[1] = "seed=42";
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr, "-o options in another order: the same key");
	base(&f);
	f.opts[0] = "seed=7";
	f.opts[1] = "user=\"abc\"";
	f.opts[2] = "seed=42";
	f.rq.noptions = 3;
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr,
		"a repeated option: the last wins; x=abc is x=\"abc\"");
	base(&f);
	f.rq.system = NULL;
	key_of(&f, &k2);
	buf_reset(&seen);
	buf_adds(&seen, k2.ptr);
	base(&f);
	f.rq.system = "";
	key_of(&f, &k2);
	is_str(k2.ptr, seen.ptr, "an empty system prompt is none");
	base(&f);
	f.m.ref = other;
	f.m.alias = other;
	f.m.has_cost = true;
	f.m.input_cost = 3;
	key_of(&f, &k2);
	is_str(k2.ptr, k.ptr, "the model's alias and prices do not count");

	/* Length prefixes keep fields apart. */
	base(&f);
	f.msgs[0].content = "ab";
	f.msgs[1].role = "user";
	f.msgs[1].content = "c";
	f.rq.nmessages = 2;
	key_of(&f, &k);
	f.msgs[0].content = "a";
	f.msgs[1].content = "bc";
	key_of(&f, &k2);
	ok(strcmp(k.ptr, k2.ptr) != 0, "'ab','c' is not 'a','bc'");
	base(&f);
	f.stop[0] = "a b";
	key_of(&f, &k);
	f.stop[0] = "a";
	f.stop[1] = "b";
	f.rq.nstop = 2;
	key_of(&f, &k2);
	ok(strcmp(k.ptr, k2.ptr) != 0, "stop 'a b' is not 'a', 'b'");

	buf_release(&k);
	buf_release(&k2);
	buf_release(&seen);
}

/* ==== the database ==== */

static const char *q(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first column of the first row of a query, as text (or a marker). */
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

static sqlite3 *
peek(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
		SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void
answer(struct llm_result *r, const char *text, long in, long out,
	long cached, const char *raw, const char *id)
{
	llm_result_release(r);
	llm_result_init(r);
	buf_adds(&r->text, text);
	r->usage.input = in;
	r->usage.output = out;
	r->usage.cached = cached;
	provider_set_finish(r, raw);
	free(r->id);
	r->id = id ? strdup(id) : NULL;
}

static void
test_round_trip(const char *path)
{
	struct llm_result put, got;
	struct buf err = BUF_INIT;
	bool hit = true;
	sqlite3 *db;

	llm_result_init(&put);
	llm_result_init(&got);

	answer(&put, "Hello, world", 12, 3, 5, "end_turn", "msg_01");
	is_int(cache_put(path, "k1", "anthropic", "claude-haiku", &put, &err),
		LLM_OK, "put");
	is_str(err.ptr, "", "put: no message");
	is_int(cache_get(path, "k1", 3600, &got, &hit, &err), LLM_OK, "get");
	ok(hit, "get: a hit");
	is_str(got.text.ptr, "Hello, world", "hit: text");
	is_int(got.usage.input, 12, "hit: input tokens");
	is_int(got.usage.output, 3, "hit: output tokens");
	is_int(got.usage.cached, 5, "hit: cached tokens");
	is_str(got.finish, "stop", "hit: finish");
	is_str(got.finish_raw, "end_turn", "hit: raw finish");
	is_str(got.id, "msg_01", "hit: response id");
	ok(got.done, "hit: done");
	is_str(err.ptr, "", "get: no message");

	db = peek(path);
	ok(db != NULL, "the database opens");
	is_str(q(db, "SELECT provider || '|' || model_id || '|' || response"
		     " || '|' || finish_reason || '|' || finish_reason_raw"
		     " FROM cache WHERE key = 'k1'"),
		"anthropic|claude-haiku|Hello, world|stop|end_turn",
		"the row holds provider, model id, response, finish");
	is_str(q(db, "SELECT created_at GLOB '[0-9][0-9][0-9][0-9]-"
		     "[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:"
		     "[0-9][0-9].[0-9][0-9][0-9]Z'"
		     " FROM cache WHERE key = 'k1'"),
		"1", "created_at is ISO 8601 UTC with milliseconds");
	ok(atol(q(db, "PRAGMA user_version")) >= 1,
		"the file is a migrated log");
	is_str(q(db, "SELECT count(*) FROM sqlite_master WHERE name IN"
		     " ('cache', 'cache_created_at', 'requests')"),
		"3", "the cache table and index sit beside the log's");

	/* Unknown usage and finish. */
	answer(&put, "", -1, -1, -1, NULL, NULL);
	is_int(cache_put(path, "k2", NULL, NULL, &put, &err), LLM_OK,
		"put an empty answer without usage");
	is_int(cache_get(path, "k2", 3600, &got, &hit, &err), LLM_OK, "get it");
	ok(hit, "a hit");
	is_str(got.text.ptr, "", "hit: empty text");
	is_int(got.usage.input, -1, "hit: unknown input tokens");
	is_int(got.usage.output, -1, "hit: unknown output tokens");
	is_int(got.usage.cached, -1, "hit: unknown cached tokens");
	ok(got.finish == NULL, "hit: no finish");
	ok(got.finish_raw == NULL, "hit: no raw finish");
	ok(got.id == NULL, "hit: no id");
	is_str(q(db, "SELECT quote(input_tokens) || quote(provider) FROM cache"
		     " WHERE key = 'k2'"),
		"NULLNULL", "unknowns are stored as NULL");

	/* A miss leaves res alone. */
	hit = true;
	is_int(cache_get(path, "nope", 3600, &got, &hit, &err), LLM_OK,
		"get an unknown key");
	ok(!hit, "a miss");
	is_str(got.text.ptr, "", "a miss leaves the result alone");

	/* Replacing. */
	answer(&put, "Second", 1, 2, 0, "length", "r2");
	is_int(cache_put(path, "k1", "anthropic", "claude-haiku", &put, &err),
		LLM_OK, "put the same key again");
	is_int(cache_get(path, "k1", 3600, &got, &hit, &err), LLM_OK, "get");
	is_str(got.text.ptr, "Second", "the newer answer wins");
	is_str(got.finish, "length", "with its finish");
	is_int(got.usage.cached, 0, "and its usage");
	is_str(q(db, "SELECT count(*) FROM cache WHERE key = 'k1'"), "1",
		"one row per key");

	/* Error answers are not kept. */
	answer(&put, "partial", 1, 1, 0, "error", NULL);
	is_str(put.finish, "error", "an answer that ended in error");
	is_int(cache_put(path, "k3", "p", "m", &put, &err), LLM_OK,
		"putting it is no error");
	is_str(q(db, "SELECT count(*) FROM cache WHERE key = 'k3'"), "0",
		"but it is not stored");

	/* Expiry. */
	is_int(cache_get(path, "k1", 0, &got, &hit, &err), LLM_OK, "ttl 0");
	ok(!hit, "ttl 0: a miss");
	is_int(cache_get(path, "k1", -5, &got, &hit, &err), LLM_OK,
		"negative ttl");
	ok(!hit, "negative ttl: a miss");
	is_str(q(db, "UPDATE cache SET created_at = strftime("
		     "'%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-3590 seconds')"
		     " WHERE key = 'k1' RETURNING 'aged'"),
		"aged", "an entry made 3590 s old");
	is_int(cache_get(path, "k1", 3600, &got, &hit, &err), LLM_OK,
		"get it with ttl 3600");
	ok(hit, "younger than ttl: a hit");
	is_int(cache_get(path, "k1", 3580, &got, &hit, &err), LLM_OK,
		"get it with ttl 3580");
	ok(!hit, "older than ttl: a miss");
	is_str(q(db, "UPDATE cache SET created_at = '2000-01-01T00:00:00.000Z'"
		     " WHERE key = 'k1' RETURNING 'aged'"),
		"aged", "an entry from 2000");
	is_int(cache_get(path, "k1", 86400, &got, &hit, &err), LLM_OK,
		"get it with ttl 1 d");
	ok(!hit, "expired: a miss");
	is_int(cache_get(path, "k1", 1e12, &got, &hit, &err), LLM_OK,
		"get it with a ttl of 30000 years");
	ok(hit, "a hit");
	is_str(err.ptr, "", "no message all along");

	sqlite3_close(db);
	llm_result_release(&put);
	llm_result_release(&got);
	buf_release(&err);
}

static void
test_prune(const char *path)
{
	struct llm_result r;
	struct buf err = BUF_INIT, key = BUF_INIT;
	long removed = -1;
	sqlite3 *db;
	int i;

	llm_result_init(&r);
	buf_adds(&r.text, "x");
	for (i = 1; i <= 5; i++) {
		buf_setf(&key, "p%d", i);
		cache_put(path, key.ptr, "p", "m", &r, &err);
	}
	db = peek(path);
	is_str(q(db, "SELECT count(*) FROM cache"), "5", "five entries");
	q(db, "UPDATE cache SET created_at = '2001-02-03T04:05:06.789Z'"
	      " WHERE key IN ('p1', 'p2', 'p4')");
	is_int(cache_prune(path, 3600, &removed, &err), LLM_OK, "prune");
	is_int(removed, 3, "prune removed the three old entries");
	is_str(q(db, "SELECT group_concat(key, ',') FROM (SELECT key FROM"
		     " cache ORDER BY key)"),
		"p3,p5", "the young ones are left");
	is_int(cache_prune(path, 3600, &removed, &err), LLM_OK, "prune again");
	is_int(removed, 0, "nothing more to remove");
	is_int(cache_prune(path, 0, NULL, &err), LLM_OK,
		"prune everything, without a count");
	is_str(q(db, "SELECT count(*) FROM cache"), "0", "the cache is empty");
	is_str(err.ptr, "", "no message");
	sqlite3_close(db);
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&key);
}

/* Every CACHE_PRUNE_EVERY-th row, cache_put prunes what is older than
 * CACHE_PRUNE_AGE. */
static void
test_put_prunes(const char *path)
{
	struct llm_result r;
	struct buf err = BUF_INIT, key = BUF_INIT;
	enum llm_status st = LLM_OK;
	sqlite3 *db;
	int i;

	llm_result_init(&r);
	buf_adds(&r.text, "y");
	for (i = 1; i < CACHE_PRUNE_EVERY && st == LLM_OK; i++) {
		buf_setf(&key, "q%d", i);
		st = cache_put(path, key.ptr, "p", "m", &r, &err);
	}
	is_int(st, LLM_OK, "49 puts");
	db = peek(path);
	q(db, "UPDATE cache SET created_at = '2000-01-01T00:00:00.000Z'"
	      " WHERE rowid <= 10");
	q(db, "UPDATE cache SET created_at = strftime("
	      "'%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-29 days')"
	      " WHERE rowid = 11");
	is_str(q(db, "SELECT count(*) FROM cache"), "49", "49 entries");
	is_int(cache_put(path, "q50", "p", "m", &r, &err), LLM_OK,
		"the 50th put");
	is_str(q(db, "SELECT max(rowid) FROM cache"), "50", "has rowid 50");
	is_str(q(db, "SELECT count(*) FROM cache"), "40",
		"and pruned the ten entries older than 30 days");
	is_str(q(db, "SELECT count(*) FROM cache WHERE key = 'q11'"), "1",
		"a 29-day-old entry stays");
	sqlite3_close(db);
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&key);
}

/* Children put the same key at once. */
static void
test_concurrency(const char *path)
{
	struct llm_result r;
	struct buf err = BUF_INIT, key = BUF_INIT;
	pid_t pids[NCHILD];
	int i, j, status, failed = 0;
	bool hit = false;
	sqlite3 *db;

	fflush(stdout);
	for (i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			llm_result_init(&r);
			for (j = 0; j < NEACH; j++) {
				buf_reset(&r.text);
				buf_addf(&r.text, "child %d", i);
				buf_setf(&key, "own%d", i);
				if (cache_put(path, "shared", "p", "m", &r,
					    &err) != LLM_OK ||
					cache_put(path, key.ptr, "p", "m", &r,
						&err) != LLM_OK) {
					fprintf(stderr, "child %d: %s\n", i,
						err.ptr);
					exit(1);
				}
			}
			llm_result_release(&r);
			buf_release(&err);
			buf_release(&key);
			exit(0);
		}
	}
	for (i = 0; i < NCHILD; i++)
		if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
			!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	is_int(failed, 0, "concurrent puts of one key all succeed");
	llm_result_init(&r);
	is_int(cache_get(path, "shared", 60, &r, &hit, &err), LLM_OK,
		"get the shared key");
	ok(hit && strncmp(r.text.ptr, "child ", 6) == 0,
		"it holds one child's answer");
	db = peek(path);
	is_str(q(db, "SELECT count(*) FROM cache WHERE key = 'shared' OR"
		     " key GLOB 'own*'"),
		"5", "one shared row and one per child");
	sqlite3_close(db);
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&key);
}

/* A child forked after the parent opened path opens its own connection
 * (SQLite's must not cross a fork).  It ends by exec'ing true(1), so that
 * the parent's connections, which it must not close, are not counted as
 * leaks. */
static void
test_fork_after_open(const char *path)
{
	struct llm_result r;
	struct buf err = BUF_INIT, got = BUF_INIT;
	int fds[2], status = 0;
	bool hit = false;
	char chunk[512];
	ssize_t n;
	sqlite3 *db;
	pid_t pid;

	llm_result_init(&r);
	buf_adds(&r.text, "parent");
	is_int(cache_put(path, "before-fork", "p", "m", &r, &err), LLM_OK,
		"the parent has the database open");
	fflush(stdout);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		ok(0, "fork");
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		buf_reset(&r.text);
		buf_adds(&r.text, "from the child");
		buf_addf(&got, "%d",
			(int)cache_put(path, "child", "p", "m", &r, &err));
		buf_addf(&got, " %d",
			(int)cache_get(path, "before-fork", 60, &r, &hit,
				&err));
		buf_addf(&got, " %d %s", (int)hit, r.text.ptr);
		if (write(fds[1], got.ptr, got.len) != (ssize_t)got.len)
			_exit(3);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
		_exit(4);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(&got, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child ran to its end");
	is_str(got.ptr, "0 0 1 parent", "the child put and got");
	is_int(cache_get(path, "child", 60, &r, &hit, &err), LLM_OK,
		"the parent's connection still works");
	ok(hit && strcmp(r.text.ptr, "from the child") == 0,
		"and sees the child's entry");
	db = peek(path);
	is_str(q(db, "PRAGMA integrity_check"), "ok", "the database is intact");
	sqlite3_close(db);
out:
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&got);
}

/* A database that cannot be written: a miss, LLM_ERR_IO and a message.
 * Run in a child that is not root, since root writes read-only files. */
static void
test_readonly(const char *dir)
{
	struct llm_result r;
	struct buf err = BUF_INIT, path = BUF_INIT, want = BUF_INIT,
		   got = BUF_INIT;
	struct store *s = NULL;
	enum llm_status st;
	bool hit = false;
	sqlite3 *db;
	int fds[2], status = -1;
	ssize_t n;
	char chunk[512];
	pid_t pid;

	llm_result_init(&r);
	buf_setf(&path, "%s/ro/llm.db", dir);
	/* Made without the cache's connections, which a child inherits. */
	ok(store_open(&s, path.ptr, &err) == LLM_OK &&
			sqlite3_exec(store_handle(s),
				"INSERT INTO cache (key, response)"
				" VALUES ('ro', 'kept')",
				NULL, NULL, NULL) == SQLITE_OK,
		"an entry in a database about to be made read-only");
	store_close(s);
	ok(chmod(dir, 0755) == 0 && chmod(path.ptr, 0444) == 0,
		"made the database read-only");
	buf_setf(&want, "%s/ro", dir);
	ok(chmod(want.ptr, 0555) == 0, "and its directory");

	fflush(stdout);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		ok(0, "fork");
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		buf_reset(&r.text);
		buf_adds(&r.text, "untouched");
		hit = true;
		st = cache_get(path.ptr, "ro", 60, &r, &hit, &err);
		buf_setf(&got, "%d %d %s|%s", (int)st, (int)hit, err.ptr,
			r.text.ptr);
		buf_addf(&got, "|%d", (int)cache_put(path.ptr, "ro2", "p", "m",
					      &r, &err));
		buf_addf(&got, "|%d", (int)cache_prune(path.ptr, 0, NULL,
					      &err));
		if (write(fds[1], got.ptr, got.len) != (ssize_t)got.len)
			_exit(3);
		close(fds[1]);
		llm_result_release(&r);
		buf_release(&err);
		buf_release(&path);
		buf_release(&want);
		buf_release(&got);
		/* Not exit(): LeakSanitizer cannot run once setuid() made
		 * the process undumpable. */
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(&got, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	is_int(status, 0, "the unprivileged child ran");
	buf_setf(&want, "%d 0 cannot open log '%s': Permission denied|untouched"
			"|%d|%d",
		(int)LLM_ERR_IO, path.ptr, (int)LLM_ERR_IO, (int)LLM_ERR_IO);
	is_str(got.ptr, want.ptr,
		"read-only: a miss, LLM_ERR_IO and the reason; put and prune"
		" fail too");
	buf_setf(&want, "%s/ro", dir);
	chmod(want.ptr, 0700);
	chmod(path.ptr, 0600);
	db = peek(path.ptr);
	is_str(q(db, "SELECT response FROM cache WHERE key = 'ro'"), "kept",
		"the entry was there all along");
	sqlite3_close(db);
out:
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&path);
	buf_release(&want);
	buf_release(&got);
}

static void
test_missing(const char *dir)
{
	struct llm_result r;
	struct buf err = BUF_INIT, path = BUF_INIT, want = BUF_INIT;
	long removed = 7;
	bool hit = true;
	int fd;

	llm_result_init(&r);
	buf_setf(&path, "%s/file", dir);
	fd = open(path.ptr, O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0, "a plain file");
	if (fd >= 0)
		close(fd);
	buf_setf(&path, "%s/file/llm.db", dir);
	buf_adds(&r.text, "untouched");
	is_int(cache_get(path.ptr, "k", 60, &r, &hit, &err), LLM_ERR_IO,
		"a database that cannot be made: LLM_ERR_IO");
	ok(!hit, "and a miss");
	is_str(r.text.ptr, "untouched", "the result is left alone");
	buf_setf(&want, "cannot open log '%s': '%s/file' is not a directory",
		path.ptr, dir);
	is_str(err.ptr, want.ptr, "the message says why");
	buf_reset(&err);
	is_int(cache_put(path.ptr, "k", "p", "m", &r, &err), LLM_ERR_IO,
		"put: LLM_ERR_IO");
	is_str(err.ptr, want.ptr, "put: the message");
	is_int(cache_prune(path.ptr, 0, &removed, &err), LLM_ERR_IO,
		"prune: LLM_ERR_IO");
	is_int(removed, 0, "prune: none removed");
	is_int(cache_get("", "k", 60, &r, &hit, &err), LLM_ERR_IO,
		"no path: LLM_ERR_IO");
	is_str(err.ptr, "cannot open log '': no path given",
		"no path: message");
	llm_result_release(&r);
	buf_release(&err);
	buf_release(&path);
	buf_release(&want);
}

/* rm -r */
static void
remove_tree(const char *path)
{
	struct buf sub = BUF_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if (lstat(path, &sb) < 0)
		return;
	if (S_ISDIR(sb.st_mode) && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
				strcmp(de->d_name, "..") == 0)
				continue;
			buf_setf(&sub, "%s/%s", path, de->d_name);
			remove_tree(sub.ptr);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
	buf_release(&sub);
}

int
main(void)
{
	struct buf path = BUF_INIT;
	struct stat sb;

	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	test_key();

	/* First, while the parent holds no connection the children
	 * inherit. */
	test_readonly(tmp);
	buf_setf(&path, "%s/concurrent/llm.db", tmp);
	test_concurrency(path.ptr);

	buf_setf(&path, "%s/log/llm.db", tmp);
	test_round_trip(path.ptr);
	ok(stat(path.ptr, &sb) == 0 && (sb.st_mode & 0777) == 0600,
		"the database is made 0600");
	test_fork_after_open(path.ptr);
	buf_setf(&path, "%s/prune/llm.db", tmp);
	test_prune(path.ptr);
	buf_setf(&path, "%s/put-prunes/llm.db", tmp);
	test_put_prunes(path.ptr);
	test_missing(tmp);

	remove_tree(tmp);
	ok(stat(tmp, &sb) < 0, "the temporary directory is removed");
	buf_release(&path);
	buf_release(&qres);
	return tap_done();
}
