/* history.c - llm-log's commands; see history.h and llm-log(1). */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "csv.h"
#include "history.h"
#include "logq.h"
#include "logstats.h"
#include "logview.h"
#include "msg.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

#define FLUSH_AT      (64 * 1024)
#define DEFAULT_LIMIT 20
#define PROMPT_WIDTH  60
#define CHART_DAYS    60

/* The options a command takes. */
enum {
	F_LIMIT = 1 << 0,
	F_FILTER = 1 << 1,
	F_JSON = 1 << 2,
	F_BY = 1 << 3,
	F_COST = 1 << 4,
	F_FORMAT = 1 << 5,
	F_PRUNE = 1 << 6,
	F_DRY = 1 << 7,
};

/* How a command opens the log; _MUST: a missing log is an error. */
enum db_mode { DB_NONE, DB_READ, DB_READ_MUST, DB_WRITE, DB_WRITE_MUST };

struct out {
	const struct history_sink *sink;
	struct buf b;
	enum llm_status st;
};

struct ctx {
	const struct registry *reg;
	const struct history_opts *o;
	const char *path;
	struct logq_filter f;
	long limit;
	time_t now;
	struct out out;
	struct buf fts;     /* search: the FTS5 query */
	sqlite3_int64 id;   /* show: the request, 0 for "last" */
	struct store *store;
	sqlite3 *db;
	struct buf *warn, *err;
};

/* Where each column is in a row of "r.*, extras". */
struct cols {
	int n; /* the columns of r.* */
	int id, model, status, in, out, est, latency, cost, prompt;
	int group_id;
	int session, time, snip, rank; /* extras, or -1 */
};

/* ==== output ==== */

static void
out_flush(struct out *o, bool all)
{
	if (o->b.len == 0 || (!all && o->b.len < FLUSH_AT))
		return;
	if (o->st == LLM_OK)
		o->st = o->sink->write(o->sink->ud, o->b.ptr, o->b.len);
	buf_reset(&o->b);
}

/* Shortest text that reads back as v; false if v is not finite. */
static bool
add_double(struct buf *b, double v)
{
	char s[40];

	if (!isfinite(v))
		return false;
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	buf_adds(b, s);
	return true;
}

static void
value_json(struct buf *b, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		if (!add_double(b, sqlite3_column_double(st, i)))
			buf_adds(b, "null");
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		logview_json_str(b, (const char *)sqlite3_column_text(st, i),
			(size_t)sqlite3_column_bytes(st, i));
		break;
	default:
		buf_adds(b, "null");
	}
}

/* The value as text for show and CSV; NULL adds nothing. */
static void
value_text(struct buf *b, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		if (!add_double(b, sqlite3_column_double(st, i)))
			buf_adds(b, (const char *)sqlite3_column_text(st, i));
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		buf_add(b, sqlite3_column_text(st, i),
			(size_t)sqlite3_column_bytes(st, i));
		break;
	default:
		break;
	}
}

/* One row as a JSON object: the columns of r.*, then the extras. */
static void
row_json(struct buf *b, sqlite3_stmt *st, const struct cols *k)
{
	int i;

	buf_addch(b, '{');
	for (i = 0; i < k->n; i++) {
		if (i)
			buf_addch(b, ',');
		logview_json_str(b, sqlite3_column_name(st, i),
			strlen(sqlite3_column_name(st, i)));
		buf_addch(b, ':');
		value_json(b, st, i);
	}
	if (k->session >= 0) {
		buf_adds(b, ",\"session\":");
		value_json(b, st, k->session);
	}
	if (k->rank >= 0) {
		buf_adds(b, ",\"rank\":");
		value_json(b, st, k->rank);
	}
	buf_adds(b, "}\n");
}

/* ==== rows ==== */

static int
col_find(sqlite3_stmt *st, int from, int to, const char *name)
{
	int i;

	for (i = from; i < to; i++)
		if (strcmp(sqlite3_column_name(st, i), name) == 0)
			return i;
	return -1;
}

static void
cols_find(sqlite3_stmt *st, int extras, struct cols *k)
{
	int all = sqlite3_column_count(st);

	k->n = all - extras;
	k->id = col_find(st, 0, k->n, "id");
	k->model = col_find(st, 0, k->n, "model");
	k->status = col_find(st, 0, k->n, "status");
	k->in = col_find(st, 0, k->n, "input_tokens");
	k->out = col_find(st, 0, k->n, "output_tokens");
	k->est = col_find(st, 0, k->n, "tokens_estimated");
	k->latency = col_find(st, 0, k->n, "latency_ms");
	k->cost = col_find(st, 0, k->n, "cost_usd");
	k->prompt = col_find(st, 0, k->n, "prompt");
	k->group_id = col_find(st, 0, k->n, "group_id");
	k->session = col_find(st, k->n, all, "session");
	k->time = col_find(st, k->n, all, "time");
	k->snip = col_find(st, k->n, all, "snip");
	k->rank = col_find(st, k->n, all, "rank");
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	if (i < 0)
		return NULL;
	return (const char *)sqlite3_column_text(st, i);
}

static bool
col_null(sqlite3_stmt *st, int i)
{
	return i < 0 || sqlite3_column_type(st, i) == SQLITE_NULL;
}

/* A number, or -1 for NULL. */
static long
col_long(sqlite3_stmt *st, int i)
{
	if (col_null(st, i))
		return -1;
	return (long)sqlite3_column_int64(st, i);
}

static double
col_double(sqlite3_stmt *st, int i)
{
	if (col_null(st, i))
		return -1;
	return sqlite3_column_double(st, i);
}

static enum llm_status
db_fail(struct ctx *c, const char *verb)
{
	buf_setf(c->err, "cannot %s log '%s': %s", verb, c->path,
		sqlite3_errmsg(c->db));
	return LLM_ERR_IO;
}

