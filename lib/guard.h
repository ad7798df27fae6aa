/*
 * guard.h - what the processes on one machine share through the SQLite
 * database (the same file as the log): rate limits, concurrency limits,
 * budgets, provider health and round-robin counters.
 *
 * Limits (struct policy of a provider and of a model; 0 = none):
 *   rpm           requests started in the last 60 s (60.25 s: a margin
 *                 for the network's jitter, so that the provider never
 *                 counts more than the limit in its minute);
 *   tpm           tokens of the requests started in the same window,
 *                 counted as estimated at the start (input estimate plus
 *                 the most output) and corrected to the real ones when
 *                 the request ends;
 *   max_parallel  requests running at once.
 * The provider's limits count every request to that provider, the
 * model's every request to that model id of that provider.  A request
 * that does not fit waits (guard_acquire says how long) or, with
 * --no-wait, fails.  Each check and its insert happen in one
 * BEGIN IMMEDIATE transaction, so no two processes take the same place.
 * A request bigger than tpm on its own goes when the window is empty.
 *
 * Budgets (daily_budget_usd, monthly_budget_usd in [defaults] for all
 * providers, and per provider): a request reserves its worst-case cost
 * (input estimate x input price + most output x output price) before it
 * is sent and settles to the real cost when it ends; spent = settled
 * costs + open reservations, from the guard_ledger table (so --no-log
 * requests count too).  Days and months are UTC; a request counts on the
 * day it was reserved.  A model without prices costs 0: it is never
 * refused and never recorded.  Spending is recorded only while a budget
 * applies.  A process killed between reservation and settlement leaves
 * its worst case counted.
 *
 * Slots (max_parallel) carry the pid and an expiry: slots of dead
 * processes (kill(pid, 0) fails with ESRCH) and expired ones are
 * reclaimed.
 *
 * Health: a provider that failed is cooled down for the longer of its
 * cooldown and its Retry-After; routing groups skip it and llm-providers
 * shows it until then.  A success clears it.
 *
 * Tables (made by store.c's migrations):
 *   guard_events(id, at_ms, provider, model, tokens)
 *   guard_slots(id, provider, model, pid, started_ms, expires_ms)
 *   guard_ledger(id, at_ms, day 'YYYY-MM-DD', month 'YYYY-MM', provider,
 *                model, cost_usd, open, pid)
 *   guard_health(provider, failed_at_ms, until_ms, reason)
 *   guard_counters(key, value)
 * Times are milliseconds since the epoch (wall clock); models are
 * "PROVIDER/ID".
 *
 * One connection per database per process: guard_open() returns the same
 * struct guard for the same path; guard_close_all() (also run at exit)
 * closes them.  Strings handed in are borrowed.
 */
#ifndef LLM_GUARD_H
#define LLM_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "registry.h"
#include "status.h"

struct guard;

/* Most output tokens assumed for a model without max_tokens or
 * max_output_tokens. */
#define GUARD_DEFAULT_OUTPUT 4096

/* What one request asks for. */
struct guard_ask {
	const char *provider;        /* its name */
	const char *model;           /* the id sent to the API */
	const struct policy *pp;     /* the provider's limits and budgets */
	const struct policy *mp;     /* the model's limits, or NULL */
	const struct policy *global; /* [defaults]' budgets, or NULL */
	long tokens;                 /* input estimate + most output */
	double cost;                 /* worst case, USD; 0 when unpriced */
	double hold;                 /* seconds after which a slot is
					reclaimed even from a live process */
};

/* What guard_acquire took, for guard_release. */
struct guard_ticket {
	int64_t event;       /* guard_events row of the attempt, or 0 */
	int64_t slot;        /* guard_slots row, or 0 */
	int64_t reservation; /* guard_ledger row, or 0 */
	bool health;         /* a health row existed at the last acquire */
	bool acquired;       /* guard_acquire let an attempt go */
};

/* clang-format off */
#define GUARD_TICKET_INIT { 0 }
/* clang-format on */

/* Whether a limit, or a budget with a cost, applies to a: when not, the
 * database need not be opened. */
bool guard_applies(const struct guard_ask *a);
/* Whether a limit applies to a; whether a budget does (a has a cost). */
bool guard_limited(const struct guard_ask *a);
bool guard_budgeted(const struct guard_ask *a);

/* Open (creating it and its tables) the database at path, or return the
 * one already open.  Errors: LLM_ERR_IO. */
enum llm_status guard_open(struct guard **gp, const char *path,
	struct buf *err);
/* The guard already open for path, or NULL. */
struct guard *guard_opened(const char *path);
void guard_close_all(void);

/*
 * Let one attempt of a request go: LLM_OK when it may start now (the
 * event, slot and, on the first attempt, the reservation are taken into
 * t).  LLM_ERR_TEMP with *wait > 0 (seconds) when a limit is full: err
 * names it ("p: rate limit of 60 requests per minute reached; retry in
 * 12 s or drop --no-wait"); try again after *wait.  LLM_ERR_TEMP with
 * *wait == 0 when a budget refuses it, for good.  LLM_ERR_IO when the
 * database fails.
 */
enum llm_status guard_acquire(struct guard *g, const struct guard_ask *a,
	struct guard_ticket *t, double *wait, struct buf *err);

/* An attempt that will be retried ended: give back its slot; its event
 * counts tokens (those it used, 0 for none). */
enum llm_status guard_end_attempt(struct guard *g, struct guard_ticket *t,
	long tokens, struct buf *err);

/* The request ended: give back the slot, correct the event to the real
 * tokens and settle the reservation to the real cost (< 0: nothing was
 * spent).  t is empty afterwards. */
enum llm_status guard_release(struct guard *g, struct guard_ticket *t,
	long tokens, double cost, struct buf *err);

/* Record that provider failed (reason: a word such as "unavailable"):
 * it cools down for the longer of cooldown and retry_after seconds
 * (< 0 = none); nothing is recorded when both are <= 0. */
enum llm_status guard_health_fail(struct guard *g, const char *provider,
	double cooldown, double retry_after, const char *reason,
	struct buf *err);
/* Record that provider answered: its cooldown ends (a write only when
 * it has one). */
enum llm_status guard_health_ok(struct guard *g, const char *provider,
	struct buf *err);
/* Seconds of cooldown left for provider into *left (0 = none). */
enum llm_status guard_cooldown(struct guard *g, const char *provider,
	double *left, struct buf *err);

/* The next of 0..n-1 in a rotation named key that all processes share
 * (one atomic increment).  Without g, or when the database fails, a
 * rotation of this process. */
long guard_next(struct guard *g, const char *key, long n);

/* route.h's shared state (cooldowns, rotations) from the guard of the
 * database at path, opened when a group first needs it. */
struct route_env;
void guard_route_env(struct route_env *env, char *path);

#endif
