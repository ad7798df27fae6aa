/* store.c - the SQLite log: requests, sessions, messages; see store.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "msg.h"
#include "store.h"
#include "xalloc.h"

struct store {
	sqlite3 *db;
	char *path;
	int wal_frames;       /* frames in the WAL after our last commit */
	sqlite3_stmt *insert; /* INSERT INTO requests, kept for reuse */
	bool warm;            /* store_warm() has run */
};

/*
 * Migrations: migrations[v] takes the schema from version v to v + 1.
 * Append new versions; never edit an applied one.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" model TEXT,"
	" system TEXT,"
	" created_at TEXT NOT NULL"
	"  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	" updated_at TEXT NOT NULL"
	"  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
	"CREATE TABLE requests ("
	" id INTEGER PRIMARY KEY,"
	" created_at TEXT NOT NULL"
	"  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	" tool TEXT,"
	" model TEXT,"
	" provider TEXT,"
	" provider_model TEXT,"
	" session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,"
	" group_id TEXT,"
	" step INTEGER,"
	" system TEXT,"
	" prompt TEXT,"
	" response TEXT,"
	" status TEXT,"
	" error TEXT,"
	" http_status INTEGER,"
	" input_tokens INTEGER,"
	" output_tokens INTEGER,"
	" cached_tokens INTEGER,"
	" tokens_estimated INTEGER NOT NULL DEFAULT 0,"
	" latency_ms INTEGER,"
	" ttft_ms INTEGER,"
	" cost_usd REAL,"
	" finish_reason TEXT,"
	" finish_reason_raw TEXT,"
	" temperature REAL,"
	" max_tokens INTEGER,"
	" attempts INTEGER NOT NULL DEFAULT 1,"
	" response_id TEXT);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL"
	"  REFERENCES sessions(id) ON DELETE CASCADE,"
	" role TEXT NOT NULL,"
	" content TEXT,"
	" request_id INTEGER REFERENCES requests(id) ON DELETE SET NULL,"
	" created_at TEXT NOT NULL"
	"  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
	"CREATE VIRTUAL TABLE requests_fts USING fts5(prompt, response,"
	" content='requests', content_rowid='id');"
	"CREATE TRIGGER requests_ai AFTER INSERT ON requests BEGIN"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	"  VALUES (new.id, new.prompt, new.response);"
	" END;"
	"CREATE TRIGGER requests_ad AFTER DELETE ON requests BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	"  VALUES ('delete', old.id, old.prompt, old.response);"
	" END;"
	"CREATE TRIGGER requests_au AFTER UPDATE ON requests BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	"  VALUES ('delete', old.id, old.prompt, old.response);"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	"  VALUES (new.id, new.prompt, new.response);"
	" END;"
	"CREATE INDEX requests_created_at ON requests(created_at);"
	"CREATE INDEX requests_model ON requests(model);"
	"CREATE INDEX requests_provider ON requests(provider);"
	"CREATE INDEX requests_session_id ON requests(session_id);"
	"CREATE INDEX requests_group_id ON requests(group_id);"
	"CREATE INDEX requests_status ON requests(status);"
	"CREATE INDEX messages_session_id ON messages(session_id);"
	"CREATE INDEX messages_request_id ON messages(request_id);"
	"CREATE INDEX sessions_updated_at ON sessions(updated_at);",

	/*
	 * 1 -> 2: indexes for llm-log on a large log.  Time is the
	 * normalized created_at (STORE_TIME), so that rows whose created_at
	 * is "YYYY-MM-DD HH:MM:SS" sort and filter with ours.
	 * requests_time covers every column that llm-log stats reads, so
	 * that stats scans the index and never the rows (created_at is in it
	 * because SQLite before 3.41 does not take the expression from the
	 * index); (model, time) and
	 * the like let list -n 20 --model X stop after 20 rows.  They replace
	 * the single-column indexes on created_at, model, provider and
	 * status.  The index on group_id leaves out the rows without one,
	 * most of them, so that logging such a row does not touch it (the
	 * one on session_id stays whole: it is the narrowest index, which
	 * SQLite scans for "SELECT id FROM requests", in id order as
	 * before).  An update re-indexes the text only when the text
	 * changes, so that reprice does not rewrite the full-text index.
	 */
	"DROP INDEX requests_created_at;"
	"DROP INDEX requests_model;"
	"DROP INDEX requests_provider;"
	"DROP INDEX requests_status;"
	"CREATE INDEX requests_time ON requests(" STORE_TIME ", model,"
	" provider, status, latency_ms, ttft_ms, input_tokens, output_tokens,"
	" cost_usd, created_at);"
	"CREATE INDEX requests_model_time ON requests(model, " STORE_TIME ");"
	"CREATE INDEX requests_provider_time ON requests(provider, " STORE_TIME
	");"
	"CREATE INDEX requests_status_time ON requests(status, " STORE_TIME
	");"
	"DROP INDEX requests_group_id;"
	"CREATE INDEX requests_group_id ON requests(group_id)"
	" WHERE group_id IS NOT NULL;"
	"DROP TRIGGER requests_au;"
	"CREATE TRIGGER requests_au AFTER UPDATE OF prompt, response"
	" ON requests BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	"  VALUES ('delete', old.id, old.prompt, old.response);"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	"  VALUES (new.id, new.prompt, new.response);"
	" END;",

	/*
	 * 2 -> 3: whether the answer came from the cache, and the group
	 * (route) that chose the model: the arm of a weighted group, the
	 * member a fallback reached, or a shadow.
	 */
	"ALTER TABLE requests ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN route TEXT;",

	/*
	 * 3 -> 4: the full-text index is brought up to date in batches
	 * (store_index: the rows above the newest one indexed) rather than
	 * by a trigger on every insert, which cost a logged request more
	 * than all the rest of its logging; so the triggers on delete and
	 * update touch only rows that are indexed (those in the index's
	 * docsize table).  And the tables of the state that processes share
	 * (guard.h) and of the cache (cache.h), until now made on their
	 * first use, are made here (IF NOT EXISTS: older logs may have
	 * them).
	 */
	"DROP TRIGGER requests_ai;"
	"DROP TRIGGER requests_ad;"
	"CREATE TRIGGER requests_ad AFTER DELETE ON requests"
	" WHEN EXISTS (SELECT 1 FROM requests_fts_docsize WHERE id = old.id)"
	" BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	"  VALUES ('delete', old.id, old.prompt, old.response);"
	" END;"
	"DROP TRIGGER requests_au;"
	"CREATE TRIGGER requests_au AFTER UPDATE OF prompt, response"
	" ON requests"
	" WHEN EXISTS (SELECT 1 FROM requests_fts_docsize WHERE id = old.id)"
	" BEGIN"
	" INSERT INTO requests_fts(requests_fts, rowid, prompt, response)"
	"  VALUES ('delete', old.id, old.prompt, old.response);"
	" INSERT INTO requests_fts(rowid, prompt, response)"
	"  VALUES (new.id, new.prompt, new.response);"
	" END;"
	/* guard.h: requests and tokens sent, slots held, money reserved and
	 * spent, provider cooldowns, rotation counters */
	"CREATE TABLE IF NOT EXISTS guard_events ("
	" id INTEGER PRIMARY KEY,"
	" at_ms INTEGER NOT NULL,"
	" provider TEXT NOT NULL,"
	" model TEXT NOT NULL,"
	" tokens INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS guard_events_provider"
	" ON guard_events(provider, at_ms);"
	"CREATE INDEX IF NOT EXISTS guard_events_model"
	" ON guard_events(model, at_ms);"
	"CREATE TABLE IF NOT EXISTS guard_slots ("
	" id INTEGER PRIMARY KEY,"
	" provider TEXT NOT NULL,"
	" model TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" started_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS guard_slots_provider"
	" ON guard_slots(provider);"
	"CREATE INDEX IF NOT EXISTS guard_slots_model ON guard_slots(model);"
	"CREATE TABLE IF NOT EXISTS guard_ledger ("
	" id INTEGER PRIMARY KEY,"
	" at_ms INTEGER NOT NULL,"
	" day TEXT NOT NULL,"
	" month TEXT NOT NULL,"
	" provider TEXT NOT NULL,"
	" model TEXT NOT NULL,"
	" cost_usd REAL NOT NULL,"
	" open INTEGER NOT NULL DEFAULT 1,"
	" pid INTEGER);"
	"CREATE INDEX IF NOT EXISTS guard_ledger_day"
	" ON guard_ledger(day, provider, cost_usd);"
	"CREATE INDEX IF NOT EXISTS guard_ledger_month"
	" ON guard_ledger(month, provider, cost_usd);"
	"CREATE TABLE IF NOT EXISTS guard_health ("
	" provider TEXT PRIMARY KEY,"
	" failed_at_ms INTEGER NOT NULL,"
	" until_ms INTEGER NOT NULL,"
	" reason TEXT);"
	"CREATE TABLE IF NOT EXISTS guard_counters ("
	" key TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"
	/* cache.h: answers by the SHA-256 key of their request */
	"CREATE TABLE IF NOT EXISTS cache ("
	" key TEXT PRIMARY KEY,"
	" created_at TEXT NOT NULL"
	"  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	" provider TEXT,"
	" model_id TEXT,"
	" response TEXT NOT NULL,"
	" input_tokens INTEGER,"
	" output_tokens INTEGER,"
	" cached_tokens INTEGER,"
	" finish_reason TEXT,"
	" finish_reason_raw TEXT,"
	" response_id TEXT);"
	"CREATE INDEX IF NOT EXISTS cache_created_at ON cache(created_at);",
};