static enum llm_status
prepare(struct ctx *c, const char *sql, sqlite3_stmt **st)
{
	msg_debug(2, "sql: %s", sql);
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(c, "read");
	return LLM_OK;
}

/* The matches of a search snippet: bold on a terminal, else nothing. */
static void
add_marked(struct buf *b, const char *s, bool color)
{
	bool open = false;

	for (; *s; s++) {
		if (*s == 1 || *s == 2) {
			if (color)
				buf_adds(b, *s == 1 ? "\033[1m" : "\033[22m");
			open = *s == 1;
			continue;
		}
		buf_addch(b, *s);
	}
	if (open && color)
		buf_adds(b, "\033[22m");
}

/* The cells of one line of list or search. */
static void
list_cells(struct table *t, sqlite3_stmt *st, const struct cols *k,
	bool color)
{
	struct buf b = BUF_INIT, s = BUF_INIT;
	const char *v;

	table_addf(t, "%ld", col_long(st, k->id));
	logview_minute(&b, col_text(st, k->time));
	table_add(t, b.ptr);
	v = col_text(st, k->model);
	table_add(t, v && *v ? v : "-");
	v = col_text(st, k->status);
	table_add(t, v && *v ? v : "-");
	buf_reset(&b);
	if (col_null(st, k->in) && col_null(st, k->out))
		buf_addch(&b, '-');
	else
		buf_addf(&b, "%s%ld/%ld", col_long(st, k->est) > 0 ? "~" : "",
			col_long(st, k->in) < 0 ? 0 : col_long(st, k->in),
			col_long(st, k->out) < 0 ? 0 : col_long(st, k->out));
	table_add(t, b.ptr);
	buf_reset(&b);
	logview_ms(&b, col_long(st, k->latency));
	table_add(t, b.ptr);
	buf_reset(&b);
	logview_cost(&b, col_double(st, k->cost));
	table_add(t, b.ptr);
	buf_reset(&b);
	if (k->snip >= 0) {
		logview_oneline(&s, col_text(st, k->snip), PROMPT_WIDTH + 12,
			true);
		add_marked(&b, s.ptr, color);
	} else {
		logview_oneline(&b, col_text(st, k->prompt), PROMPT_WIDTH,
			false);
	}
	table_add(t, b.ptr);
	buf_release(&b);
	buf_release(&s);
}

/* Step through st printing each row as list does (or as JSON lines). */
static enum llm_status
print_rows(struct ctx *c, sqlite3_stmt *st, int extras, const char *last)
{
	struct table t;
	struct cols k;
	int rc, n = 0;

	table_init(&t, 8);
	t.right[0] = t.right[4] = t.right[5] = t.right[6] = true;
	table_add(&t, "ID");
	table_add(&t, "TIME");
	table_add(&t, "MODEL");
	table_add(&t, "STATUS");
	table_add(&t, "TOKENS");
	table_add(&t, "LATENCY");
	table_add(&t, "COST");
	table_add(&t, last);
	cols_find(st, extras, &k);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && c->out.st == LLM_OK) {
		n++;
		if (c->o->json) {
			row_json(&c->out.b, st, &k);
			out_flush(&c->out, false);
		} else {
			list_cells(&t, st, &k, c->o->color);
		}
	}
	if (n && !c->o->json)
		table_render(&t, &c->out.b);
	table_release(&t);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(c, "read");
	return LLM_OK;
}

/* ==== list, search ==== */

static enum llm_status
run_list(struct ctx *c)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	int i = 0;

	/* The ids first, without the join, so that SQLite walks the time
	 * index (or the filter's) from the newest and stops at the limit. */
	buf_adds(&sql, "SELECT r.*, s.name AS session, " LOGQ_TIME " AS time"
		       " FROM requests r"
		       " LEFT JOIN sessions s ON s.id = r.session_id"
		       " WHERE r.id IN (SELECT r.id FROM requests r WHERE 1");
	logq_where(&c->f, false, &sql);
	buf_adds(&sql, " ORDER BY " LOGQ_TIME " DESC, r.id DESC LIMIT ?)"
		       " ORDER BY " LOGQ_TIME " DESC, r.id DESC");
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (logq_bind(&c->f, st, &i) != SQLITE_OK ||
		sqlite3_bind_int64(st, ++i, c->limit) != SQLITE_OK) {
		ret = db_fail(c, "read");
		goto out;
	}
	ret = print_rows(c, st, 2, "PROMPT");
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return ret;
}

static void
join_args(const struct history_opts *o, int from, struct buf *out)
{
	int i;

	for (i = from; i < o->nargs; i++) {
		if (i > from)
			buf_addch(out, ' ');
		buf_adds(out, o->args[i]);
	}
}

/*
 * The full-text index lags behind the log (store.h): bring it up to date
 * through a connection that can write.  A log that this process cannot
 * write is searched as it is, with a warning.
 */
static void
index_new(struct ctx *c)
{
	struct store *w = NULL;
	struct buf e = BUF_INIT;
	long n = 0, done = 0;

	if (store_unindexed(c->store, &n, &e) == LLM_OK && n > 0 &&
		(store_open(&w, c->path, &e) != LLM_OK ||
			store_index(w, &done, &e) != LLM_OK))
		buf_setf(c->warn, "%ld newest request%s not searched: %s", n,
			n == 1 ? "" : "s", e.ptr);
	store_close(w);
	buf_release(&e);
}

