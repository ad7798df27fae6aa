/* test-guard.c - unit tests of lib/guard: rate and concurrency limits,
 * budgets, provider health and counters shared through one SQLite file,
 * by this process and by forked ones. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "guard.h"
#include "tap.h"

static char dir[] = "/tmp/test-guard-XXXXXX";
static char path[96];
static sqlite3 *peek; /* a connection of our own, to look and to meddle */

static struct policy none, pp, mp, global;

static void
policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->daily_budget_usd = p->monthly_budget_usd = -1;
	p->cooldown = p->cache_ttl = -1;
	p->cache = -1;
}

static void
reset_policies(void)
{
	policy_init(&none);
	policy_init(&pp);
	policy_init(&mp);
	policy_init(&global);
}

static struct guard_ask
ask(const char *provider, const char *model, long tokens, double cost)
{
	struct guard_ask a;

	memset(&a, 0, sizeof(a));
	a.provider = provider;
	a.model = model;
	a.pp = &pp;
	a.mp = &mp;
	a.global = &global;
	a.tokens = tokens;
	a.cost = cost;
	a.hold = 60;
	return a;
}

static void
sql(const char *q)
{
	char *e = NULL;

	if (sqlite3_exec(peek, q, NULL, NULL, &e) != SQLITE_OK) {
		printf("# sql: %s: %s\n", q, e);
		sqlite3_free(e);
	}
}

