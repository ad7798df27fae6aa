/* guard.c - shared limits, budgets, health and counters; see guard.h. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "guard.h"
#include "route.h"
#include "msg.h"
#include "store.h"
#include "xalloc.h"

/*
 * rpm and tpm count the requests of the last minute, and a quarter of a
 * second more: the provider counts them as they arrive, after a network
 * latency that varies, and must never see more than the limit in its
 * minute.
 */
#define WINDOW_MS    60250
#define POLL_MS      50    /* max_parallel: wait 50 to 100 ms */
#define DEFAULT_HOLD 3600  /* seconds a slot lasts without a time limit */
#define MAX_TRIES    8     /* BEGIN IMMEDIATE, each under the busy timeout */
#define EPSILON      1e-9  /* USD */

struct guard {
	struct guard *next;
	char *path;
	struct store *store;
	sqlite3 *db; /* store's */
};

static struct guard *guards;
static long local_counter;

/* ==== helpers ==== */

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static enum llm_status
db_fail(struct guard *g, int rc, struct buf *err)
{
	if (err)
		buf_setf(err, "database '%s': %s", g->path,
			g->db ? sqlite3_errmsg(g->db) : sqlite3_errstr(rc));
	return LLM_ERR_IO;
}

/*
 * Prepare sql and bind its parameters, one letter of types each:
 * t (const char *), i (int64_t), d (double).
 */
static int
vprep(struct guard *g, sqlite3_stmt **st, const char *sql,
	const char *types, va_list ap)
{
	int rc, i;

	*st = NULL;
	rc = sqlite3_prepare_v2(g->db, sql, -1, st, NULL);
	for (i = 0; rc == SQLITE_OK && types[i]; i++) {
		if (types[i] == 't')
			rc = sqlite3_bind_text(*st, i + 1,
				va_arg(ap, const char *), -1, SQLITE_STATIC);
		else if (types[i] == 'i')
			rc = sqlite3_bind_int64(*st, i + 1,
				va_arg(ap, int64_t));
		else
			rc = sqlite3_bind_double(*st, i + 1,
				va_arg(ap, double));
	}
	return rc;
}

static int
prep(struct guard *g, sqlite3_stmt **st, const char *sql, const char *types,
	...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vprep(g, st, sql, types, ap);
	va_end(ap);
	return rc;
}

/* Run a statement, ignoring any rows; inside a transaction. */
static int
run(struct guard *g, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vprep(g, &st, sql, types, ap);
	va_end(ap);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Run a statement in a transaction of its own, retrying while the
 * database is busy. */
static int
run_alone(struct guard *g, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, tries;

	va_start(ap, types);
	rc = vprep(g, &st, sql, types, ap);
	va_end(ap);
	for (tries = 0; rc == SQLITE_OK; tries++) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
			rc = SQLITE_OK;
			break;
		}
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			break;
		sqlite3_reset(st);
		rc = SQLITE_OK;
		nap(tries);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The first column of the first row as a number into *v (0 without a
 * row). */
static int
number(struct guard *g, double *v, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	*v = 0;
	va_start(ap, types);
	rc = vprep(g, &st, sql, types, ap);
	va_end(ap);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*v = sqlite3_column_double(st, 0);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
exec(struct guard *g, const char *sql)
{
	return sqlite3_exec(g->db, sql, NULL, NULL, NULL);
}

static int
begin(struct guard *g)
{
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = exec(g, "BEGIN IMMEDIATE");
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			return rc;
		nap(tries);
	}
}

/* Commit when rc is SQLITE_OK, else roll back; returns the outcome. */
static int
end(struct guard *g, int rc)
{
	if (rc == SQLITE_OK)
		rc = exec(g, "COMMIT");
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(g->db))
		exec(g, "ROLLBACK");
	return rc;
}

/* "$1.50" for whole cents, else as many decimals as it takes (up to
 * eight): "$0.000203". */
static void
money(struct buf *b, double v)
{
	double cents = v * 100;
	size_t n;

	if (fabs(cents - round(cents)) < 1e-6) {
		buf_addf(b, "$%.2f", v);
		return;
	}
	buf_addf(b, "$%.8f", v);
	for (n = b->len; b->ptr[n - 1] == '0'; n--)
		;
	buf_truncate(b, n);
}