static enum llm_status
run_search(struct ctx *c)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	int i = 0;

	index_new(c);
	msg_debug(1, "full-text query: %s", c->fts.ptr);
	buf_adds(&sql, "SELECT r.*, s.name AS session, " LOGQ_TIME " AS time,"
		       " snippet(requests_fts, -1, char(1), char(2), '...', 12)"
		       " AS snip, requests_fts.rank AS rank"
		       " FROM requests_fts"
		       " JOIN requests r ON r.id = requests_fts.rowid"
		       " LEFT JOIN sessions s ON s.id = r.session_id"
		       " WHERE requests_fts MATCH ?");
	logq_where(&c->f, false, &sql);
	buf_adds(&sql, " ORDER BY requests_fts.rank LIMIT ?");
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (sqlite3_bind_text(st, ++i, c->fts.ptr, -1, SQLITE_STATIC) !=
			SQLITE_OK ||
		logq_bind(&c->f, st, &i) != SQLITE_OK ||
		sqlite3_bind_int64(st, ++i, c->limit) != SQLITE_OK) {
		ret = db_fail(c, "read");
		goto out;
	}
	ret = print_rows(c, st, 4, "MATCH");
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return ret;
}

/* ==== show ==== */

static bool
is_text_section(const char *name)
{
	return strcmp(name, "system") == 0 || strcmp(name, "prompt") == 0 ||
		strcmp(name, "response") == 0;
}

/* Every column that is not NULL, one a line, then the texts. */
static void
show_block(struct buf *b, sqlite3_stmt *st, const struct cols *k)
{
	static const char *const texts[] = { "system", "prompt", "response" };
	const char *name;
	size_t i, len;
	int col;

	for (col = 0; col < k->n; col++) {
		name = sqlite3_column_name(st, col);
		if (col_null(st, col) || is_text_section(name))
			continue;
		buf_addf(b, "%-17s ", name);
		value_text(b, st, col);
		buf_addch(b, '\n');
		if (strcmp(name, "session_id") == 0 &&
			!col_null(st, k->session))
			buf_addf(b, "%-17s %s\n", "session",
				col_text(st, k->session));
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		col = col_find(st, 0, k->n, texts[i]);
		if (col_null(st, col) || sqlite3_column_bytes(st, col) == 0)
			continue;
		buf_addf(b, "--- %s\n", texts[i]);
		len = b->len;
		value_text(b, st, col);
		if (b->len > len && b->ptr[b->len - 1] != '\n')
			buf_addch(b, '\n');
	}
}

/* A positive request id, strictly digits. */
static bool
parse_id(const char *s, sqlite3_int64 *id)
{
	sqlite3_int64 v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*id = v;
	return v > 0;
}