static double
sql_num(const char *q)
{
	sqlite3_stmt *st = NULL;
	double v = -1;

	if (sqlite3_prepare_v2(peek, q, -1, &st, NULL) == SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	else
		printf("# sql: %s: %s\n", q, sqlite3_errmsg(peek));
	sqlite3_finalize(st);
	return v;
}

static void
empty_tables(void)
{
	sql("DELETE FROM guard_events; DELETE FROM guard_slots;"
	    "DELETE FROM guard_ledger; DELETE FROM guard_health;"
	    "DELETE FROM guard_counters");
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Make every event ms milliseconds old: an event leaves the window
 * 60.25 s after its start. */
static void
age_events(long ms)
{
	char q[128];

	snprintf(q, sizeof(q), "UPDATE guard_events SET at_ms = %lld",
		(long long)(wall_ms() - ms));
	sql(q);
}

/* ==== tests ==== */

static struct guard *
test_open(void)
{
	struct guard *g = NULL, *again = NULL;
	struct buf err = BUF_INIT;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/sub/llm.db", dir);
	is_int(guard_open(&g, path, &err), LLM_OK, "open creates the database");
	ok(g != NULL, "a guard");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
		"created 0600 with its directory");
	ok(guard_opened(path) == g, "guard_opened finds it");
	ok(guard_opened("/tmp/elsewhere.db") == NULL, "not another path");
	is_int(guard_open(&again, path, &err), LLM_OK, "open again");
	ok(again == g, "the same guard: one connection per process");
	sqlite3_open(path, &peek);
	sqlite3_busy_timeout(peek, 5000);
	is_int((long long)sql_num("SELECT count(*) FROM sqlite_master WHERE"
				  " type = 'table' AND name LIKE 'guard_%'"),
		5, "the five tables");
	is_int((long long)sql_num("SELECT count(*) FROM sqlite_master WHERE"
				  " name = 'requests'"),
		1, "in the log itself");
	is_int((long long)sql_num("PRAGMA user_version"), 4,
		"made by the log's migration 4");

	is_int(guard_open(&again, "/dev/null/x/llm.db", &err), LLM_ERR_IO,
		"a path that cannot be created: LLM_ERR_IO");
	ok(strncmp(err.ptr, "cannot open log '/dev/null/x/llm.db': ", 38) == 0,
		"the message names the file");
	ok(again == NULL, "and no guard");
	buf_release(&err);
	return g;
}

static void
test_applies(void)
{
	struct guard_ask a;

	reset_policies();
	a = ask("p", "m", 10, 0.5);
	ok(!guard_applies(&a), "nothing configured: nothing applies");
	a.pp = a.mp = a.global = NULL;
	ok(!guard_applies(&a), "no policies at all");
	a = ask("p", "m", 10, 0.5);
	mp.max_parallel = 1;
	ok(guard_applies(&a) && guard_limited(&a), "a model's max_parallel");
	reset_policies();
	pp.tpm = 5;
	ok(guard_limited(&a), "a provider's tpm");
	reset_policies();
	global.daily_budget_usd = 0;
	ok(guard_applies(&a) && guard_budgeted(&a) && !guard_limited(&a),
		"a budget of 0 is a budget");
	a.cost = 0;
	ok(!guard_applies(&a), "but not for a model without prices");
	reset_policies();
	pp.monthly_budget_usd = 3;
	a.cost = 0.1;
	ok(guard_budgeted(&a), "a provider's monthly budget");
}

static void
test_rpm(struct guard *g)
{
	struct guard_ticket t = GUARD_TICKET_INIT;
	struct buf err = BUF_INIT;
	struct guard_ask a;
	double wait = -1;
	int i, okn = 0;

	reset_policies();
	empty_tables();
	pp.rpm = 3;
	a = ask("p", "m", 10, 0);
	for (i = 0; i < 3; i++) {
		okn += guard_acquire(g, &a, &t, &wait, &err) == LLM_OK &&
			wait == 0;
		guard_release(g, &t, 7, -1, &err);
	}
	is_int(okn, 3, "rpm 3: three requests go");
	is_int((long long)sql_num("SELECT count(*) FROM guard_events"), 3,
		"three events");
	is_int((long long)sql_num("SELECT total(tokens) FROM guard_events"), 21,
		"corrected to the real tokens at release");
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"the fourth must wait");
	ok(wait > 59.2 && wait <= 60.26, "for the oldest to leave the minute");
	age_events(250);
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"a quarter of a second later");
	ok(wait > 59 && wait <= 60.01, "60 s to wait");
	is_str(err.ptr, "p: rate limit of 3 requests per minute reached; "
			"retry in 60 s or drop --no-wait",
		"the message names the limit");
	ok(!t.acquired && t.event == 0, "nothing taken");
	is_int((long long)sql_num("SELECT count(*) FROM guard_events"), 3,
		"no event for a request that waits");

	sql("UPDATE guard_events SET at_ms = at_ms - 50000");
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"50 s later, still full");
	ok(wait > 9.9 && wait <= 10.01, "10 s to wait");
	is_str(err.ptr, "p: rate limit of 3 requests per minute reached; "
			"retry in 10 s or drop --no-wait",
		"retry in 10 s");

	/* Events at -50 s, -20 s and -10 s with rpm 2: two must leave for
	 * one place, the second oldest at +40.25 s. */
	sql("DELETE FROM guard_events");
	{
		char q[256];
		int64_t now = wall_ms();

		snprintf(q, sizeof(q),
			"INSERT INTO guard_events(at_ms, provider, model, tokens)"
			" VALUES (%lld, 'p', 'p/m', 1), (%lld, 'p', 'p/m', 1),"
			" (%lld, 'p', 'p/m', 1)",
			(long long)(now - 50000), (long long)(now - 20000),
			(long long)(now - 10000));
		sql(q);
	}
	pp.rpm = 2;
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"over the limit (lowered)");
	ok(wait > 40.1 && wait <= 40.26, "waits for the second oldest");
	sql("UPDATE guard_events SET at_ms = at_ms - 40000");
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"60 s is not enough: a margin of 0.25 s");
	sql("UPDATE guard_events SET at_ms = at_ms - 300");
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_OK,
		"once two have left the minute it goes");
	ok(t.acquired && t.event > 0 && t.slot == 0 && t.reservation == 0,
		"an event, no slot, no reservation");
	guard_release(g, &t, 0, -1, &err);
	ok(!t.acquired && t.event == 0, "release empties the ticket");
	is_int((long long)sql_num("SELECT count(*) FROM guard_events"), 2,
		"events out of the minute are pruned");

	/* A model's limit counts that model only. */
	reset_policies();
	empty_tables();
	mp.rpm = 1;
	a = ask("p", "a", 10, 0);
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_OK, "model a");
	guard_release(g, &t, 0, -1, &err);
	age_events(250);
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_ERR_TEMP,
		"model a again must wait");
	is_str(err.ptr, "p/a: rate limit of 1 request per minute reached; "
			"retry in 60 s or drop --no-wait",
		"named PROVIDER/MODEL");
	a = ask("p", "b", 10, 0);
	is_int(guard_acquire(g, &a, &t, &wait, &err), LLM_OK,
		"model b has its own count");
	guard_release(g, &t, 0, -1, &err);
	buf_release(&err);
}

