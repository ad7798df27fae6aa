/* cache.c - answers kept for reuse; see cache.h. */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cache.h"
#include "json.h"
#include "msg.h"
#include "sha256.h"
#include "store.h"
#include "xalloc.h"

#define MAX_TRIES 8

/* ==== the key ==== */

/* "TAG LEN:VALUE\n" */
static void
field(struct buf *b, const char *tag, const char *v, size_t n)
{
	buf_addf(b, "%s %zu:", tag, n);
	buf_add(b, v, n);
	buf_addch(b, '\n');
}

static void
field_str(struct buf *b, const char *tag, const char *v)
{
	if (v)
		field(b, tag, v, strlen(v));
}

static void
field_num(struct buf *b, const char *tag, double v)
{
	char num[64];

	snprintf(num, sizeof(num), "%.17g", v);
	field_str(b, tag, num);
}

/* "TAG LEN:A LEN:B\n" */
static void
field_pair(struct buf *b, const char *tag, const char *a, const char *v)
{
	a = a ? a : "";
	v = v ? v : "";
	buf_addf(b, "%s %zu:%s %zu:", tag, strlen(a), a, strlen(v));
	buf_adds(b, v);
	buf_addch(b, '\n');
}

static int
cmp_item(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* The -o options as they would be sent (the last of a key wins), sorted
 * by key; one without '=' is kept as it is. */
static void
add_options(struct buf *b, const struct llm_request *rq)
{
	cJSON *obj = cJSON_CreateObject(), *it;
	cJSON **items = NULL;
	struct buf v = BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < rq->noptions; i++)
		if (rq->options[i] && !json_set_option(obj, rq->options[i]))
			field_str(b, "option-raw", rq->options[i]);
	for (it = obj->child; it; it = it->next)
		n++;
	if (n) {
		items = xcalloc(n, sizeof(*items));
		for (i = 0, it = obj->child; it; it = it->next)
			items[i++] = it;
		qsort(items, n, sizeof(*items), cmp_item);
	}
	for (i = 0; i < n; i++) {
		buf_reset(&v);
		json_print(items[i], &v);
		field_pair(b, "option", items[i]->string, v.ptr);
	}
	buf_release(&v);
	free(items);
	cJSON_Delete(obj);
}

void
cache_key(const struct llm_request *rq, struct buf *hex)
{
	const struct provider *p = rq->provider;
	struct buf b = BUF_INIT;
	unsigned char md[SHA256_LEN];
	char out[SHA256_HEX_LEN + 1], num[32];
	size_t i;

	buf_adds(&b, "llm-cache 1\n");
	if (p) {
		field_str(&b, "provider", p->name);
		field_str(&b, "type", p->type);
		field_str(&b, "base_url", p->base_url);
		field_str(&b, "api_version", p->api_version);
		field_str(&b, "anthropic_version", p->anthropic_version);
		field_str(&b, "region", p->region);
		field_str(&b, "reply", p->reply);
	}
	if (rq->model)
		field_str(&b, "model", rq->model->id);
	if (rq->system && *rq->system)
		field_str(&b, "system", rq->system);
	for (i = 0; i < rq->nmessages; i++)
		field_pair(&b, "message", rq->messages[i].role,
			rq->messages[i].content);
	if (rq->has_temperature)
		field_num(&b, "temperature", rq->temperature);
	if (rq->has_top_p)
		field_num(&b, "top_p", rq->top_p);
	if (rq->max_tokens > 0) {
		snprintf(num, sizeof(num), "%ld", rq->max_tokens);
		field_str(&b, "max_tokens", num);
	}
	for (i = 0; i < rq->nstop; i++)
		field_str(&b, "stop", rq->stop[i] ? rq->stop[i] : "");
	add_options(&b, rq);

	sha256(b.ptr, b.len, md);
	sha256_hex(md, sizeof(md), out);
	buf_reset(hex);
	buf_adds(hex, out);
	buf_release(&b);
}