static enum llm_status
run_show(struct ctx *c)
{
	static const char cols_sql[] = "SELECT r.*, s.name AS session"
				       " FROM requests r"
				       " LEFT JOIN sessions s"
				       " ON s.id = r.session_id";
	const char *arg = c->o->args[0];
	struct buf sql = BUF_INIT, group = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret = LLM_OK;
	struct cols k;
	bool last = c->id == 0;
	int rc, n = 0;

	buf_adds(&sql, cols_sql);
	buf_adds(&sql, last ? " WHERE r.id = (SELECT r.id FROM requests r"
			      " ORDER BY " LOGQ_TIME " DESC, r.id DESC"
			      " LIMIT 1)" :
			      " WHERE r.id = ?");
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (!last)
		sqlite3_bind_int64(st, 1, c->id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = db_fail(c, "read");
		goto out;
	}
	if (rc == SQLITE_DONE) {
		if (last)
			buf_setf(c->err, "the log at '%s' has no requests yet",
				c->path);
		else
			buf_setf(c->err, "no request %s in the log; see "
					 "'llm-log list'",
				arg);
		ret = LLM_ERR_DATA;
		goto out;
	}
	cols_find(st, 1, &k);
	if (!col_null(st, k.group_id)) {
		/* a compare or chain run: all of it, in step order */
		buf_adds(&group, col_text(st, k.group_id));
		sqlite3_finalize(st);
		st = NULL;
		buf_reset(&sql);
		buf_adds(&sql, cols_sql);
		buf_adds(&sql, " WHERE r.group_id = ? ORDER BY r.step, r.id");
		if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
			goto out;
		sqlite3_bind_text(st, 1, group.ptr, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st), n++) {
		if (c->o->json) {
			row_json(&c->out.b, st, &k);
			continue;
		}
		if (n)
			buf_addch(&c->out.b, '\n');
		show_block(&c->out.b, st, &k);
		out_flush(&c->out, false);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(c, "read");
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	buf_release(&group);
	return ret;
}

/* ==== sessions ==== */

static enum llm_status
sessions_list(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	struct table t;
	struct buf b = BUF_INIT;
	enum llm_status ret;
	int rc, n = 0;

	table_init(&t, 4);
	t.right[2] = true;
	table_add(&t, "NAME");
	table_add(&t, "MODEL");
	table_add(&t, "TURNS");
	table_add(&t, "LAST_USED");
	ret = prepare(c,
		"SELECT s.name, s.model, s.system, (SELECT count(*)"
		" FROM messages m WHERE m.session_id = s.id"
		" AND m.role = 'user') AS turns, s.created_at, s.updated_at,"
		" strftime('%Y-%m-%dT%H:%M:%fZ', s.updated_at)"
		" FROM sessions s ORDER BY 7 DESC, s.id DESC",
		&st);
	if (ret != LLM_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (c->o->json) {
			buf_adds(&c->out.b, "{\"name\":");
			value_json(&c->out.b, st, 0);
			buf_adds(&c->out.b, ",\"model\":");
			value_json(&c->out.b, st, 1);
			buf_adds(&c->out.b, ",\"system\":");
			value_json(&c->out.b, st, 2);
			buf_adds(&c->out.b, ",\"turns\":");
			value_json(&c->out.b, st, 3);
			buf_adds(&c->out.b, ",\"created_at\":");
			value_json(&c->out.b, st, 4);
			buf_adds(&c->out.b, ",\"updated_at\":");
			value_json(&c->out.b, st, 5);
			buf_adds(&c->out.b, "}\n");
			continue;
		}
		table_add(&t, col_text(st, 0));
		table_add(&t, col_null(st, 1) ? "-" : col_text(st, 1));
		table_add(&t, col_text(st, 3));
		buf_reset(&b);
		logview_minute(&b, col_text(st, 6));
		table_add(&t, b.ptr);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(c, "read");
	else if (n && !c->o->json)
		table_render(&t, &c->out.b);
out:
	sqlite3_finalize(st);
	table_release(&t);
	buf_release(&b);
	return ret;
}

static enum llm_status
no_session(struct ctx *c, const char *name)
{
	buf_setf(c->err, "no session '%s'; see 'llm-log sessions'", name);
	return LLM_ERR_DATA;
}

static enum llm_status
sessions_show(struct ctx *c, const char *name)
{
	sqlite3_stmt *st = NULL, *ms = NULL;
	struct buf *b = &c->out.b;
	enum llm_status ret;
	sqlite3_int64 sid;
	int rc, n = 0;

	ret = prepare(c,
		"SELECT s.id, s.name, s.model, s.system, s.created_at,"
		" s.updated_at, (SELECT count(*) FROM messages m"
		" WHERE m.session_id = s.id AND m.role = 'user'),"
		" strftime('%Y-%m-%dT%H:%M:%fZ', s.created_at),"
		" strftime('%Y-%m-%dT%H:%M:%fZ', s.updated_at)"
		" FROM sessions s WHERE s.name = ?",
		&st);
	if (ret != LLM_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = no_session(c, name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = db_fail(c, "read");
		goto out;
	}
	sid = sqlite3_column_int64(st, 0);
	if ((ret = prepare(c,
		     "SELECT role, content, request_id, created_at"
		     " FROM messages WHERE session_id = ? ORDER BY id",
		     &ms)) != LLM_OK)
		goto out;
	sqlite3_bind_int64(ms, 1, sid);
	if (c->o->json) {
		buf_adds(b, "{\"name\":");
		value_json(b, st, 1);
		buf_adds(b, ",\"model\":");
		value_json(b, st, 2);
		buf_adds(b, ",\"system\":");
		value_json(b, st, 3);
		buf_adds(b, ",\"turns\":");
		value_json(b, st, 6);
		buf_adds(b, ",\"created_at\":");
		value_json(b, st, 4);
		buf_adds(b, ",\"updated_at\":");
		value_json(b, st, 5);
		buf_adds(b, ",\"messages\":[");
	} else {
		buf_addf(b, "session  %s\nmodel    %s\nturns    %s\nstarted  ",
			col_text(st, 1),
			col_null(st, 2) ? "-" : col_text(st, 2),
			col_text(st, 6));
		logview_minute(b, col_text(st, 7));
		buf_adds(b, "\nused     ");
		logview_minute(b, col_text(st, 8));
		buf_addch(b, '\n');
		if (!col_null(st, 3))
			buf_addf(b, "\n## system\n%s\n", col_text(st, 3));
	}
	while ((rc = sqlite3_step(ms)) == SQLITE_ROW) {
		if (c->o->json) {
			buf_adds(b, n++ ? ",{\"role\":" : "{\"role\":");
			value_json(b, ms, 0);
			buf_adds(b, ",\"content\":");
			value_json(b, ms, 1);
			buf_adds(b, ",\"request_id\":");
			value_json(b, ms, 2);
			buf_adds(b, ",\"created_at\":");
			value_json(b, ms, 3);
			buf_addch(b, '}');
		} else {
			buf_addf(b, "\n## %s\n", col_text(ms, 0));
			value_text(b, ms, 1);
			if (b->len && b->ptr[b->len - 1] != '\n')
				buf_addch(b, '\n');
		}
		out_flush(&c->out, false);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(c, "read");
	else if (c->o->json)
		buf_adds(b, "]}\n");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ms);
	return ret;
}

static enum llm_status
sessions_rm(struct ctx *c, const char *name)
{
	sqlite3_stmt *st = NULL;
	enum llm_status ret;

	if ((ret = prepare(c, "DELETE FROM sessions WHERE name = ?", &st)))
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_fail(c, "write");
	else if (sqlite3_changes(c->db) == 0)
		ret = no_session(c, name);
	sqlite3_finalize(st);
	return ret;
}

static enum llm_status
sessions_rename(struct ctx *c, const char *from, const char *to)
{
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	int rc;

	if (*to == '\0') {
		buf_setf(c->err, "the new name of session '%s' is empty", from);
		return LLM_ERR_USAGE;
	}
	ret = prepare(c, "UPDATE sessions SET name = ?2 WHERE name = ?1", &st);
	if (ret != LLM_OK)
		return ret;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		buf_setf(c->err, "session '%s' already exists; remove it or "
				 "choose another name",
			to);
		ret = LLM_ERR_DATA;
	} else if (rc != SQLITE_DONE) {
		ret = db_fail(c, "write");
	} else if (sqlite3_changes(c->db) == 0) {
		ret = no_session(c, from);
	}
	sqlite3_finalize(st);
	return ret;
}

static enum llm_status
run_sessions(struct ctx *c)
{
	const char *sub = c->o->nargs ? c->o->args[0] : "list";

	if (strcmp(sub, "list") == 0)
		return sessions_list(c);
	if (strcmp(sub, "show") == 0)
		return sessions_show(c, c->o->args[1]);
	if (strcmp(sub, "rm") == 0)
		return sessions_rm(c, c->o->args[1]);
	return sessions_rename(c, c->o->args[1], c->o->args[2]);
}

/* ==== stats ==== */

static enum llm_status
run_stats(struct ctx *c)
{
	const char *by = c->o->by ? c->o->by : "model";
	struct logstats s;
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	char day[11];
	const char *key;
	bool has_day;
	int rc, i = 0;

	logstats_init(&s, by);
	/* Only columns of requests_time, so that it covers the scan. */
	buf_adds(&sql, strcmp(by, "provider") == 0 ? "SELECT r.provider" :
							   "SELECT r.model");
	buf_adds(&sql, ", r.created_at, r.status, r.latency_ms, r.ttft_ms,"
		       " r.input_tokens, r.output_tokens, r.cost_usd"
		       " FROM requests r WHERE 1");
	logq_where(&c->f, true, &sql);
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (logq_bind(&c->f, st, &i) != SQLITE_OK) {
		ret = db_fail(c, "read");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		has_day = logq_day(col_text(st, 1), day);
		key = strcmp(by, "day") == 0 ? (has_day ? day : NULL) :
					       col_text(st, 0);
		logstats_add(&s, key, has_day ? day : NULL, col_text(st, 2),
			col_long(st, 3), col_long(st, 4), col_long(st, 5),
			col_long(st, 6), col_double(st, 7));
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(c, "read");
		goto out;
	}
	logstats_finish(&s);
	if (c->o->json) {
		logstats_json(&s, &c->out.b);
	} else {
		logstats_text(&s, &c->out.b);
		if (c->o->tty && s.days.n) {
			buf_addch(&c->out.b, '\n');
			logstats_chart(&s, c->o->cost, CHART_DAYS, &c->out.b);
		}
	}
out:
	sqlite3_finalize(st);
	logstats_release(&s);
	buf_release(&sql);
	return ret;
}

/* ==== export ==== */

/* The first n columns of a row as a CSV line (RFC 4180). */
static void
csv_row(struct buf *b, sqlite3_stmt *st, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			csv_field(b, col_text(st, i),
				(size_t)sqlite3_column_bytes(st, i));
			break;
		default:
			value_text(b, st, i);
			buf_addch(b, ',');
		}
	}
	csv_end_row(b);
}