static void
test_tpm(struct guard *g)
{
	struct guard_ticket t1 = GUARD_TICKET_INIT, t2 = GUARD_TICKET_INIT;
	struct buf err = BUF_INIT;
	struct guard_ask a;
	double wait;

	reset_policies();
	empty_tables();
	pp.tpm = 100;
	a = ask("p", "m", 60, 0);
	is_int(guard_acquire(g, &a, &t1, &wait, &err), LLM_OK, "tpm 100: 60");
	age_events(250);
	is_int(guard_acquire(g, &a, &t2, &wait, &err), LLM_ERR_TEMP,
		"another 60 must wait");
	ok(wait > 59 && wait <= 60.01, "for the first to leave the minute");
	is_str(err.ptr, "p: rate limit of 100 tokens per minute reached; "
			"retry in 60 s or drop --no-wait",
		"the message");
	guard_release(g, &t1, 30, -1, &err);
	is_int(guard_acquire(g, &a, &t2, &wait, &err), LLM_OK,
		"the first used 30: 30 + 60 fit");
	guard_release(g, &t2, 60, -1, &err);
	a.tokens = 500;
	is_int(guard_acquire(g, &a, &t1, &wait, &err), LLM_ERR_TEMP,
		"bigger than the limit: waits for an empty minute");
	ok(wait > 59.2 && wait <= 60.26, "until the last event leaves");
	sql("DELETE FROM guard_events");
	is_int(guard_acquire(g, &a, &t1, &wait, &err), LLM_OK,
		"and then goes alone");
	guard_release(g, &t1, 500, -1, &err);
	buf_release(&err);
}

static void
test_parallel(struct guard *g)
{
	struct guard_ticket t[3] = { GUARD_TICKET_INIT, GUARD_TICKET_INIT,
		GUARD_TICKET_INIT };
	struct buf err = BUF_INIT;
	struct guard_ask a;
	char q[256];
	double wait;
	pid_t dead;

	reset_policies();
	empty_tables();
	pp.max_parallel = 2;
	a = ask("p", "m", 10, 0);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK, "slot 1");
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_OK, "slot 2");
	ok(t[0].slot > 0 && t[1].slot > 0 && t[0].event == 0,
		"slots, no events");
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_ERR_TEMP,
		"max_parallel 2: the third waits");
	ok(wait >= 0.05 && wait <= 0.101, "a short poll, 50 to 100 ms");
	is_str(err.ptr, "p: 2 requests already running (max_parallel = 2); "
			"retry later or drop --no-wait",
		"the message");
	is_int((long long)sql_num("SELECT count(*) FROM guard_slots WHERE"
				  " pid = (SELECT pid FROM guard_slots LIMIT 1)"
				  " AND expires_ms > started_ms + 59000"),
		2, "slots carry the pid and an expiry");
	guard_end_attempt(g, &t[0], 0, &err);
	ok(t[0].slot == 0, "an attempt's end frees its slot");
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_OK,
		"so the third goes");
	guard_release(g, &t[1], 0, -1, &err);
	guard_release(g, &t[2], 0, -1, &err);
	guard_release(g, &t[0], 0, -1, &err);
	is_int((long long)sql_num("SELECT count(*) FROM guard_slots"), 0,
		"all given back");

	/* Crashed processes: a dead pid's slot and an expired one. */
	if ((dead = fork()) == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(q, sizeof(q),
		"INSERT INTO guard_slots(provider, model, pid, started_ms,"
		" expires_ms) VALUES ('p', 'p/m', %ld, 0, 9e15),"
		" ('p', 'p/m', %ld, 0, 1)",
		(long)dead, (long)getppid());
	sql(q);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK,
		"the slots of a dead and of an expired process are reclaimed");
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_OK,
		"both of them");
	guard_release(g, &t[0], 0, -1, &err);
	guard_release(g, &t[1], 0, -1, &err);
	snprintf(q, sizeof(q),
		"INSERT INTO guard_slots(provider, model, pid, started_ms,"
		" expires_ms) VALUES ('p', 'p/m', %ld, 0, 9e15),"
		" ('p', 'p/m', %ld, 0, 9e15)",
		(long)getppid(), (long)getppid());
	sql(q);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_ERR_TEMP,
		"a live process keeps its slots");
	is_str(err.ptr, "p: 2 requests already running (max_parallel = 2); "
			"retry later or drop --no-wait",
		"still full");
	sql("DELETE FROM guard_slots");

	/* The model's limit, with the provider's unset. */
	reset_policies();
	mp.max_parallel = 1;
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK, "model slot");
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_ERR_TEMP,
		"model max_parallel 1");
	is_str(err.ptr, "p/m: 1 request already running (max_parallel = 1); "
			"retry later or drop --no-wait",
		"named PROVIDER/MODEL");
	guard_release(g, &t[0], 0, -1, &err);
	buf_release(&err);
}