/* ==== the database ==== */

/* One connection per path and process, closed at exit.  After fork() the
 * parent's connections are left alone (SQLite's must not cross a fork):
 * the child opens its own. */
struct conn {
	char *path;
	pid_t pid;
	struct store *s;
};

static struct conn *conns;
static size_t nconns, conns_alloc;
static bool hooked;

void
cache_close_all(void)
{
	pid_t me = getpid();
	size_t i, j;

	for (i = j = 0; i < nconns; i++) {
		if (conns[i].pid != me) {
			conns[j++] = conns[i];
			continue;
		}
		store_close(conns[i].s);
		free(conns[i].path);
	}
	nconns = j;
	if (nconns == 0) {
		free(conns);
		conns = NULL;
		conns_alloc = 0;
	}
}

static bool
is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Sleep a little longer on each retry, staggered by process. */
static void
nap(int attempt)
{
	struct timespec ts;

	ts.tv_sec = 0;
	ts.tv_nsec = (10L * (attempt + 1) + getpid() % 10) * 1000000L;
	nanosleep(&ts, NULL);
}

/* One statement, retried while the database is busy. */
static int
step_retry(sqlite3_stmt *st)
{
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = sqlite3_step(st);
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			return rc;
		sqlite3_reset(st);
		nap(tries);
	}
}

static enum llm_status
fail(struct buf *err, const char *verb, const char *path, sqlite3 *db)
{
	if (err)
		buf_setf(err, "cannot %s cache in '%s': %s", verb, path,
			sqlite3_errmsg(db));
	return LLM_ERR_IO;
}

/* This process's connection to path, opened (and the table created) on
 * first use. */
static enum llm_status
conn_get(const char *path, sqlite3 **dbp, struct buf *err)
{
	struct store *s = NULL;
	struct conn *c = NULL;
	pid_t me = getpid();
	enum llm_status st = LLM_OK;
	size_t i;

	*dbp = NULL;
	for (i = 0; i < nconns; i++)
		if (conns[i].pid == me && strcmp(conns[i].path, path) == 0)
			c = &conns[i];
	if (c == NULL) {
		if ((st = store_open(&s, path, err)) != LLM_OK)
			goto out;
		if (!hooked) {
			atexit(cache_close_all);
			hooked = true;
		}
		conns = xgrowarray(conns, &conns_alloc, nconns + 1,
			sizeof(*conns));
		c = &conns[nconns++];
		c->path = xstrdup(path);
		c->pid = me;
		c->s = s;
	}
	*dbp = store_handle(c->s);
out:
	return st;
}

/* The time age seconds ago (now when age <= 0), as created_at is
 * written. */
static void
cutoff(double age, struct buf *out)
{
	struct timespec ts;
	int64_t now, ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!(age > 0))
		ms = now;
	else if (age * 1000.0 >= (double)now)
		ms = 0;
	else
		ms = now - (int64_t)(age * 1000.0);
	store_time(out, ms);
}

/* A string, or NULL. */
static int
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) :
		   sqlite3_bind_null(st, i);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static long
col_long(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return -1;
	return (long)sqlite3_column_int64(st, i);
}

static void
fill(sqlite3_stmt *st, struct llm_result *res)
{
	const void *text = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);
	const unsigned char *finish;

	buf_reset(&res->text);
	if (text && n > 0)
		buf_add(&res->text, text, (size_t)n);
	res->usage.input = col_long(st, 1);
	res->usage.output = col_long(st, 2);
	res->usage.cached = col_long(st, 3);
	finish = sqlite3_column_text(st, 4);
	res->finish = finish ? provider_finish_normalize((const char *)finish) :
			       NULL;
	free(res->finish_raw);
	res->finish_raw = col_dup(st, 5);
	free(res->id);
	res->id = col_dup(st, 6);
	res->done = true;
}