static enum llm_status
run_export(struct ctx *c)
{
	bool csv = c->o->format == NULL || strcmp(c->o->format, "csv") == 0;
	struct buf sql = BUF_INIT, *b = &c->out.b;
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	struct cols k;
	int rc, i = 0;

	buf_adds(&sql, "SELECT r.* FROM requests r WHERE 1");
	logq_where(&c->f, false, &sql);
	buf_adds(&sql, " ORDER BY r.id");
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (logq_bind(&c->f, st, &i) != SQLITE_OK) {
		ret = db_fail(c, "read");
		goto out;
	}
	cols_find(st, 0, &k);
	if (csv) {
		for (i = 0; i < k.n; i++)
			csv_str(b, sqlite3_column_name(st, i));
		csv_end_row(b);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && c->out.st == LLM_OK) {
		if (csv)
			csv_row(b, st, k.n);
		else
			row_json(b, st, &k);
		out_flush(&c->out, false);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_fail(c, "read");
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return ret;
}

/* ==== prune ==== */

static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

static enum llm_status
run_prune(struct ctx *c)
{
	char cutoff[LOGQ_TIME_LEN + 1] = "";
	struct buf cond = BUF_INIT, sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret = LLM_OK;
	sqlite3_int64 n = 0;
	double bytes = 0;
	bool tx = false;
	int i = 0;

	if (c->o->older_than &&
		!logq_time(c->o->older_than, c->now, cutoff, c->err))
		return LLM_ERR_USAGE;
	buf_adds(&cond, "(0");
	if (cutoff[0])
		buf_adds(&cond, " OR " LOGQ_TIME " < ?");
	if (c->o->keep >= 0)
		buf_adds(&cond, " OR r.id NOT IN (SELECT r.id FROM requests r"
				" ORDER BY " LOGQ_TIME " DESC, r.id DESC"
				" LIMIT ?)");
	buf_addch(&cond, ')');

	if (!c->o->dry_run) {
		if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			SQLITE_OK) {
			ret = db_fail(c, "write");
			goto out;
		}
		tx = true;
	}
	buf_setf(&sql, "SELECT count(*), total("
		       "coalesce(length(CAST(r.system AS BLOB)), 0) + "
		       "coalesce(length(CAST(r.prompt AS BLOB)), 0) + "
		       "coalesce(length(CAST(r.response AS BLOB)), 0) + "
		       "coalesce(length(CAST(r.error AS BLOB)), 0))"
		       " FROM requests r WHERE %s",
		cond.ptr);
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	if (cutoff[0])
		sqlite3_bind_text(st, ++i, cutoff, -1, SQLITE_STATIC);
	if (c->o->keep >= 0)
		sqlite3_bind_int64(st, ++i, c->o->keep);
	if (sqlite3_step(st) != SQLITE_ROW) {
		ret = db_fail(c, "read");
		goto out;
	}
	n = sqlite3_column_int64(st, 0);
	bytes = sqlite3_column_double(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (!c->o->dry_run && n > 0) {
		buf_setf(&sql, "DELETE FROM requests WHERE id IN"
			       " (SELECT r.id FROM requests r WHERE %s)",
			cond.ptr);
		if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
			goto out;
		i = 0;
		if (cutoff[0])
			sqlite3_bind_text(st, ++i, cutoff, -1, SQLITE_STATIC);
		if (c->o->keep >= 0)
			sqlite3_bind_int64(st, ++i, c->o->keep);
		if (sqlite3_step(st) != SQLITE_DONE) {
			ret = db_fail(c, "write");
			goto out;
		}
	}
	if (tx && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) !=
			SQLITE_OK) {
		ret = db_fail(c, "write");
		goto out;
	}
	tx = false;
	buf_addf(&c->out.b, "%s %lld request%s, ",
		c->o->dry_run ? "would remove" : "removed", (long long)n,
		plural((long)n));
	logview_bytes(&c->out.b, bytes);
	buf_adds(&c->out.b, " of text\n");
out:
	sqlite3_finalize(st);
	if (tx)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	buf_release(&cond);
	buf_release(&sql);
	return ret;
}