static void
test_budgets(struct guard *g)
{
	struct guard_ticket t[4] = { GUARD_TICKET_INIT, GUARD_TICKET_INIT,
		GUARD_TICKET_INIT, GUARD_TICKET_INIT };
	struct buf err = BUF_INIT;
	struct guard_ask a;
	char q[256], month[16];
	time_t now = time(NULL);
	struct tm tm;
	double wait = -1;

	reset_policies();
	empty_tables();
	global.daily_budget_usd = 1;
	a = ask("p", "m", 10, 0.4);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK, "$0.40 of $1");
	ok(t[0].reservation > 0 && t[0].event == 0 && t[0].slot == 0,
		"a reservation only");
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_OK, "$0.80 of $1");
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_ERR_TEMP,
		"$1.20 of $1: refused");
	ok(wait == 0, "for good: no wait");
	is_str(err.ptr, "daily budget of $1.00 reached: $0.80 spent or "
			"reserved today (UTC), and this request may cost up to "
			"$0.40; raise daily_budget_usd in [defaults]",
		"the message names the budget");
	is_int((long long)sql_num("SELECT count(*) FROM guard_ledger WHERE"
				  " open = 1 AND cost_usd = 0.4"),
		2, "two open reservations");
	guard_release(g, &t[0], 0, 0.1, &err);
	ok(sql_num("SELECT cost_usd FROM guard_ledger WHERE open = 0") == 0.1,
		"settled to the real cost");
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_OK,
		"$0.10 + $0.40 + $0.40 fit");
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_OK,
		"a retry of the same request");
	is_int((long long)sql_num("SELECT count(*) FROM guard_ledger"), 3,
		"reserves nothing more");
	guard_release(g, &t[1], 0, -1, &err);
	guard_release(g, &t[2], 0, 0.25, &err);
	ok(fabs(sql_num("SELECT total(cost_usd) FROM guard_ledger WHERE"
			" open = 0") -
		    0.35) < 1e-12,
		"a failure costs nothing, the other its cost");

	/* The provider's budgets; other days; other providers. */
	reset_policies();
	empty_tables();
	pp.daily_budget_usd = 0.5;
	pp.monthly_budget_usd = 2;
	gmtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	snprintf(q, sizeof(q),
		"INSERT INTO guard_ledger(at_ms, day, month, provider, model,"
		" cost_usd, open) VALUES (0, '2000-01-01', '%s', 'p', 'p/m',"
		" 1.75, 0), (0, '2000-01-01', '2000-01', 'p', 'p/m', 50, 0)",
		month);
	sql(q);
	a = ask("q", "m", 10, 0.4);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK,
		"p's spending does not count for provider q");
	guard_release(g, &t[0], 0, 0.4, &err);
	a = ask("p", "m", 10, 0.2);
	is_int(guard_acquire(g, &a, &t[0], &wait, &err), LLM_OK,
		"another day's spending is not today's");
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_ERR_TEMP,
		"but it counts for the month");
	is_str(err.ptr, "monthly budget of $2.00 for provider 'p' reached: "
			"$1.95 spent or reserved this month (UTC), and this "
			"request may cost up to $0.20; raise monthly_budget_usd "
			"in [provider.p]",
		"the month's message");
	pp.monthly_budget_usd = -1;
	is_int(guard_acquire(g, &a, &t[1], &wait, &err), LLM_OK, "$0.40 today");
	a.cost = 0.1234;
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_ERR_TEMP,
		"$0.5234 of $0.50");
	is_str(err.ptr, "daily budget of $0.50 for provider 'p' reached: "
			"$0.40 spent or reserved today (UTC), and this request "
			"may cost up to $0.1234; raise daily_budget_usd in "
			"[provider.p]",
		"amounts that are not whole cents");
	a.cost = 0.1;
	is_int(guard_acquire(g, &a, &t[2], &wait, &err), LLM_OK,
		"exactly the budget is allowed");
	guard_release(g, &t[0], 0, 0.2, &err);
	guard_release(g, &t[1], 0, 0.2, &err);
	guard_release(g, &t[2], 0, 0.1, &err);
	buf_release(&err);
}