#define NMIGRATIONS ((long)(sizeof(migrations) / sizeof(migrations[0])))
#define MAX_TRIES   8
#define BUSY_MS     10000 /* how long a statement waits for a lock */
/* The most requests that store_warm() adds to the full-text index. */
#define WARM_INDEX_MAX 64

/*
 * The WAL is checkpointed and truncated by a process while its request
 * waits, once it holds more than half this many frames (store_warm), and
 * by a writer that closes the log without having waited, once it holds
 * more (4 KiB pages; one request writes about a dozen).  Each process that opens the log first rebuilds
 * the WAL's index by reading the whole WAL, so the WAL must stay small:
 * left to itself it would never be reset across processes and every
 * open would read all of it.
 */
#define CKPT_FRAMES 128

/* Collects the parameters of one statement, keeping the first error. */
struct binder {
	sqlite3_stmt *st;
	int i;
	int rc;
};

static void
bind_rc(struct binder *b, int rc)
{
	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

static void
bind_str(struct binder *b, const char *v)
{
	b->i++;
	bind_rc(b, v ? sqlite3_bind_text(b->st, b->i, v, -1, SQLITE_STATIC) :
		       sqlite3_bind_null(b->st, b->i));
}

/* v is stored when it is at least min, else NULL. */
static void
bind_long(struct binder *b, sqlite3_int64 v, sqlite3_int64 min)
{
	b->i++;
	bind_rc(b, v >= min ? sqlite3_bind_int64(b->st, b->i, v) :
			      sqlite3_bind_null(b->st, b->i));
}

/* Negative (and NaN) values are NULL. */
static void
bind_real(struct binder *b, double v)
{
	b->i++;
	bind_rc(b, v >= 0 ? sqlite3_bind_double(b->st, b->i, v) :
			    sqlite3_bind_null(b->st, b->i));
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

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Record the connection's last error as the reason. */
static void
set_why(struct buf *why, sqlite3 *db, int rc)
{
	buf_setf(why, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static enum llm_status
fail(struct buf *err, const char *verb, const char *path, const char *why)
{
	if (err)
		buf_setf(err, "cannot %s log '%s': %s", verb, path, why);
	return LLM_ERR_IO;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* ==== opening ==== */

/* mkdir dir, mode 0700, unless it is a directory already; -1 and why. */
static int
make_dir(const char *dir, struct buf *why)
{
	struct stat sb;
	int e;

	if (mkdir(dir, 0700) == 0)
		return 0;
	e = errno;
	if (stat(dir, &sb) < 0) {
		buf_setf(why, "cannot create directory '%s': %s", dir,
			strerror(e));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		buf_setf(why, "'%s' is not a directory", dir);
		return -1;
	}
	return 0;
}

/* mkdir -p of the directory part of path; -1 and why. */
static int
make_parents(const char *path, struct buf *why)
{
	struct buf dir = BUF_INIT;
	char *p, *slash, c;
	int ret = 0;

	buf_adds(&dir, path);
	slash = strrchr(dir.ptr, '/');
	if (slash == NULL || slash == dir.ptr)
		goto out;
	*slash = '\0';
	for (p = dir.ptr + 1; ret == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			c = *p;
			*p = '\0';
			ret = make_dir(dir.ptr, why);
			*p = c;
		}
		if (*p == '\0')
			break;
	}
out:
	buf_release(&dir);
	return ret;
}

/* A -wal or -shm file is made no more open than the database itself. */
static void
tighten(const char *path, const char *suffix, mode_t dbmode)
{
	struct buf name = BUF_INIT;
	struct stat sb;

	buf_setf(&name, "%s%s", path, suffix);
	if (stat(name.ptr, &sb) == 0 && (sb.st_mode & 0777 & ~dbmode))
		chmod(name.ptr, sb.st_mode & dbmode & 0777);
	buf_release(&name);
}

static int
user_version(sqlite3 *db, long *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = (long)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Bring the schema up to date in one IMMEDIATE transaction. */
static int
migrate(sqlite3 *db, struct buf *why)
{
	struct buf sql = BUF_INIT;
	long v = 0;
	int rc;

	rc = user_version(db, &v);
	if (rc != SQLITE_OK || v >= NMIGRATIONS)
		goto out;
	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		goto out;
	rc = user_version(db, &v); /* another process may have been first */
	for (; rc == SQLITE_OK && v < NMIGRATIONS; v++) {
		msg_debug(2, "log: migrating to version %ld", v + 1);
		rc = exec(db, migrations[v]);
		if (rc == SQLITE_OK) {
			buf_setf(&sql, "PRAGMA user_version = %ld", v + 1);
			rc = exec(db, sql.ptr);
		}
	}
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
out:
	if (rc != SQLITE_OK) {
		set_why(why, db, rc);
		if (!sqlite3_get_autocommit(db))
			exec(db, "ROLLBACK");
	}
	buf_release(&sql);
	return rc;
}

static int
setup(sqlite3 *db, struct buf *why)
{
	int rc;

	rc = exec(db, "PRAGMA journal_mode = WAL");
	if (rc == SQLITE_OK)
		rc = exec(db, "PRAGMA synchronous = NORMAL");
	if (rc == SQLITE_OK)
		rc = exec(db, "PRAGMA foreign_keys = ON");
	if (rc != SQLITE_OK) {
		set_why(why, db, rc);
		return rc;
	}
	return migrate(db, why);
}

/* After each commit: remember the WAL's size, and checkpoint (without
 * resetting) as SQLite's default hook does, for long-lived writers. */
static int
wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	struct store *s = ud;

	s->wal_frames = frames;
	if (frames >= 1000)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
			NULL, NULL);
	return SQLITE_OK;
}

static enum llm_status
open_db(struct store **sp, const char *path, bool readonly, struct buf *err)
{
	struct store *s = NULL;
	struct buf why = BUF_INIT;
	struct stat sb;
	sqlite3 *db = NULL;
	enum llm_status st = LLM_OK;
	long v = 0;
	int fd, rc, tries;

	*sp = NULL;
	if (path == NULL || *path == '\0') {
		st = fail(err, "open", "", "no path given");
		goto out;
	}
	if (readonly) {
		if (stat(path, &sb) < 0) {
			st = fail(err, "open", path, strerror(errno));
			goto out;
		}
	} else if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		access(path, R_OK | W_OK) < 0) {
		/* (A log that is there and writable costs two calls; else the
		 * open below says what is wrong.) */
		if (make_parents(path, &why) < 0) {
			st = fail(err, "open", path, why.ptr);
			goto out;
		}
		/* Create it ourselves so that it is 0600 from the start. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || fstat(fd, &sb) < 0) {
			st = fail(err, "open", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		/* Closed before SQLite locks it: close() drops fcntl locks. */
		close(fd);
	}

	rc = sqlite3_open_v2(path, &db,
		SQLITE_OPEN_NOMUTEX |
			(readonly ? SQLITE_OPEN_READONLY :
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE),
		NULL);
	if (rc != SQLITE_OK) {
		set_why(&why, db, rc);
		st = fail(err, "open", path, why.ptr);
		goto out;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	/* Leave the WAL for the next writer instead of checkpointing and
	 * syncing on every close: one request, one short transaction. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	for (tries = 0;; tries++) {
		if (readonly) {
			rc = user_version(db, &v);
			if (rc != SQLITE_OK)
				set_why(&why, db, rc);
			else if (v < 1)
				buf_setf(&why, "not an llm log");
		} else {
			rc = setup(db, &why);
		}
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			break;
		nap(tries);
	}
	if (rc != SQLITE_OK || (readonly && v < 1)) {
		st = fail(err, "open", path, why.ptr);
		goto out;
	}
	if (!readonly) {
		tighten(path, "-wal", sb.st_mode);
		tighten(path, "-shm", sb.st_mode);
	}

	s = xcalloc(1, sizeof(*s));
	s->db = db;
	s->path = xstrdup(path);
	if (!readonly)
		sqlite3_wal_hook(db, wal_hook, s);
	db = NULL;
	*sp = s;
out:
	sqlite3_close(db);
	buf_release(&why);
	return st;
}

enum llm_status
store_open(struct store **sp, const char *path, struct buf *err)
{
	return open_db(sp, path, false, err);
}

enum llm_status
store_open_readonly(struct store **sp, const char *path, struct buf *err)
{
	return open_db(sp, path, true, err);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* Never wait for readers here: if one is busy, a later writer
	 * truncates the WAL.  Nor after a request's wait was used to
	 * warm the log: the next one checkpoints while its request waits,
	 * not after its answer. */
	if (s->wal_frames > CKPT_FRAMES && !s->warm) {
		sqlite3_busy_timeout(s->db, 0);
		if (sqlite3_wal_checkpoint_v2(s->db, "main",
			    SQLITE_CHECKPOINT_TRUNCATE, NULL,
			    NULL) != SQLITE_OK)
			msg_debug(2, "log: checkpoint: %s",
				sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(s->insert);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

void *
store_handle(struct store *s)
{
	return s->db;
}

void
store_time(struct buf *out, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	/* (Not strftime(3), which reads the time zone it does not need.) */
	gmtime_r(&t, &tm);
	buf_setf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(int)(ms % 1000));
}

void
store_now(struct buf *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	store_time(out, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ==== logging ==== */

/* The id of session rq->session, created if new. */
static int
session_get(sqlite3 *db, const struct store_request *rq, const char *now,
	sqlite3_int64 *sid)
{
	struct binder b = { NULL, 0, SQLITE_OK };
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT id FROM sessions WHERE name = ?",
		-1, &b.st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	bind_str(&b, rq->session);
	if ((rc = b.rc) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(b.st);
	if (rc == SQLITE_ROW) {
		*sid = sqlite3_column_int64(b.st, 0);
		rc = SQLITE_OK;
		goto out;
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(b.st);
	b.st = NULL;
	b.i = 0;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO sessions (name, model, system, created_at,"
		" updated_at) VALUES (?, ?, ?, ?, ?)",
		-1, &b.st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	bind_str(&b, rq->session);
	bind_str(&b, rq->session_model);
	bind_str(&b, rq->system);
	bind_str(&b, now);
	bind_str(&b, now);
	if ((rc = b.rc) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(b.st);
	if (rc == SQLITE_DONE) {
		*sid = sqlite3_last_insert_rowid(db);
		rc = SQLITE_OK;
	}
out:
	sqlite3_finalize(b.st);
	return rc;
}

/* The INSERT INTO requests, prepared once per connection. */
static int
insert_stmt(struct store *s)
{
	if (s->insert)
		return SQLITE_OK;
	return sqlite3_prepare_v3(s->db,
		"INSERT INTO requests (created_at, tool, model, provider,"
		" provider_model, session_id, group_id, step, system, prompt,"
		" response, status, error, http_status, input_tokens,"
		" output_tokens, cached_tokens, tokens_estimated, latency_ms,"
		" ttft_ms, cost_usd, finish_reason, finish_reason_raw,"
		" temperature, max_tokens, attempts, response_id, cached, route)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		-1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL);
}

static int
request_insert(struct store *s, const struct store_request *rq,
	const char *now, sqlite3_int64 sid, sqlite3_int64 *rid)
{
	struct binder b = { NULL, 0, SQLITE_OK };
	int rc;

	if ((rc = insert_stmt(s)) != SQLITE_OK)
		return rc;
	b.st = s->insert;
	bind_str(&b, now);
	bind_str(&b, rq->tool);
	bind_str(&b, rq->model);
	bind_str(&b, rq->provider);
	bind_str(&b, rq->provider_model);
	bind_long(&b, sid, 1); /* 0: no session */
	bind_str(&b, rq->group_id);
	bind_long(&b, rq->step, 0);
	bind_str(&b, rq->system);
	bind_str(&b, rq->prompt);
	bind_str(&b, rq->response);
	bind_str(&b, rq->status);
	bind_str(&b, rq->error);
	bind_long(&b, rq->http_status, 1);
	bind_long(&b, rq->input_tokens, 0);
	bind_long(&b, rq->output_tokens, 0);
	bind_long(&b, rq->cached_tokens, 0);
	bind_long(&b, rq->tokens_estimated ? 1 : 0, 0);
	bind_long(&b, rq->latency_ms, 0);
	bind_long(&b, rq->ttft_ms, 0);
	bind_real(&b, rq->cost_usd);
	bind_str(&b, rq->finish_reason);
	bind_str(&b, rq->finish_reason_raw);
	bind_real(&b, rq->temperature);
	bind_long(&b, rq->max_tokens, 1);
	bind_long(&b, rq->cached ? 0 : rq->attempts > 0 ? rq->attempts : 1,
		0);
	bind_str(&b, rq->response_id);
	bind_long(&b, rq->cached ? 1 : 0, 0);
	bind_str(&b, rq->route);
	if ((rc = b.rc) == SQLITE_OK)
		rc = sqlite3_step(b.st);
	if (rc == SQLITE_DONE) {
		*rid = sqlite3_last_insert_rowid(s->db);
		rc = SQLITE_OK;
	}
	/* (The bound strings are the caller's: let go of them.) */
	sqlite3_reset(b.st);
	sqlite3_clear_bindings(b.st);
	return rc;
}

static int
message_insert(sqlite3 *db, sqlite3_int64 sid, const char *role,
	const char *content, sqlite3_int64 rid, const char *now)
{
	struct binder b = { NULL, 0, SQLITE_OK };
	int rc;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO messages (session_id, role, content, request_id,"
		" created_at) VALUES (?, ?, ?, ?, ?)",
		-1, &b.st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	bind_long(&b, sid, 1);
	bind_str(&b, role);
	bind_str(&b, content ? content : "");
	bind_long(&b, rid, 1);
	bind_str(&b, now);
	if ((rc = b.rc) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(b.st);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	sqlite3_finalize(b.st);
	return rc;
}

static int
session_touch(sqlite3 *db, sqlite3_int64 sid, const char *model,
	const char *now)
{
	struct binder b = { NULL, 0, SQLITE_OK };
	int rc;

	rc = sqlite3_prepare_v2(db,
		"UPDATE sessions SET updated_at = ?, model = coalesce(?, model)"
		" WHERE id = ?",
		-1, &b.st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	bind_str(&b, now);
	bind_str(&b, model);
	bind_long(&b, sid, 1);
	if ((rc = b.rc) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(b.st);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	sqlite3_finalize(b.st);
	return rc;
}

/* One attempt at the whole transaction; on failure why says why. */
static int
log_tx(struct store *s, const struct store_request *rq, const char *now,
	int64_t *id, struct buf *why)
{
	sqlite3 *db = s->db;
	sqlite3_int64 sid = 0, rid = 0;
	const char *user;
	int rc;

	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK && rq->session)
		rc = session_get(db, rq, now, &sid);
	if (rc == SQLITE_OK)
		rc = request_insert(s, rq, now, sid, &rid);
	if (rc == SQLITE_OK && rq->session && rq->status &&
		strcmp(rq->status, "ok") == 0) {
		user = rq->session_user ? rq->session_user : rq->prompt;
		rc = message_insert(db, sid, "user", user, rid, now);
		if (rc == SQLITE_OK)
			rc = message_insert(db, sid, "assistant", rq->response,
				rid, now);
	}
	if (rc == SQLITE_OK && rq->session)
		rc = session_touch(db, sid, rq->session_model, now);
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK) {
		set_why(why, db, rc);
		if (!sqlite3_get_autocommit(db))
			exec(db, "ROLLBACK");
	} else if (id) {
		*id = rid;
	}
	return rc;
}

enum llm_status
store_log(struct store *s, const struct store_request *rq, int64_t *id,
	struct buf *err)
{
	struct buf now = BUF_INIT, why = BUF_INIT;
	enum llm_status st = LLM_OK;
	int rc, tries;

	for (tries = 0;; tries++) {
		store_now(&now);
		rc = log_tx(s, rq, now.ptr, id, &why);
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			break;
		msg_debug(2, "log: %s, retrying", why.ptr);
		nap(tries);
	}
	if (rc != SQLITE_OK)
		st = fail(err, "write", s->path, why.ptr);
	buf_release(&now);
	buf_release(&why);
	return st;
}

/* The rows that the full-text index lacks: those above its newest. */
#define UNINDEXED \
	" FROM requests WHERE id >" \
	" coalesce((SELECT max(id) FROM requests_fts_docsize), 0)"

/* Index up to max rows (all if max <= 0), inside a transaction. */
static int
index_rows(struct store *s, long max, long *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	rc = sqlite3_prepare_v2(s->db,
		"INSERT INTO requests_fts(rowid, prompt, response)"
		" SELECT id, prompt, response" UNINDEXED " ORDER BY id LIMIT ?",
		-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, max > 0 ? max : -1);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE) {
		*n = sqlite3_changes(s->db);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* One attempt at indexing every row not yet indexed. */
static int
index_tx(struct store *s, long *n)
{
	int rc;

	rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = index_rows(s, 0, n);
	if (rc == SQLITE_OK)
		rc = exec(s->db, "COMMIT");
	if (rc != SQLITE_OK) {
		*n = 0;
		if (!sqlite3_get_autocommit(s->db))
			exec(s->db, "ROLLBACK");
	}
	return rc;
}

enum llm_status
store_index(struct store *s, long *n, struct buf *err)
{
	struct buf why = BUF_INIT;
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = index_tx(s, n);
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			break;
		nap(tries);
	}
	if (rc != SQLITE_OK) {
		set_why(&why, s->db, rc);
		fail(err, "index", s->path, why.ptr);
		buf_release(&why);
		return LLM_ERR_IO;
	}
	if (*n)
		msg_debug(2, "log: %ld requests indexed", *n);
	return LLM_OK;
}

enum llm_status
store_unindexed(struct store *s, long *n, struct buf *err)
{
	sqlite3_stmt *st = NULL;
	struct buf why = BUF_INIT;
	enum llm_status ret = LLM_OK;
	int rc;

	*n = 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT count(*)" UNINDEXED, -1, &st,
		NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = (long)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		set_why(&why, s->db, rc);
		ret = fail(err, "read", s->path, why.ptr);
	}
	sqlite3_finalize(st);
	buf_release(&why);
	return ret;
}

void
store_warm(struct store *s)
{
	struct store_request rq = { .tool = "warm", .prompt = "warm",
		.response = "warm", .status = "ok", .step = -1 };
	struct buf wal = BUF_INIT, now = BUF_INIT;
	sqlite3_int64 rid;
	struct stat sb;
	long n;

	if (s->warm)
		return;
	s->warm = true;
	/* Never wait for a lock here: warming is only worth it if quick,
	 * and each step is done by some later process if not by this one. */
	sqlite3_busy_timeout(s->db, 0);
	/* A WAL of more than half the frames that make store_close()
	 * checkpoint is checkpointed now, so that it rarely has to (a frame
	 * is a page and its 24-byte header). */
	buf_setf(&wal, "%s-wal", s->path);
	if (stat(wal.ptr, &sb) == 0 &&
		sb.st_size > CKPT_FRAMES / 2 * (4096 + 24) &&
		sqlite3_wal_checkpoint_v2(s->db, "main",
			SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
		msg_debug(2, "log: checkpoint: %s", sqlite3_errmsg(s->db));
	/* The requests logged since the last time, into the index. */
	if (exec(s->db, "BEGIN IMMEDIATE") == SQLITE_OK) {
		if (index_rows(s, WARM_INDEX_MAX, &n) != SQLITE_OK ||
			exec(s->db, "COMMIT") != SQLITE_OK)
			msg_debug(2, "log: index: %s", sqlite3_errmsg(s->db));
		if (!sqlite3_get_autocommit(s->db))
			exec(s->db, "ROLLBACK");
	}
	/* A row inserted and taken back (a transaction of its own: taken
	 * back within one that commits, its pages would still be written):
	 * the pages that logging touches are read and its code is paged
	 * in. */
	store_now(&now);
	if (exec(s->db, "BEGIN IMMEDIATE") == SQLITE_OK) {
		if (request_insert(s, &rq, now.ptr, 0, &rid) != SQLITE_OK)
			msg_debug(2, "log: %s", sqlite3_errmsg(s->db));
		exec(s->db, "ROLLBACK");
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	buf_release(&wal);
	buf_release(&now);
}

void
store_warm_at(struct store **sp, const char *path)
{
	struct buf e = BUF_INIT;

	/* (A failure to open is reported when the answer is logged.) */
	if (*sp || store_open(sp, path, &e) == LLM_OK)
		store_warm(*sp);
	buf_release(&e);
}

/* ==== reading ==== */

static void
session_fill(sqlite3_stmt *st, struct store_session *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->name = col_dup(st, 1);
	out->model = col_dup(st, 2);
	out->system = col_dup(st, 3);
	out->created_at = col_dup(st, 4);
	out->updated_at = col_dup(st, 5);
}

/* Run a one-row session query; name is bound to ?1 when set. */
static enum llm_status
session_query(struct store *s, const char *sql, const char *name,
	struct store_session *out, bool *found, struct buf *err)
{
	struct binder b = { NULL, 0, SQLITE_OK };
	enum llm_status st = LLM_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &b.st, NULL);
	if (rc == SQLITE_OK && name) {
		bind_str(&b, name);
		rc = b.rc;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(b.st);
	if (rc == SQLITE_ROW) {
		session_fill(b.st, out);
		*found = true;
	} else if (rc != SQLITE_DONE) {
		st = fail(err, "read", s->path, sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(b.st);
	return st;
}

enum llm_status
store_session_find(struct store *s, const char *name,
	struct store_session *out, bool *found, struct buf *err)
{
	return session_query(s,
		"SELECT id, name, model, system, created_at, updated_at"
		" FROM sessions WHERE name = ?",
		name ? name : "", out, found, err);
}

enum llm_status
store_session_last(struct store *s, struct store_session *out, bool *found,
	struct buf *err)
{
	return session_query(s,
		"SELECT id, name, model, system, created_at, updated_at"
		" FROM sessions ORDER BY updated_at DESC,"
		" (SELECT max(id) FROM requests"
		"  WHERE requests.session_id = sessions.id) DESC,"
		" id DESC LIMIT 1",
		NULL, out, found, err);
}

enum llm_status
store_session_messages(struct store *s, int64_t session_id,
	struct store_message **msgs, size_t *n, struct buf *err)
{
	struct store_message *v = NULL;
	sqlite3_stmt *st = NULL;
	enum llm_status status = LLM_OK;
	size_t len = 0, alloc = 0;
	int rc;

	*msgs = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(s->db,
		"SELECT role, content FROM messages WHERE session_id = ?"
		" ORDER BY id",
		-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, session_id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xgrowarray(v, &alloc, len + 1, sizeof(*v));
		v[len].role = col_dup(st, 0);
		v[len].content = col_dup(st, 1);
		if (v[len].role == NULL)
			v[len].role = xstrdup("");
		if (v[len].content == NULL)
			v[len].content = xstrdup("");
		len++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		status = fail(err, "read", s->path, sqlite3_errmsg(s->db));
		store_messages_free(v, len);
		goto out;
	}
	*msgs = v;
	*n = len;
out:
	sqlite3_finalize(st);
	return status;
}

void
store_session_release(struct store_session *ss)
{
	free(ss->name);
	free(ss->model);
	free(ss->system);
	free(ss->created_at);
	free(ss->updated_at);
	memset(ss, 0, sizeof(*ss));
}

void
store_messages_free(struct store_message *msgs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(msgs[i].role);
		free(msgs[i].content);
	}
	free(msgs);
}