/* ==== opening ==== */

static void
close_all_at_exit(void)
{
	guard_close_all();
}

struct guard *
guard_opened(const char *path)
{
	struct guard *g;

	for (g = guards; g && path; g = g->next)
		if (strcmp(g->path, path) == 0)
			return g;
	return NULL;
}

enum llm_status
guard_open(struct guard **gp, const char *path, struct buf *err)
{
	static bool registered;
	struct guard *g;
	struct store *s = NULL;
	enum llm_status st;

	*gp = guard_opened(path);
	if (*gp)
		return LLM_OK;
	if ((st = store_open(&s, path, err)) != LLM_OK)
		return st;
	g = xcalloc(1, sizeof(*g));
	g->path = xstrdup(path);
	g->store = s;
	g->db = store_handle(s);
	g->next = guards;
	guards = g;
	if (!registered && atexit(close_all_at_exit) == 0)
		registered = true;
	*gp = g;
	return LLM_OK;
}

void
guard_close_all(void)
{
	struct guard *g;

	while ((g = guards) != NULL) {
		guards = g->next;
		store_close(g->store);
		free(g->path);
		free(g);
	}
}

/* ==== limits and budgets ==== */

/* rpm (0), tpm (1) or max_parallel (2) of p; 0 = none. */
static long
lim(const struct policy *p, int which)
{
	if (p == NULL)
		return 0;
	return which == 0 ? p->rpm : which == 1 ? p->tpm : p->max_parallel;
}

bool
guard_budgeted(const struct guard_ask *a)
{
	const struct policy *p[2] = { a->global, a->pp };
	int i;

	if (!(a->cost > 0))
		return false;
	for (i = 0; i < 2; i++)
		if (p[i] && (p[i]->daily_budget_usd >= 0 ||
				    p[i]->monthly_budget_usd >= 0))
			return true;
	return false;
}

bool
guard_limited(const struct guard_ask *a)
{
	int k;

	for (k = 0; k < 3; k++)
		if (lim(a->pp, k) > 0 || lim(a->mp, k) > 0)
			return true;
	return false;
}

bool
guard_applies(const struct guard_ask *a)
{
	return guard_limited(a) || guard_budgeted(a);
}

/* One scope of limits: the provider's or the model's. */
struct scope {
	const char *col;   /* "provider" or "model" */
	const char *key;   /* its value in the tables, and in messages */
	long rpm, tpm, par;
};

/* Whether to wait, how long (ms) and why; the longest wait wins. */
struct verdict {
	double wait_ms;
	struct buf why;
};

static void
full(struct verdict *v, double ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
full(struct verdict *v, double ms, const char *fmt, ...)
{
	va_list ap;

	if (ms <= v->wait_ms)
		return;
	v->wait_ms = ms;
	buf_reset(&v->why);
	va_start(ap, fmt);
	buf_vaddf(&v->why, fmt, ap);
	va_end(ap);
}

/* The rpm and tpm of scope s at now. */
static int
check_rate(struct guard *g, const struct scope *s, long tokens, int64_t now,
	struct verdict *v)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	double count = 0, used = 0, need, removed = 0, at;
	int64_t since = now - WINDOW_MS;
	int rc;

	buf_setf(&sql, "SELECT count(*), total(tokens) FROM guard_events"
		       " WHERE %s = ? AND at_ms > ?",
		s->col);
	rc = prep(g, &st, sql.ptr, "ti", s->key, since);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		count = sqlite3_column_double(st, 0);
		used = sqlite3_column_double(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_OK || count == 0)
		goto out;
	if (s->rpm > 0 && count >= (double)s->rpm) {
		/* The place frees when the oldest events that must leave
		 * the window have left it. */
		buf_setf(&sql, "SELECT at_ms FROM guard_events WHERE %s = ?"
			       " AND at_ms > ? ORDER BY at_ms LIMIT 1 OFFSET ?",
			s->col);
		rc = number(g, &at, sql.ptr, "tii", s->key, since,
			(int64_t)(count - (double)s->rpm));
		if (rc != SQLITE_OK)
			goto out;
		full(v, at + WINDOW_MS - (double)now,
			"%s: rate limit of %ld request%s per minute reached",
			s->key, s->rpm, s->rpm == 1 ? "" : "s");
	}
	need = used + (double)tokens - (double)s->tpm;
	if (s->tpm <= 0 || need <= 0)
		goto out;
	buf_setf(&sql, "SELECT at_ms, tokens FROM guard_events"
		       " WHERE %s = ? AND at_ms > ? ORDER BY at_ms",
		s->col);
	rc = prep(g, &st, sql.ptr, "ti", s->key, since);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		removed += sqlite3_column_double(st, 1);
		/* Once every event has left, a request bigger than the
		 * limit goes alone. */
		if (removed >= need || removed >= used) {
			full(v, sqlite3_column_double(st, 0) + WINDOW_MS -
					(double)now,
				"%s: rate limit of %ld token%s per minute "
				"reached",
				s->key, s->tpm, s->tpm == 1 ? "" : "s");
			break;
		}
	}
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		rc = SQLITE_OK;
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return rc;
}