static void
test_health(struct guard *g)
{
	struct guard_ticket t = GUARD_TICKET_INIT;
	struct buf err = BUF_INIT;
	struct guard_ask a;
	double left = -1, wait;

	empty_tables();
	is_int(guard_cooldown(g, "p", &left, &err), LLM_OK, "no cooldown");
	ok(left == 0, "0 s");
	is_int(guard_health_fail(g, "p", 30, -1, "HTTP 500", &err), LLM_OK,
		"a failure");
	guard_cooldown(g, "p", &left, &err);
	ok(left > 29.9 && left <= 30, "cooled down for the cooldown");
	guard_health_fail(g, "p", 30, 90, "HTTP 429", &err);
	guard_cooldown(g, "p", &left, &err);
	ok(left > 89.9 && left <= 90, "or Retry-After, when longer");
	guard_health_fail(g, "p", 5, -1, "HTTP 503", &err);
	guard_cooldown(g, "p", &left, &err);
	ok(left > 89.9 && left <= 90, "a shorter one keeps the longer");
	is_int((long long)sql_num("SELECT count(*) FROM guard_health WHERE"
				  " reason = 'HTTP 503'"),
		1, "with the last reason");
	guard_cooldown(g, "q", &left, &err);
	ok(left == 0, "another provider is fine");

	reset_policies();
	pp.rpm = 100;
	a = ask("p", "m", 1, 0);
	guard_acquire(g, &a, &t, &wait, &err);
	ok(t.health, "the acquire sees the cooldown");
	guard_release(g, &t, 0, -1, &err);
	is_int(guard_health_ok(g, "p", &err), LLM_OK, "a success");
	guard_cooldown(g, "p", &left, &err);
	ok(left == 0, "ends the cooldown");
	guard_acquire(g, &a, &t, &wait, &err);
	ok(!t.health, "the acquire sees none");
	guard_release(g, &t, 0, -1, &err);
	is_int(guard_health_ok(g, "p", &err), LLM_OK, "a success without one");

	guard_health_fail(g, "p", 0, -1, "HTTP 500", &err);
	is_int((long long)sql_num("SELECT count(*) FROM guard_health"), 0,
		"cooldown 0 and no Retry-After: nothing recorded");
	guard_health_fail(g, "p", 0, 2, "HTTP 429", &err);
	guard_cooldown(g, "p", &left, &err);
	ok(left > 1.9 && left <= 2, "but Retry-After still counts");
	sql("UPDATE guard_health SET until_ms = until_ms - 3000");
	guard_cooldown(g, "p", &left, &err);
	ok(left == 0, "a cooldown that ran out is none");
	buf_release(&err);
}

static void
test_counter(struct guard *g)
{
	long got[6];
	int i;

	empty_tables();
	for (i = 0; i < 5; i++)
		got[i] = guard_next(g, "group.rr", 3);
	ok(got[0] == 0 && got[1] == 1 && got[2] == 2 && got[3] == 0 &&
			got[4] == 1,
		"0, 1, 2, 0, 1");
	is_int(guard_next(g, "group.other", 3), 0, "each key its own");
	is_int(guard_next(g, "group.rr", 0), 0, "n 0: 0");
	is_int((long long)sql_num("SELECT value FROM guard_counters WHERE"
				  " key = 'group.rr'"),
		5, "stored");
	got[0] = guard_next(NULL, "x", 2);
	got[1] = guard_next(NULL, "x", 2);
	ok(got[0] != got[1] && got[0] >= 0 && got[0] < 2 && got[1] < 2,
		"without a database, a rotation of this process");
}

/* ==== several processes ==== */