enum llm_status
cache_get(const char *db_path, const char *key, double ttl,
	struct llm_result *res, bool *hit, struct buf *err)
{
	static const char sql[] =
		"SELECT response, input_tokens, output_tokens, cached_tokens,"
		" finish_reason, finish_reason_raw, response_id"
		" FROM cache WHERE key = ?1 AND created_at > ?2";
	struct buf since = BUF_INIT;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	enum llm_status ret;
	int rc;

	*hit = false;
	if ((ret = conn_get(db_path, &db, err)) != LLM_OK)
		goto out;
	cutoff(ttl, &since);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 1, key);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, since.ptr);
	if (rc == SQLITE_OK)
		rc = step_retry(st);
	if (rc == SQLITE_ROW) {
		fill(st, res);
		*hit = true;
	} else if (rc != SQLITE_DONE) {
		ret = fail(err, "read", db_path, db);
		goto out;
	}
	msg_debug(2, "cache: %s %.12s", *hit ? "hit" : "miss", key);
out:
	sqlite3_finalize(st);
	buf_release(&since);
	return ret;
}

static int
bind_count(sqlite3_stmt *st, int i, long v)
{
	return v >= 0 ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

static enum llm_status
prune_db(sqlite3 *db, const char *path, double max_age, long *removed,
	struct buf *err)
{
	static const char sql[] = "DELETE FROM cache WHERE created_at <= ?1";
	struct buf before = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret = LLM_OK;
	int rc;

	cutoff(max_age, &before);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 1, before.ptr);
	if (rc == SQLITE_OK)
		rc = step_retry(st);
	if (rc != SQLITE_DONE) {
		ret = fail(err, "prune", path, db);
		goto out;
	}
	if (removed)
		*removed = (long)sqlite3_changes(db);
	msg_debug(2, "cache: pruned %d rows", sqlite3_changes(db));
out:
	sqlite3_finalize(st);
	buf_release(&before);
	return ret;
}

enum llm_status
cache_put(const char *db_path, const char *key, const char *provider,
	const char *model_id, const struct llm_result *res, struct buf *err)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO cache (key, created_at, provider,"
		" model_id, response, input_tokens, output_tokens,"
		" cached_tokens, finish_reason, finish_reason_raw,"
		" response_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11)";
	struct buf now = BUF_INIT, why = BUF_INIT;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	enum llm_status ret = LLM_OK;
	int rc;

	if (res->finish && strcmp(res->finish, "error") == 0)
		goto out;
	if ((ret = conn_get(db_path, &db, err)) != LLM_OK)
		goto out;
	store_now(&now);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 1, key);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, now.ptr);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 3, provider);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 4, model_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text64(st, 5, res->text.ptr, res->text.len,
			SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = bind_count(st, 6, res->usage.input);
	if (rc == SQLITE_OK)
		rc = bind_count(st, 7, res->usage.output);
	if (rc == SQLITE_OK)
		rc = bind_count(st, 8, res->usage.cached);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 9, res->finish);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 10, res->finish_raw);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 11, res->id);
	if (rc == SQLITE_OK)
		rc = step_retry(st);
	if (rc != SQLITE_DONE) {
		ret = fail(err, "write", db_path, db);
		goto out;
	}
	msg_debug(2, "cache: stored %.12s", key);
	if (sqlite3_last_insert_rowid(db) % CACHE_PRUNE_EVERY == 0 &&
		prune_db(db, db_path, CACHE_PRUNE_AGE, NULL, &why) != LLM_OK)
		msg_debug(1, "%s", why.ptr);
out:
	sqlite3_finalize(st);
	buf_release(&why);
	buf_release(&now);
	return ret;
}

enum llm_status
cache_prune(const char *db_path, double max_age, long *removed,
	struct buf *err)
{
	sqlite3 *db = NULL;
	enum llm_status ret;

	if (removed)
		*removed = 0;
	ret = conn_get(db_path, &db, err);
	if (ret == LLM_OK)
		ret = prune_db(db, db_path, max_age, removed, err);
	return ret;
}