/* Delete the slots of scope s whose process has gone. */
static int
reclaim_dead(struct guard *g, const struct scope *s)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	int64_t pid, id;
	int rc;

	buf_setf(&sql, "SELECT id, pid FROM guard_slots WHERE %s = ?", s->col);
	rc = prep(g, &st, sql.ptr, "t", s->key);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		pid = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
		if (pid <= 0 || pid == (int64_t)getpid() ||
			kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		msg_debug(1, "%s: reclaiming the slot of process %lld, gone",
			s->key, (long long)pid);
		rc = run(g, "DELETE FROM guard_slots WHERE id = ?", "i", id);
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	buf_release(&sql);
	return rc;
}

/* The max_parallel of scope s. */
static int
check_parallel(struct guard *g, const struct scope *s, struct verdict *v)
{
	struct buf sql = BUF_INIT;
	double n = 0;
	int rc, pass;

	buf_setf(&sql, "SELECT count(*) FROM guard_slots WHERE %s = ?", s->col);
	for (pass = 0; pass < 2; pass++) {
		rc = number(g, &n, sql.ptr, "t", s->key);
		if (rc != SQLITE_OK || n < (double)s->par)
			goto out;
		/* Full: first reclaim the places of dead processes. */
		if (pass == 0 && (rc = reclaim_dead(g, s)) != SQLITE_OK)
			goto out;
	}
	full(v, POLL_MS + rand() % (POLL_MS + 1),
		"%s: %ld request%s already running (max_parallel = %ld)",
		s->key, (long)n, n == 1 ? "" : "s", s->par);
out:
	buf_release(&sql);
	return rc;
}

/* One budget: its limit, what it covers, and its words. */
struct budget {
	double limit;
	const char *period;   /* "daily", "monthly" */
	const char *when;     /* "today", "this month" */
	const char *col;      /* "day", "month" */
	const char *value;    /* today's or this month's */
	const char *provider; /* NULL = every provider */
};

static int
check_budget(struct guard *g, const struct budget *b,
	const struct guard_ask *a, bool *refused, struct buf *err)
{
	struct buf sql = BUF_INIT;
	double spent;
	int rc;

	buf_setf(&sql, "SELECT total(cost_usd) FROM guard_ledger WHERE %s = ?%s",
		b->col, b->provider ? " AND provider = ?" : "");
	rc = number(g, &spent, sql.ptr, b->provider ? "tt" : "t", b->value,
		b->provider);
	if (rc == SQLITE_OK && spent + a->cost > b->limit + EPSILON) {
		*refused = true;
		buf_setf(err, "%s budget of ", b->period);
		money(err, b->limit);
		if (b->provider)
			buf_addf(err, " for provider '%s'", b->provider);
		buf_adds(err, " reached: ");
		money(err, spent);
		buf_addf(err, " spent or reserved %s (UTC), and this request "
			      "may cost up to ",
			b->when);
		money(err, a->cost);
		buf_addf(err, "; raise %s_budget_usd in [%s%s]", b->period,
			b->provider ? "provider." : "defaults",
			b->provider ? b->provider : "");
	}
	buf_release(&sql);
	return rc;
}