/* Run fn in n children at once; returns the sum of their exit codes. */
static int
in_children(int n, int (*fn)(int))
{
	pid_t pids[16];
	int i, status, sum = 0;

	guard_close_all(); /* never share a connection across fork() */
	fflush(stdout);
	for (i = 0; i < n; i++)
		if ((pids[i] = fork()) == 0)
			_exit(fn(i));
	for (i = 0; i < n; i++) {
		waitpid(pids[i], &status, 0);
		sum += WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	return sum;
}

static struct guard *
child_guard(void)
{
	struct guard *g = NULL;
	struct buf err = BUF_INIT;

	if (guard_open(&g, path, &err) != LLM_OK)
		_exit(100);
	buf_release(&err);
	return g;
}

/* 10 tries without waiting under rpm 25: how many went. */
static int
rpm_child(int k)
{
	struct guard *g = child_guard();
	struct guard_ticket t = GUARD_TICKET_INIT;
	struct buf err = BUF_INIT;
	struct guard_ask a;
	double wait;
	int i, n = 0;

	(void)k;
	reset_policies();
	pp.rpm = 25;
	a = ask("rpm", "m", 1, 0);
	for (i = 0; i < 10; i++) {
		if (guard_acquire(g, &a, &t, &wait, &err) == LLM_OK)
			n++;
		guard_release(g, &t, 1, -1, &err);
	}
	guard_close_all();
	buf_release(&err);
	return n;
}

/* 5 tries of $1 under a daily budget of $17: how many went. */
static int
budget_child(int k)
{
	struct guard *g = child_guard();
	struct guard_ticket t = GUARD_TICKET_INIT;
	struct buf err = BUF_INIT;
	struct guard_ask a;
	double wait;
	int i, n = 0;

	(void)k;
	reset_policies();
	pp.daily_budget_usd = 17;
	a = ask("budget", "m", 1, 1);
	for (i = 0; i < 5; i++) {
		if (guard_acquire(g, &a, &t, &wait, &err) == LLM_OK)
			n++;
		guard_release(g, &t, 1, 1, &err);
	}
	guard_close_all();
	buf_release(&err);
	return n;
}

/* 5 requests under max_parallel 2, waiting when told; 1 when more than
 * 2 ran at once. */
static int
parallel_child(int k)
{
	struct guard *g = child_guard();
	struct guard_ticket t = GUARD_TICKET_INIT;
	struct guard_ask a;
	struct timespec ts = { 0, 0 };
	struct buf err = BUF_INIT;
	sqlite3 *db = NULL, *parents = peek;
	double wait, n;
	int i, bad = 0;

	(void)k;
	sqlite3_open(path, &db);
	sqlite3_busy_timeout(db, 5000);
	peek = db;
	reset_policies();
	pp.max_parallel = 2;
	a = ask("par", "m", 1, 0);
	for (i = 0; i < 5;) {
		if (guard_acquire(g, &a, &t, &wait, &err) != LLM_OK) {
			ts.tv_nsec = (long)(wait * 1e9);
			nanosleep(&ts, NULL);
			continue;
		}
		n = sql_num("SELECT count(*) FROM guard_slots WHERE"
			    " provider = 'par'");
		bad |= n > 2 || n < 1;
		ts.tv_nsec = 5000000;
		nanosleep(&ts, NULL);
		guard_release(g, &t, 1, -1, &err);
		i++;
	}
	sqlite3_close(db);
	peek = parents;
	guard_close_all();
	buf_release(&err);
	return bad;
}

static int
counter_child(int k)
{
	struct guard *g = child_guard();
	int i;

	(void)k;
	for (i = 0; i < 25; i++)
		guard_next(g, "shared", 1000);
	guard_close_all();
	return 0;
}

static void
test_processes(void)
{
	struct guard *g = NULL;
	struct buf err = BUF_INIT;

	empty_tables();
	is_int(in_children(8, rpm_child), 25,
		"8 processes x 10 tries under rpm 25: exactly 25 go");
	is_int((long long)sql_num("SELECT count(*) FROM guard_events WHERE"
				  " provider = 'rpm'"),
		25, "25 events");
	is_int(in_children(8, budget_child), 17,
		"8 processes x 5 tries of $1 under $17 a day: exactly 17 go");
	ok(sql_num("SELECT total(cost_usd) FROM guard_ledger WHERE"
		   " provider = 'budget'") == 17,
		"$17 spent, not a cent more");
	is_int(in_children(6, parallel_child), 0,
		"6 processes under max_parallel 2: never more than 2 at once");
	is_int((long long)sql_num("SELECT count(*) FROM guard_slots"), 0,
		"and every slot given back");
	is_int(in_children(4, counter_child), 0, "4 processes count");
	guard_open(&g, path, &err);
	is_int(guard_next(g, "shared", 1000), 100,
		"100 increments, none lost");
	buf_release(&err);
}

int
main(void)
{
	struct guard *g;
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	srand(1);
	g = test_open();
	test_applies();
	test_rpm(g);
	test_tpm(g);
	test_parallel(g);
	test_budgets(g);
	test_health(g);
	test_counter(g);
	test_processes();
	guard_close_all();
	ok(guard_opened(path) == NULL, "guard_close_all closes them");
	sqlite3_close(peek);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