/* ==== reprice ==== */

/* llm_cost(input_tokens, output_tokens, cached_tokens) at the prices of
 * the model in the function's user data; NULL without tokens. */
static void
cost_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const struct model *m = sqlite3_user_data(cx);
	long cached = 0;
	double v;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
		sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(cx);
		return;
	}
	if (sqlite3_value_type(argv[2]) != SQLITE_NULL)
		cached = (long)sqlite3_value_int64(argv[2]);
	v = registry_cost(m, (long)sqlite3_value_int64(argv[0]),
		(long)sqlite3_value_int64(argv[1]), cached > 0 ? cached : 0);
	if (v < 0)
		sqlite3_result_null(cx);
	else
		sqlite3_result_double(cx, v);
}

/* The model whose prices apply: PROVIDER/MODEL as sent, else the
 * reference given; NULL if neither is configured with prices. */
static const struct model *
price_model(const struct registry *reg, const char *model,
	const char *provider, const char *provider_model)
{
	struct buf ref = BUF_INIT;
	const struct model *m = NULL;

	if (provider && provider_model) {
		buf_addf(&ref, "%s/%s", provider, provider_model);
		m = registry_model(reg, ref.ptr);
	}
	if ((m == NULL || !m->has_cost) && model)
		m = registry_model(reg, model);
	buf_release(&ref);
	return m && m->has_cost ? m : NULL;
}

struct price_group {
	char *model, *provider, *provider_model;
	sqlite3_int64 rows, priceable;
};

static void
bind_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Reprice (or, dry, count) the rows of one group; *changed gets how
 * many changed. */
static enum llm_status
reprice_group(struct ctx *c, const struct price_group *g,
	const struct model *m, sqlite3_int64 *changed)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret;
	int i = 3;

	if (sqlite3_create_function(c->db, "llm_cost", 3,
		    SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)m, cost_fn,
		    NULL, NULL) != SQLITE_OK)
		return db_fail(c, "write");
	buf_adds(&sql, c->o->dry_run ?
			       "SELECT count(*) FROM requests r" :
			       "UPDATE requests AS r SET cost_usd = llm_cost("
			       "r.input_tokens, r.output_tokens,"
			       " r.cached_tokens)");
	buf_adds(&sql, " WHERE r.model IS ?1 AND r.provider IS ?2"
		       " AND r.provider_model IS ?3"
		       " AND r.input_tokens IS NOT NULL"
		       " AND r.output_tokens IS NOT NULL"
		       " AND r.cost_usd IS NOT llm_cost(r.input_tokens,"
		       " r.output_tokens, r.cached_tokens)");
	logq_where(&c->f, false, &sql);
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	bind_or_null(st, 1, g->model);
	bind_or_null(st, 2, g->provider);
	bind_or_null(st, 3, g->provider_model);
	logq_bind(&c->f, st, &i);
	if (c->o->dry_run) {
		if (sqlite3_step(st) != SQLITE_ROW) {
			ret = db_fail(c, "read");
			goto out;
		}
		*changed = sqlite3_column_int64(st, 0);
	} else {
		if (sqlite3_step(st) != SQLITE_DONE) {
			ret = db_fail(c, "write");
			goto out;
		}
		*changed = sqlite3_changes(c->db);
	}
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return ret;
}

static enum llm_status
run_reprice(struct ctx *c)
{
	struct price_group *g = NULL;
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	enum llm_status ret = LLM_OK;
	const struct model *m;
	sqlite3_int64 changed = 0, same = 0, unpriced = 0, n;
	size_t ng = 0, alloc = 0, j;
	bool tx = false;
	int rc, i = 0;

	if (!c->o->dry_run) {
		if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			SQLITE_OK) {
			ret = db_fail(c, "write");
			goto out;
		}
		tx = true;
	}
	buf_adds(&sql, "SELECT r.model, r.provider, r.provider_model,"
		       " count(*), total(r.input_tokens IS NOT NULL"
		       " AND r.output_tokens IS NOT NULL)"
		       " FROM requests r WHERE 1");
	logq_where(&c->f, false, &sql);
	buf_adds(&sql, " GROUP BY 1, 2, 3");
	if ((ret = prepare(c, sql.ptr, &st)) != LLM_OK)
		goto out;
	logq_bind(&c->f, st, &i);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		g = xgrowarray(g, &alloc, ng + 1, sizeof(*g));
		g[ng].model = xstrdup_or_null(col_text(st, 0));
		g[ng].provider = xstrdup_or_null(col_text(st, 1));
		g[ng].provider_model = xstrdup_or_null(col_text(st, 2));
		g[ng].rows = sqlite3_column_int64(st, 3);
		g[ng].priceable = (sqlite3_int64)sqlite3_column_double(st, 4);
		ng++;
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(c, "read");
		goto out;
	}
	for (j = 0; j < ng; j++) {
		m = price_model(c->reg, g[j].model, g[j].provider,
			g[j].provider_model);
		if (m == NULL) {
			msg_debug(1, "no prices for '%s'",
				g[j].model ? g[j].model : "(null)");
			unpriced += g[j].rows;
			continue;
		}
		n = 0;
		if ((ret = reprice_group(c, &g[j], m, &n)) != LLM_OK)
			goto out;
		changed += n;
		same += g[j].priceable - n;
		unpriced += g[j].rows - g[j].priceable;
	}
	if (tx && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) !=
			SQLITE_OK) {
		ret = db_fail(c, "write");
		goto out;
	}
	tx = false;
	buf_addf(&c->out.b,
		"%s %lld request%s (%lld unchanged, %lld without a price)\n",
		c->o->dry_run ? "would reprice" : "repriced",
		(long long)changed, plural((long)changed), (long long)same,
		(long long)unpriced);