/* The UTC day "YYYY-MM-DD" and month "YYYY-MM" of now, and the month
 * before it. */
static void
dates(int64_t now, char day[16], char month[16], char prev[16])
{
	time_t t = (time_t)(now / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
	strftime(month, 16, "%Y-%m", &tm);
	tm.tm_mday = 1;
	if (--tm.tm_mon < 0) {
		tm.tm_mon = 11;
		tm.tm_year--;
	}
	strftime(prev, 16, "%Y-%m", &tm);
}

static int
check_budgets(struct guard *g, const struct guard_ask *a, int64_t now,
	bool *refused, struct buf *err)
{
	const struct policy *p[2] = { a->global, a->pp };
	char day[16], month[16], prev[16];
	struct budget b;
	int rc = SQLITE_OK, i, k;

	dates(now, day, month, prev);
	for (i = 0; i < 2 && rc == SQLITE_OK && !*refused; i++) {
		for (k = 0; p[i] && k < 2 && rc == SQLITE_OK && !*refused;
			k++) {
			b.limit = k == 0 ? p[i]->daily_budget_usd :
					   p[i]->monthly_budget_usd;
			if (b.limit < 0)
				continue;
			b.period = k == 0 ? "daily" : "monthly";
			b.when = k == 0 ? "today" : "this month";
			b.col = k == 0 ? "day" : "month";
			b.value = k == 0 ? day : month;
			b.provider = i == 0 ? NULL : a->provider;
			rc = check_budget(g, &b, a, refused, err);
		}
	}
	return rc;
}

/* Insert what the attempt takes: its event, its slot, its reservation. */
static int
take(struct guard *g, const struct guard_ask *a, const char *model,
	struct guard_ticket *t, int64_t now, bool event, bool slot,
	bool reserve)
{
	char day[16], month[16], prev[16];
	double hold = a->hold > 0 ? a->hold : DEFAULT_HOLD;
	int rc = SQLITE_OK;

	if (event) {
		/* Events that left the window (or come from a clock that
		 * went back) are of no more use. */
		rc = run(g,
			"DELETE FROM guard_events WHERE provider = ?"
			" AND (at_ms <= ? OR at_ms > ?)",
			"tii", a->provider, now - WINDOW_MS, now + WINDOW_MS);
		if (rc == SQLITE_OK)
			rc = run(g,
				"INSERT INTO guard_events(at_ms, provider,"
				" model, tokens) VALUES (?, ?, ?, ?)",
				"itti", now, a->provider, model,
				(int64_t)a->tokens);
		if (rc == SQLITE_OK)
			t->event = sqlite3_last_insert_rowid(g->db);
	}
	if (rc == SQLITE_OK && slot) {
		rc = run(g,
			"INSERT INTO guard_slots(provider, model, pid,"
			" started_ms, expires_ms) VALUES (?, ?, ?, ?, ?)",
			"ttiii", a->provider, model, (int64_t)getpid(), now,
			now + (int64_t)(hold * 1000));
		if (rc == SQLITE_OK)
			t->slot = sqlite3_last_insert_rowid(g->db);
	}
	if (rc == SQLITE_OK && reserve) {
		dates(now, day, month, prev);
		rc = run(g,
			"INSERT INTO guard_ledger(at_ms, day, month, provider,"
			" model, cost_usd, open, pid)"
			" VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
			"ittttdi", now, day, month, a->provider, model,
			a->cost, (int64_t)getpid());
		if (rc == SQLITE_OK)
			t->reservation = sqlite3_last_insert_rowid(g->db);
		/* Now and then, forget the months before the last. */
		if (rc == SQLITE_OK && t->reservation % 128 == 0)
			rc = run(g, "DELETE FROM guard_ledger WHERE month < ?",
				"t", prev);
	}
	return rc;
}

enum llm_status
guard_acquire(struct guard *g, const struct guard_ask *a,
	struct guard_ticket *t, double *wait, struct buf *err)
{
	struct buf model = BUF_INIT;
	struct verdict v = { 0, BUF_INIT };
	struct scope s[2];
	enum llm_status ret = LLM_OK;
	bool event = false, slot = false, refused = false;
	bool reserve = !t->reservation && guard_budgeted(a);
	int64_t now = 0;
	double n;
	int rc, i;

	*wait = 0;
	buf_setf(&model, "%s/%s", a->provider, a->model);
	s[0] = (struct scope){ "provider", a->provider, lim(a->pp, 0),
		lim(a->pp, 1), lim(a->pp, 2) };
	s[1] = (struct scope){ "model", model.ptr, lim(a->mp, 0),
		lim(a->mp, 1), lim(a->mp, 2) };
	if ((rc = begin(g)) != SQLITE_OK)
		goto out;
	now = wall_ms();
	rc = number(g, &n, "SELECT count(*) FROM guard_health WHERE provider = ?",
		"t", a->provider);
	t->health = n > 0;
	if (rc == SQLITE_OK && reserve)
		rc = check_budgets(g, a, now, &refused, err);
	for (i = 0; i < 2 && rc == SQLITE_OK && !refused; i++) {
		if (s[i].rpm > 0 || s[i].tpm > 0) {
			event = true;
			rc = check_rate(g, &s[i], a->tokens, now, &v);
		}
		if (rc == SQLITE_OK && s[i].par > 0) {
			slot = true;
			rc = run(g, "DELETE FROM guard_slots WHERE expires_ms < ?",
				"i", now);
			if (rc == SQLITE_OK)
				rc = check_parallel(g, &s[i], &v);
		}
	}
	if (rc == SQLITE_OK && !refused && v.wait_ms == 0)
		rc = take(g, a, model.ptr, t, now, event, slot, reserve);
	if (rc == SQLITE_OK && (refused || v.wait_ms > 0))
		exec(g, "ROLLBACK");
	else
		rc = end(g, rc);
out:
	if (rc != SQLITE_OK) {
		t->event = t->slot = 0;
		if (reserve)
			t->reservation = 0;
		ret = db_fail(g, rc, err);
	} else if (refused) {
		ret = LLM_ERR_TEMP;
	} else if (v.wait_ms > 0) {
		*wait = v.wait_ms / 1000;
		buf_setf(err, "%s; retry ", v.why.ptr);
		if (*wait >= 1)
			buf_addf(err, "in %.0f s", ceil(*wait));
		else
			buf_adds(err, "later");
		buf_adds(err, " or drop --no-wait");
		ret = LLM_ERR_TEMP;
	} else {
		t->acquired = true;
	}
	buf_release(&model);
	buf_release(&v.why);
	return ret;
}

/* Give back the slot and set the event's tokens; with settle, settle the
 * reservation to cost. */
static enum llm_status
give_back(struct guard *g, struct guard_ticket *t, long tokens, bool settle,
	double cost, struct buf *err)
{
	int rc;

	if (g && (t->slot || t->event || (settle && t->reservation))) {
		if ((rc = begin(g)) != SQLITE_OK)
			return db_fail(g, rc, err);
		if (t->slot)
			rc = run(g, "DELETE FROM guard_slots WHERE id = ?", "i",
				t->slot);
		if (rc == SQLITE_OK && t->event)
			rc = run(g,
				"UPDATE guard_events SET tokens = ? WHERE id = ?",
				"ii", (int64_t)(tokens > 0 ? tokens : 0),
				t->event);
		if (rc == SQLITE_OK && settle && t->reservation)
			rc = run(g,
				"UPDATE guard_ledger SET cost_usd = ?, open = 0"
				" WHERE id = ?",
				"di", cost > 0 ? cost : 0.0, t->reservation);
		if ((rc = end(g, rc)) != SQLITE_OK)
			return db_fail(g, rc, err);
	}
	t->slot = t->event = 0;
	if (settle) {
		t->reservation = 0;
		t->acquired = false;
	}
	return LLM_OK;
}

enum llm_status
guard_end_attempt(struct guard *g, struct guard_ticket *t, long tokens,
	struct buf *err)
{
	return give_back(g, t, tokens, false, 0, err);
}

enum llm_status
guard_release(struct guard *g, struct guard_ticket *t, long tokens,
	double cost, struct buf *err)
{
	return give_back(g, t, tokens, true, cost, err);
}

/* ==== health ==== */

enum llm_status
guard_health_fail(struct guard *g, const char *provider, double cooldown,
	double retry_after, const char *reason, struct buf *err)
{
	double secs = fmax(cooldown, retry_after);
	int64_t now = wall_ms();
	int rc;

	if (!(secs > 0))
		return LLM_OK;
	if (reason == NULL)
		reason = "failed";
	msg_debug(1, "%s: cooling down for %g s (%s)", provider, secs, reason);
	/* A longer cooldown that still runs is kept. */
	rc = run_alone(g,
		"INSERT INTO guard_health(provider, failed_at_ms, until_ms,"
		" reason) VALUES (?, ?, ?, ?)"
		" ON CONFLICT(provider) DO UPDATE SET"
		" failed_at_ms = excluded.failed_at_ms,"
		" until_ms = max(until_ms, excluded.until_ms),"
		" reason = excluded.reason",
		"tiit", provider, now, now + (int64_t)(secs * 1000), reason);
	return rc == SQLITE_OK ? LLM_OK : db_fail(g, rc, err);
}

enum llm_status
guard_health_ok(struct guard *g, const char *provider, struct buf *err)
{
	double n;
	int rc;

	rc = number(g, &n, "SELECT count(*) FROM guard_health WHERE provider = ?",
		"t", provider);
	if (rc == SQLITE_OK && n > 0) {
		msg_debug(1, "%s: answered; its cooldown ends", provider);
		rc = run_alone(g, "DELETE FROM guard_health WHERE provider = ?",
			"t", provider);
	}
	return rc == SQLITE_OK ? LLM_OK : db_fail(g, rc, err);
}

enum llm_status
guard_cooldown(struct guard *g, const char *provider, double *left,
	struct buf *err)
{
	double until;
	int64_t now = wall_ms();
	int rc;

	*left = 0;
	rc = number(g, &until,
		"SELECT until_ms FROM guard_health WHERE provider = ?", "t",
		provider);
	if (rc != SQLITE_OK)
		return db_fail(g, rc, err);
	if (until > (double)now)
		*left = (until - (double)now) / 1000;
	return LLM_OK;
}

/* ==== counters ==== */

long
guard_next(struct guard *g, const char *key, long n)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	int rc, tries;

	if (n <= 0)
		return 0;
	if (g == NULL)
		return local_counter++ % n;
	rc = prep(g, &st,
		"INSERT INTO guard_counters(key, value) VALUES (?, 1)"
		" ON CONFLICT(key) DO UPDATE SET value = value + 1"
		" RETURNING value",
		"t", key);
	for (tries = 0; rc == SQLITE_OK; tries++) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			rc = sqlite3_step(st);
		}
		if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
			break;
		}
		if (!is_busy(rc) || tries + 1 >= MAX_TRIES)
			break;
		sqlite3_reset(st);
		v = -1;
		rc = SQLITE_OK;
		nap(tries);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK || v < 1) {
		msg_debug(1, "counter '%s': %s", key, sqlite3_errmsg(g->db));
		return local_counter++ % n;
	}
	return (long)((v - 1) % n);
}

/* route.h's shared state, from the guard of the database path ud. */
static double
env_cooldown(void *ud, const char *provider)
{
	struct guard *g;
	struct buf e = BUF_INIT;
	double left = 0;

	if (guard_open(&g, ud, &e) == LLM_OK)
		guard_cooldown(g, provider, &left, &e);
	if (e.len)
		msg_debug(1, "cooldown of '%s': %s", provider, e.ptr);
	buf_release(&e);
	return left;
}

static long
env_next(void *ud, const char *key, long n)
{
	struct guard *g;
	struct buf e = BUF_INIT;
	long k = 0;

	if (guard_open(&g, ud, &e) == LLM_OK)
		k = guard_next(g, key, n);
	else
		msg_warn("cannot share the rotation of '%s': %s", key, e.ptr);
	buf_release(&e);
	return k;
}

void
guard_route_env(struct route_env *env, char *path)
{
	memset(env, 0, sizeof(*env));
	env->cooldown = env_cooldown;
	env->next = env_next;
	env->ud = path;
}