out:
	sqlite3_finalize(st);
	if (tx)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	for (j = 0; j < ng; j++) {
		free(g[j].model);
		free(g[j].provider);
		free(g[j].provider_model);
	}
	free(g);
	buf_release(&sql);
	return ret;
}

/* ==== path, backup ==== */

static enum llm_status
run_path(struct ctx *c)
{
	buf_addf(&c->out.b, "%s\n", c->path);
	return LLM_OK;
}

/* A consistent copy: SQLite's online backup, in one read transaction, to
 * a temporary file that is renamed into place. */
static enum llm_status
run_backup(struct ctx *c)
{
	const char *dest = c->o->args[0];
	struct buf tmp = BUF_INIT;
	sqlite3 *db = NULL;
	sqlite3_backup *bk;
	enum llm_status ret = LLM_OK;
	int fd, rc;

	/* mkstemp(3)'s template: the copy is renamed into place whole. */
	buf_addf(&tmp, "%s.XXXXXX", dest);
	fd = mkstemp(tmp.ptr);
	if (fd < 0) {
		buf_setf(c->err, "cannot write backup '%s': %s", dest,
			strerror(errno));
		ret = LLM_ERR_IO;
		goto out;
	}
	close(fd);
	rc = sqlite3_open_v2(tmp.ptr, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		bk = sqlite3_backup_init(db, "main", c->db, "main");
		if (bk) {
			rc = sqlite3_backup_step(bk, -1);
			sqlite3_backup_finish(bk);
		}
		rc = sqlite3_errcode(db);
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		buf_setf(c->err, "cannot write backup '%s': %s", dest,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		ret = LLM_ERR_IO;
		goto out;
	}
	if (sqlite3_close(db) != SQLITE_OK || rename(tmp.ptr, dest) < 0) {
		db = NULL;
		buf_setf(c->err, "cannot write backup '%s': %s", dest,
			strerror(errno));
		ret = LLM_ERR_IO;
		goto out;
	}
	db = NULL;
	buf_reset(&tmp);
out:
	sqlite3_close(db);
	if (tmp.len)
		unlink(tmp.ptr);
	buf_release(&tmp);
	return ret;
}

/* ==== the commands ==== */

struct verb {
	const char *name;
	const char *usage; /* the arguments */
	unsigned flags;
	int min, max; /* arguments */
	enum db_mode db;
	enum llm_status (*run)(struct ctx *c);
};

static const struct verb verbs[] = {
	{ "backup", "FILE", 0, 1, 1, DB_READ_MUST, run_backup },
	{ "export", "", F_FILTER | F_FORMAT, 0, 0, DB_READ, run_export },
	{ "list", "", F_LIMIT | F_FILTER | F_JSON, 0, 0, DB_READ, run_list },
	{ "path", "", 0, 0, 0, DB_NONE, run_path },
	{ "prune", "", F_PRUNE | F_DRY, 0, 0, DB_WRITE, run_prune },
	{ "reprice", "", F_FILTER | F_DRY, 0, 0, DB_WRITE, run_reprice },
	{ "search", "TEXT", F_LIMIT | F_FILTER | F_JSON, 1, INT_MAX, DB_READ,
		run_search },
	{ "sessions", "[list | show NAME | rm NAME | rename OLD NEW]", F_JSON,
		0, 3, DB_READ, run_sessions },
	{ "show", "ID|last", F_JSON, 1, 1, DB_READ_MUST, run_show },
	{ "stats", "", F_FILTER | F_BY | F_COST | F_JSON, 0, 0, DB_READ,
		run_stats },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/* The first option given that the command does not take, or NULL. */
static const char *
stray_option(const struct history_opts *o, unsigned flags)
{
	if (o->limit >= 0 && !(flags & F_LIMIT))
		return "-n";
	if (!(flags & F_FILTER)) {
		if (o->model)
			return "--model";
		if (o->provider)
			return "--provider";
		if (o->session)
			return "--session";
		if (o->group)
			return "--group";
		if (o->status)
			return "--status";
		if (o->since)
			return "--since";
		if (o->until)
			return "--until";
	}
	if (o->by && !(flags & F_BY))
		return "--by";
	if (o->cost && !(flags & F_COST))
		return "--cost";
	if (o->format && !(flags & F_FORMAT))
		return "--format";
	if (o->older_than && !(flags & F_PRUNE))
		return "--older-than";
	if (o->keep >= 0 && !(flags & F_PRUNE))
		return "--keep";
	if (o->dry_run && !(flags & F_DRY))
		return "--dry-run";
	if (o->json && !(flags & F_JSON))
		return "--json";
	return NULL;
}

static bool
one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return true;
	return false;
}

/* Check the option values and the arguments; the filter into c->f. */
static enum llm_status
check(struct ctx *c, const struct verb *v, enum db_mode *db)
{
	static const char *const statuses[] = { "ok", "error", "interrupted",
		NULL };
	static const char *const bys[] = { "model", "provider", "day", NULL };
	static const char *const formats[] = { "csv", "jsonl", NULL };
	static const char *const subs[] = { "list", "show", "rm", "rename",
		NULL };
	static const int sub_args[] = { 1, 2, 2, 3 };
	const struct history_opts *o = c->o;
	unsigned flags = v->flags;
	const char *opt, *sub;
	int k;

	*db = v->db;
	if (strcmp(v->name, "sessions") == 0 && o->nargs > 0) {
		sub = o->args[0];
		for (k = 0; subs[k] && strcmp(subs[k], sub) != 0; k++)
			;
		if (subs[k] == NULL) {
			buf_setf(c->err, "unknown sessions command '%s': give "
					 "list, show, rm or rename",
				sub);
			return LLM_ERR_USAGE;
		}
		if (o->nargs != sub_args[k]) {
			buf_setf(c->err, "wrong number of arguments: llm-log "
					 "sessions %s%s",
				sub,
				k == 1 || k == 2 ? " NAME" :
				k == 3		 ? " OLD NEW" :
						   "");
			return LLM_ERR_USAGE;
		}
		if (k == 1)
			*db = DB_READ_MUST;
		if (k >= 2) {
			*db = DB_WRITE_MUST;
			flags &= ~(unsigned)F_JSON;
		}
	} else if (o->nargs < v->min || o->nargs > v->max) {
		buf_setf(c->err, "wrong number of arguments: llm-log %s%s%s",
			v->name, *v->usage ? " " : "", v->usage);
		return LLM_ERR_USAGE;
	}
	if ((opt = stray_option(o, flags)) != NULL) {
		buf_setf(c->err, "option '%s' does not apply to '%s'", opt,
			v->name);
		return LLM_ERR_USAGE;
	}
	if (o->status && !one_of(o->status, statuses)) {
		buf_setf(c->err, "invalid status '%s': give ok, error or "
				 "interrupted",
			o->status);
		return LLM_ERR_USAGE;
	}
	if (o->by && !one_of(o->by, bys)) {
		buf_setf(c->err, "invalid --by '%s': give model, provider or "
				 "day",
			o->by);
		return LLM_ERR_USAGE;
	}
	if (o->format && !one_of(o->format, formats)) {
		buf_setf(c->err, "invalid format '%s': give csv or jsonl",
			o->format);
		return LLM_ERR_USAGE;
	}
	if (strcmp(v->name, "prune") == 0 && !o->older_than && o->keep < 0) {
		buf_setf(c->err, "prune needs --older-than AGE or --keep N");
		return LLM_ERR_USAGE;
	}
	if (strcmp(v->name, "search") == 0) {
		struct buf text = BUF_INIT;
		enum llm_status st;

		join_args(o, 0, &text);
		st = logq_fts(text.ptr, &c->fts, c->err);
		buf_release(&text);
		if (st != LLM_OK)
			return st;
	}
	if (strcmp(v->name, "show") == 0 && strcmp(o->args[0], "last") != 0 &&
		!parse_id(o->args[0], &c->id)) {
		buf_setf(c->err, "invalid request id '%s': give a number or "
				 "'last'",
			o->args[0]);
		return LLM_ERR_USAGE;
	}
	if (o->older_than) {
		char t[LOGQ_TIME_LEN + 1];

		if (!logq_time(o->older_than, c->now, t, c->err))
			return LLM_ERR_USAGE;
	}
	c->f.model = o->model;
	c->f.provider = o->provider;
	c->f.session = o->session;
	c->f.group = o->group;
	c->f.status = o->status;
	if (o->since && !logq_time(o->since, c->now, c->f.since, c->err))
		return LLM_ERR_USAGE;
	if (o->until && !logq_time(o->until, c->now, c->f.until, c->err))
		return LLM_ERR_USAGE;
	c->limit = o->limit < 0 ? DEFAULT_LIMIT : o->limit == 0 ? -1 : o->limit;
	return LLM_OK;
}

/* Open the log as the command needs; *missing when it does not exist
 * and need not. */
static enum llm_status
open_log(struct ctx *c, enum db_mode mode, bool *missing)
{
	struct stat sb;
	enum llm_status st;

	*missing = false;
	if (mode == DB_NONE)
		return LLM_OK;
	if (stat(c->path, &sb) < 0 && errno == ENOENT) {
		if (mode == DB_READ_MUST || mode == DB_WRITE_MUST) {
			buf_setf(c->err, "no log yet at '%s'", c->path);
			return LLM_ERR_DATA;
		}
		buf_setf(c->warn, "no log yet at '%s'", c->path);
		*missing = true;
		return LLM_OK;
	}
	if (mode == DB_READ || mode == DB_READ_MUST)
		st = store_open_readonly(&c->store, c->path, c->err);
	else
		st = store_open(&c->store, c->path, c->err);
	if (st == LLM_OK)
		c->db = store_handle(c->store);
	return st;
}

enum llm_status
history_run(const struct registry *reg, const struct history_opts *o,
	const struct history_sink *sink, struct buf *warn, struct buf *err)
{
	const char *name = o->verb ? o->verb : "list";
	const struct verb *v = NULL;
	struct ctx c;
	enum llm_status st;
	enum db_mode db;
	bool missing;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.reg = reg;
	c.o = o;
	c.path = reg->database ? reg->database : "";
	c.now = o->now ? o->now : time(NULL);
	c.out.sink = sink;
	c.out.b.ptr = buf_empty;
	c.fts.ptr = buf_empty;
	c.warn = warn;
	c.err = err;
	buf_reset(warn);
	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			v = &verbs[i];
	if (v == NULL) {
		buf_setf(err, "unknown command '%s': give list, show, search, "
			      "sessions, stats, export, prune, path, backup or "
			      "reprice",
			name);
		return LLM_ERR_USAGE;
	}
	st = check(&c, v, &db);
	if (st == LLM_OK)
		st = open_log(&c, db, &missing);
	if (st == LLM_OK && !missing)
		st = v->run(&c);
	out_flush(&c.out, true);
	if (st == LLM_OK && c.out.st != LLM_OK) {
		st = c.out.st;
		if (st == LLM_ERR_IO)
			buf_setf(err, "cannot write standard output");
	}
	store_close(c.store);
	buf_release(&c.out.b);
	buf_release(&c.fts);
	return st;
}
