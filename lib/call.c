/* call.c - one request to one model; see call.h. */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "call.h"
#include "guard.h"
#include "json.h"
#include "msg.h"
#include "sig.h"
#include "xalloc.h"

#define MAX_RETRY_AFTER 120.0
#define DEFAULT_COOLDOWN 30.0 /* seconds, without [defaults] */
#define HOLD_MARGIN 60.0      /* seconds a slot outlives the time limit */
#define WAIT_HOOK_MS 10.0     /* on_wait runs this long after a request */
/* The longest cooldown a provider's hint sets: a daily quota of one
 * model must not sideline the provider for the rest of the day. */
#define MAX_COOLDOWN_HINT 900.0

double
call_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void
call_init(struct call *c)
{
	memset(c, 0, sizeof(*c));
	llm_result_init(&c->res);
	c->err.ptr = buf_empty;
	c->key.ptr = buf_empty;
	c->ttft_ms = -1;
	c->latency_ms = -1;
	c->cost = -1;
	c->input_tokens = c->output_tokens = c->cached_tokens = -1;
}

void
call_release(struct call *c)
{
	llm_result_release(&c->res);
	buf_release(&c->err);
	/* The key is wiped before its memory goes back. */
	if (c->key.len)
		memset(c->key.ptr, 0, c->key.len);
	buf_release(&c->key);
	free(c->request_id);
	c->request_id = NULL;
	free(c->cache_id);
	c->cache_id = NULL;
}

/* Per-model defaults, under what the caller set. */
static void
apply_defaults(struct call *c)
{
	const struct model *m = c->model;

	c->rq.provider = c->provider;
	c->rq.model = m;
	if (!c->rq.has_temperature && m->has_temperature) {
		c->rq.has_temperature = true;
		c->rq.temperature = m->temperature;
	}
	if (!c->rq.has_top_p && m->has_top_p) {
		c->rq.has_top_p = true;
		c->rq.top_p = m->top_p;
	}
	if (c->rq.max_tokens <= 0 && m->max_tokens > 0)
		c->rq.max_tokens = m->max_tokens;
}

/* An API that requires max_tokens gets the model's output limit. */
static void
require_max_tokens(struct call *c)
{
	if (c->ops->required_max_tokens && c->rq.max_tokens <= 0)
		c->rq.max_tokens = c->model->max_output_tokens > 0 ?
					   c->model->max_output_tokens :
					   c->ops->required_max_tokens;
}

static const struct provider_ops *
find_ops(struct call *c)
{
	const struct provider_ops *ops = provider_ops_find(c->provider->type);

	if (ops == NULL) {
		/* registry_load() admits only known types. */
		c->st = LLM_ERR_CONFIG;
		buf_setf(&c->err, "unknown provider type '%s' of '%s'",
			c->provider->type, c->provider->name);
	}
	return ops;
}

enum llm_status
call_dry_run(struct call *c, struct buf *out)
{
	struct http_request h = HTTP_REQUEST_INIT;
	const struct provider_ops *ops;

	apply_defaults(c);
	if ((ops = c->ops = find_ops(c)) == NULL)
		return c->st;
	require_max_tokens(c);
	if (ops->local) {
		buf_addf(out, "# %s (type %s) answers offline: nothing is sent\n",
			c->provider->name, c->provider->type);
		return c->st = LLM_OK;
	}
	c->rq.api_key = c->provider->auth ? "***" : "";
	c->st = ops->build(&c->rq, &h, &c->err);
	if (c->st == LLM_OK)
		http_request_dump(&h, out);
	http_request_release(&h);
	return c->st;
}

static int
on_text(void *ud, const char *p, size_t n)
{
	struct call *c = ud;

	if (c->ttft_ms < 0)
		c->ttft_ms = (long)(call_now_ms() - c->t0);
	c->started = true;
	return c->on_text ? c->on_text(c->ud, p, n) : 0;
}

static int
on_body(void *ud, const char *p, size_t n)
{
	struct provider_stream *ps = ud;

	return ps->ops->feed(ps, p, n);
}

/* Sleep for ms milliseconds unless a signal arrives first. */
static void
nap(double ms)
{
	struct pollfd pfd;
	double until = call_now_ms() + ms, left;

	pfd.fd = sig_fd();
	pfd.events = POLLIN;
	while (!sig_caught() && (left = until - call_now_ms()) > 0)
		poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)ceil(left));
}

/* Seconds before attempt number attempt + 1. */
static double
backoff(int attempt, double retry_after)
{
	double cap, wait;

	cap = 0.5 * pow(2, attempt - 1);
	if (cap > 8)
		cap = 8;
	wait = cap * ((double)rand() / RAND_MAX);
	/* A hint is the least wait: the reset of a limit other than the one
	 * that refused may be near, and a clock may be ahead. */
	return retry_after > wait ? retry_after : wait;
}

/* Describe a non-2xx answer, whose status is st, in c->err. */
static void
http_failure(struct call *c, const struct http_response *r,
	enum llm_status st)
{
	const struct provider *p = c->provider;
	struct buf hint = BUF_INIT;

	buf_setf(&c->err, "%s: HTTP %ld: ", p->name, r->status);
	provider_error(c->ops, r, &c->err);
	if (r->status == 401 || r->status == 403 ||
		(st == LLM_ERR_AUTH && r->status != 402)) {
		if (p->key_var)
			buf_setf(&hint, "check %s", p->key_var);
		else if (p->auth)
			buf_setf(&hint, "check api_key in [provider.%s]",
				p->name);
	} else if (r->status == 404 && !strstr(c->err.ptr, c->model->id)) {
		/* unless the provider's message names it already */
		buf_setf(&hint, "check the model id '%s'", c->model->id);
	}
	if (hint.len) {
		/* "... is invalid; check X", not "... is invalid.; check X" */
		if (c->err.ptr[c->err.len - 1] == '.')
			buf_truncate(&c->err, c->err.len - 1);
		buf_addf(&c->err, "; %s", hint.ptr);
	}
	buf_release(&hint);
}

static long
estimate_tokens(size_t bytes)
{
	return (long)((bytes + 3) / 4);
}

long
call_input_tokens(const char *system, const struct llm_message *msgs,
	size_t n)
{
	size_t in = system ? strlen(system) : 0, i;

	for (i = 0; i < n; i++)
		in += strlen(msgs[i].content) + 4;
	return estimate_tokens(in);
}

/* Tokens of the system prompt and the messages, estimated. */
static long
estimate_input(const struct call *c)
{
	return call_input_tokens(c->rq.system, c->rq.messages,
		c->rq.nmessages);
}

static void
settle_usage(struct call *c)
{
	c->input_tokens = c->res.usage.input;
	c->output_tokens = c->res.usage.output;
	c->cached_tokens = c->res.usage.cached;
	/* A failure before any answer costs nothing and used nothing. */
	if (c->st != LLM_OK && c->res.text.len == 0 && c->input_tokens < 0)
		return;
	if (c->input_tokens < 0) {
		c->input_tokens = estimate_input(c);
		c->tokens_estimated = true;
	}
	if (c->output_tokens < 0) {
		c->output_tokens = estimate_tokens(c->res.text.len);
		c->tokens_estimated = true;
	}
	c->cost = registry_cost(c->model, c->input_tokens, c->output_tokens,
		c->cached_tokens > 0 ? c->cached_tokens : 0);
}

/*
 * ==== answers without the network (ops->local) ====
 *
 * A local answer runs in the event loop like a transfer: begin_local()
 * sets it up, run_local() gives out its pieces as they fall due,
 * check_times() keeps its time limits, and end_attempt() ends it through
 * end_local(), which also ends one that a signal cut short.
 */

static void end_attempt(struct call *c);
static void past_limits(const struct call *c, double at, struct buf *why);

/* Begin c's local answer; its first piece is due after local.wait_ms. */
static void
begin_local(struct call *c)
{
	double now = call_now_ms();

	buf_release(&c->local.text);
	memset(&c->local, 0, sizeof(c->local));
	c->local.text.ptr = buf_empty;
	provider_stream_init(&c->ps, c->ops, &c->res,
		c->rq.stream ? on_text : NULL, c);
	c->local_st = c->ops->local(&c->rq, &c->local, &c->res, &c->err);
	c->local_started = now / 1000;
	c->local_first = c->local_last = 0;
	c->local_due = now + (double)c->local.wait_ms;
	c->state = CALL_RUNNING;
}

/*
 * Give out the pieces of c's local answer that are due; the last one, or
 * a failure, ends the attempt.  A piece due after a time limit ran out
 * ends it instead, however late the loop comes to it.  (on_wait is not
 * called: the work would not overlap the answer but hold it up.)
 */
static void
run_local(struct call *c, double now)
{
	struct buf why = BUF_INIT;

	while (c->local_st == LLM_OK && !c->local.ended &&
		c->local_due <= now && !sig_caught()) {
		past_limits(c, c->local_due, &why);
		if (why.len) {
			c->local_st = LLM_ERR_TEMP;
			buf_setf(&c->err, "%s", why.ptr);
			break;
		}
		c->local_st = c->ops->local_next(&c->rq, &c->local, &c->ps,
			&c->err);
		now = call_now_ms();
		c->local_last = now / 1000;
		if (c->local_first == 0)
			c->local_first = c->local_last;
		c->local_due = now + (double)c->local.wait_ms;
	}
	buf_release(&why);
	if (c->local_st != LLM_OK || c->local.ended)
		end_attempt(c);
}

/* How c's local attempt ended: its own status, or a signal's when it was
 * cut short.  An answer that was not streamed goes out whole now. */
static enum llm_status
end_local(struct call *c)
{
	enum llm_status st = c->local_st;

	if (st == LLM_OK && !c->local.ended) {
		st = sig_caught() == SIGTERM ? LLM_ERR_TERMINATED :
					       LLM_ERR_INTERRUPTED;
		buf_setf(&c->err, "%s", status_str(st));
	} else if (st == LLM_OK && !c->rq.stream && c->res.text.len) {
		st = (enum llm_status)on_text(c, c->res.text.ptr,
			c->res.text.len);
	}
	if (st != LLM_OK && st != LLM_ERR_PIPE && c->err.len == 0)
		buf_setf(&c->err, "%s: %s", c->provider->name, status_str(st));
	/* A time limit: retried like a silent HTTP attempt. */
	c->retry = st == LLM_ERR_TEMP;
	buf_release(&c->local.text);
	return st;
}

/* Answer c from the cache when it may and can: the text goes out like
 * a fresh answer's.  A cache that cannot be read is skipped. */
static bool
from_cache(struct call *c)
{
	struct buf key = BUF_INIT, e = BUF_INIT;
	bool hit = false;

	if (!c->cache || c->database == NULL || *c->database == '\0')
		return false;
	cache_key(&c->rq, &key);
	if (cache_get(c->database, key.ptr, c->cache_ttl, &c->res, &hit,
		    &e) != LLM_OK)
		msg_warn("the cache is not used: %s", e.ptr);
	buf_release(&e);
	c->cache_id = buf_detach(&key);
	if (!hit)
		return false;
	msg_debug(1, "%s: answered from the cache", c->provider->name);
	c->cached = true;
	c->st = c->res.text.len ? (enum llm_status)on_text(c, c->res.text.ptr,
					  c->res.text.len) :
				  LLM_OK;
	if (c->res.finish == NULL)
		provider_set_finish(&c->res, "stop");
	return true;
}

/* A complete answer goes into the cache for the next time. */
static void
to_cache(struct call *c)
{
	struct buf e = BUF_INIT;

	if (c->cache_id == NULL || c->cached || c->st != LLM_OK)
		return;
	if (cache_put(c->database, c->cache_id, c->provider->name,
		    c->model->id, &c->res, &e) != LLM_OK)
		msg_warn("cannot keep the answer in the cache: %s", e.ptr);
	buf_release(&e);
}

/* Look up the ops and the key, and build the request: CALL_READY, or
 * CALL_DONE with the reason. */
static void
prepare(struct call *c)
{
	c->t0 = c->next_at = call_now_ms();
	apply_defaults(c);
	c->state = CALL_DONE;
	if ((c->ops = find_ops(c)) == NULL)
		return;
	require_max_tokens(c);
	if (from_cache(c))
		return;
	c->st = registry_api_key(c->provider, &c->key, &c->err);
	if (c->st != LLM_OK)
		return;
	c->rq.api_key = c->key.ptr;
	if (!c->ops->local)
		c->st = c->ops->build(&c->rq, &c->h, &c->err);
	if (c->st == LLM_OK)
		c->state = CALL_READY;
}

/* Seconds left of the whole call's time, or a large number. */
static double
time_left(const struct call *c, double now)
{
	if (c->timeout <= 0)
		return 1e9;
	return c->timeout - (now - c->t0) / 1000;
}

/* ==== shared limits, budgets and health (guard.h) ==== */

/* What an attempt of c asks of the shared limits and budgets. */
static void
limits_ask(const struct call *c, struct guard_ask *a)
{
	const struct model *m = c->model;
	long in = estimate_input(c), out;

	out = c->rq.max_tokens > 0 ? c->rq.max_tokens :
	      m->max_output_tokens > 0 ? m->max_output_tokens :
					 GUARD_DEFAULT_OUTPUT;
	memset(a, 0, sizeof(*a));
	a->provider = c->provider->name;
	a->model = m->id;
	a->pp = &c->provider->policy;
	a->mp = &m->policy;
	a->global = c->defaults;
	a->tokens = in + out;
	a->cost = m->has_cost ? registry_cost(m, in, out, 0) : 0;
	if (c->timeout > 0)
		a->hold = (c->attempts ? time_left(c, call_now_ms()) :
					 c->timeout) + HOLD_MARGIN;
}

/* End c without another attempt: the guard said no. */
static void
hold_back(struct call *c, enum llm_status st, const char *why)
{
	c->st = st;
	buf_setf(&c->err, "%s", why);
	c->held = true;
	c->state = CALL_DONE;
}

/*
 * Whether c's next attempt may begin now.  When a shared limit is full,
 * c waits (next_at) while other calls go on, or, with no_wait, ends
 * (LLM_ERR_TEMP); a budget refuses it (LLM_ERR_TEMP).  A database that
 * fails is a warning when only limits apply, and ends the call
 * (LLM_ERR_IO) when a budget cannot be checked.  Nothing is opened when
 * nothing applies.
 */
static bool
admit(struct call *c, double now)
{
	static bool warned;
	struct guard_ask a;
	struct buf why = BUF_INIT;
	enum llm_status st = LLM_OK;
	double wait = 0;
	bool go = false;

	if (c->database == NULL || *c->database == '\0')
		return true;
	limits_ask(c, &a);
	if (!guard_applies(&a))
		return true;
	if (c->guard == NULL)
		st = guard_open(&c->guard, c->database, &why);
	if (c->guard)
		st = guard_acquire(c->guard, &a, &c->ticket, &wait, &why);
	if (st == LLM_OK) {
		go = true;
	} else if (st == LLM_ERR_IO && !guard_budgeted(&a)) {
		if (!warned)
			msg_warn("cannot enforce limits: %s", why.ptr);
		warned = go = true;
	} else if (st == LLM_ERR_IO) {
		hold_back(c, st, "cannot check the budget: ");
		buf_adds(&c->err, why.ptr);
	} else if (wait <= 0 || c->no_wait) {
		hold_back(c, st, why.ptr);
	} else if (c->attempts > 0 && wait >= time_left(c, now)) {
		/* No time left to retry: the last failure stands. */
		c->held = true;
		c->state = CALL_DONE;
	} else {
		msg_debug(1, "%s; waiting %.2f s",
			why.ptr, wait);
		c->next_at = now + wait * 1000;
	}
	buf_release(&why);
	return go;
}

/* An attempt that will be retried ended: its slot is free. */
static void
give_back_slot(struct call *c)
{
	struct buf why = BUF_INIT;

	if (c->guard &&
		guard_end_attempt(c->guard, &c->ticket, 0, &why) != LLM_OK)
		msg_debug(1, "cannot release the slot: %s", why.ptr);
	buf_release(&why);
}

/* The seconds a failed provider cools down: its own, else [defaults]'. */
static double
cooldown(const struct call *c)
{
	if (c->provider->policy.cooldown >= 0)
		return c->provider->policy.cooldown;
	if (c->defaults && c->defaults->cooldown >= 0)
		return c->defaults->cooldown;
	return DEFAULT_COOLDOWN;
}

/*
 * The call has ended: settle the real tokens and cost, and record the
 * provider's health.  A failure (unavailable, rate-limited or timed out
 * after the retries; not a refusal of the key, bad data, an interruption
 * or the guard's own refusal) cools the provider down; a success ends a
 * cooldown, when the guard is open in this process anyway.
 */
static void
release_limits(struct call *c)
{
	struct buf why = BUF_INIT, reason = BUF_INIT;
	bool asked = c->ticket.acquired, failed;
	long tokens = 0;

	if (c->input_tokens > 0)
		tokens += c->input_tokens;
	if (c->output_tokens > 0)
		tokens += c->output_tokens;
	if (c->guard &&
		guard_release(c->guard, &c->ticket, tokens, c->cost, &why) !=
			LLM_OK)
		msg_debug(1, "cannot settle the limits: %s", why.ptr);
	failed = (c->st == LLM_ERR_UNAVAILABLE || c->st == LLM_ERR_TEMP) &&
		c->attempts > 0 && !c->held && !sig_caught();
	if (c->database == NULL || *c->database == '\0' || c->held ||
		(!failed && c->st != LLM_OK))
		goto out;
	if (failed) {
		if (c->http_status >= 400)
			buf_setf(&reason, "HTTP %ld", c->http_status);
		else
			buf_setf(&reason, "%s", status_str(c->st));
		if (c->guard == NULL)
			guard_open(&c->guard, c->database, &why);
		if (c->guard &&
			guard_health_fail(c->guard, c->provider->name,
				cooldown(c), fmin(c->wait, MAX_COOLDOWN_HINT),
				reason.ptr, &why) != LLM_OK)
			msg_debug(1, "cannot record the failure: %s", why.ptr);
		goto out;
	}
	if (c->guard == NULL)
		c->guard = guard_opened(c->database);
	/* The acquire read whether there is a cooldown to end. */
	if (c->guard && (!asked || c->ticket.health) &&
		guard_health_ok(c->guard, c->provider->name, &why) != LLM_OK)
		msg_debug(1, "cannot record the success: %s", why.ptr);
out:
	buf_release(&why);
	buf_release(&reason);
}

/* Begin an attempt: a local answer is set up (run_local() gives it out),
 * an HTTP one is added to hm. */
static void
begin(struct call *c, struct http_multi *hm)
{
	double left;

	/* Time limits and latency count from the first attempt, not from
	 * the wait for a shared limit. */
	if (c->attempts == 0)
		c->t0 = call_now_ms();
	left = time_left(c, call_now_ms());
	c->attempts++;
	c->retry = false;
	c->wait = -1;
	c->out_at = 0;
	llm_result_release(&c->res);
	llm_result_init(&c->res);
	buf_reset(&c->err);
	if (c->ops->local) {
		begin_local(c);
		return;
	}
	http_call_init(&c->hc, &c->h);
	/* check_times() ends it on time; libcurl's limit is a backstop. */
	c->hc.timeout = left < 1e9 ? left + 1 : 0;
	c->hc.connect_timeout = c->connect_timeout > 0 ? c->connect_timeout :
								    30;
	if (c->hc.timeout > 0 && c->hc.connect_timeout > c->hc.timeout)
		c->hc.connect_timeout = c->hc.timeout;
	provider_stream_init(&c->ps, c->ops, &c->res, on_text, c);
	if (c->rq.stream) {
		c->hc.fn = on_body;
		c->hc.ud = &c->ps;
	}
	c->state = CALL_RUNNING;
	http_multi_add(hm, &c->hc);
}

/* The attempt's transfer ended: decode it and decide what comes next. */
static void
end_attempt(struct call *c)
{
	struct http_call *hc = &c->hc;
	const struct provider_ops *ops = c->ops;
	enum llm_status st = hc->st;

	c->http_status = hc->resp.status;
	if (hc->resp.request_id && c->request_id == NULL)
		c->request_id = xstrdup(hc->resp.request_id);
	if (ops->local) {
		st = end_local(c);
	} else if (st != LLM_OK) {
		/* A transport failure, a timeout, a signal, or the stream's
		 * own error. */
		if (c->ps.err.len)
			buf_setf(&c->err, "%s: %s", c->provider->name,
				c->ps.err.ptr);
		else if (st == LLM_ERR_PIPE)
			buf_reset(&c->err);
		else
			buf_setf(&c->err, "%s", hc->err.ptr);
		if ((st == LLM_ERR_UNAVAILABLE && hc->resp.status == 0) ||
			(st == LLM_ERR_TEMP && c->ps.err.len == 0))
			c->retry = true;
	} else if (hc->resp.status < 200 || hc->resp.status >= 300) {
		st = ops->error_status ?
			     ops->error_status(hc->resp.status,
				     hc->resp.body.ptr, hc->resp.body.len) :
			     provider_http_status(hc->resp.status);
		http_failure(c, &hc->resp, st);
		c->retry = hc->resp.should_retry_set ?
				   hc->resp.should_retry :
				   provider_http_retryable(hc->resp.status);
		/* Retry-After, the rate limits' resets, the body's hint */
		c->wait = http_response_wait(&hc->resp);
		if (c->wait < 0 && ops->error_wait)
			c->wait = ops->error_wait(&hc->resp);
		if (c->wait > MAX_RETRY_AFTER && c->retry) {
			msg_debug(1, "%s: asked to wait %.1f s, longer than "
				"%g s: no retry now", c->provider->name,
				c->wait, MAX_RETRY_AFTER);
			c->retry = false;
		} else if (c->wait >= 0) {
			msg_debug(1, "%s: asked to wait %.3f s",
				c->provider->name, c->wait);
		}
	} else if (c->rq.stream) {
		st = ops->end(&c->ps);
		if (st)
			buf_setf(&c->err, "%s: %s", c->provider->name,
				c->ps.err.ptr);
	} else {
		struct buf e = BUF_INIT;

		st = ops->parse(hc->resp.body.ptr, hc->resp.body.len, &c->res,
			&e);
		if (st)
			buf_setf(&c->err, "%s: %s", c->provider->name, e.ptr);
		else if (c->res.text.len)
			st = (enum llm_status)on_text(c, c->res.text.ptr,
				c->res.text.len);
		buf_release(&e);
	}
	provider_stream_release(&c->ps);
	http_call_release(hc);
	c->st = st;
	c->state = CALL_DONE;
	if (st == LLM_OK || !c->retry || c->started ||
		c->attempts > c->retries || sig_caught())
		return;
	c->wait = backoff(c->attempts, c->wait);
	if (c->wait >= time_left(c, call_now_ms()))
		return; /* no time left for another attempt */
	msg_debug(1, "%s: attempt %d failed (%s); retrying in %.1f s",
		c->ref ? c->ref : c->model->ref, c->attempts, c->err.ptr,
		c->wait);
	c->next_at = call_now_ms() + c->wait * 1000;
	c->state = CALL_READY;
	give_back_slot(c);
}

/* The call has ended: settle its finish reason, usage and timings. */
static void
conclude(struct call *c)
{
	if (c->st != LLM_OK && c->retry && c->attempts > 1)
		buf_addf(&c->err, " (after %d attempts)", c->attempts);
	if (c->attempts > 0) {
		if (c->st == LLM_OK && c->res.finish == NULL)
			provider_set_finish(&c->res, "stop");
		else if (c->st != LLM_OK && c->st != LLM_ERR_PIPE)
			c->res.finish = "error";
		settle_usage(c);
		to_cache(c);
	} else if (c->cached) {
		c->input_tokens = c->res.usage.input;
		c->output_tokens = c->res.usage.output;
		c->cached_tokens = c->res.usage.cached;
		c->cost = 0;
	}
	c->latency_ms = (long)(call_now_ms() - c->t0);
	if (c->ttft_ms < 0 && c->st == LLM_OK)
		c->ttft_ms = c->latency_ms;
	release_limits(c);
	http_request_release(&c->h);
	if (c->on_done)
		c->on_done(c->ud, c);
}

/* When c's running attempt began, and got its first and its last piece
 * of the answer (seconds on http_now()'s clock; 0 = not yet). */
static void
attempt_times(const struct call *c, double *started, double *first,
	double *last)
{
	if (c->ops->local) {
		*started = c->local_started;
		*first = c->local_first;
		*last = c->local_last;
	} else {
		*started = c->hc.started;
		*first = c->hc.first_byte;
		*last = c->hc.last_byte;
	}
}

/* Why c's running attempt is past one of its time limits at the time at
 * (ms), into why; nothing when it is not. */
static void
past_limits(const struct call *c, double at, struct buf *why)
{
	const char *name = c->provider->name;
	double started, first, last;

	attempt_times(c, &started, &first, &last);
	if (c->first_byte_timeout > 0 && first == 0 &&
		at / 1000 - started > c->first_byte_timeout)
		buf_setf(why, "%s: no answer within %g s", name,
			c->first_byte_timeout);
	else if (c->idle_timeout > 0 && last > 0 &&
		at / 1000 - last > c->idle_timeout)
		buf_setf(why, "%s: the answer stalled for %g s", name,
			c->idle_timeout);
	else if (time_left(c, at) <= 0)
		buf_setf(why, "%s: timed out after %g s", name, c->timeout);
}

/* End a running attempt that went past one of its time limits. */
static void
check_times(struct call *c, struct http_multi *hm, double now)
{
	struct buf why = BUF_INIT;

	past_limits(c, now, &why);
	if (why.len && c->ops->local) {
		c->local_st = LLM_ERR_TEMP;
		buf_setf(&c->err, "%s", why.ptr);
		end_attempt(c);
	} else if (why.len) {
		http_multi_abort(hm, &c->hc, LLM_ERR_TEMP, why.ptr);
	}
	buf_release(&why);
}

/* Milliseconds until the next thing that c waits for, at most cap. */
static double
next_event(const struct call *c, double now, double cap)
{
	double t = cap, started, first, last;

	if (c->state == CALL_READY)
		t = c->next_at - now;
	else if (c->state != CALL_RUNNING)
		return cap;
	/* Before the first attempt, the time limit has not started. */
	if (c->timeout > 0 && c->attempts > 0 && time_left(c, now) * 1000 < t)
		t = time_left(c, now) * 1000;
	if (c->state != CALL_RUNNING)
		return fmin(t, cap);
	attempt_times(c, &started, &first, &last);
	if (c->ops->local)
		t = fmin(t, c->local_due - now);
	if (c->first_byte_timeout > 0 && first == 0)
		t = fmin(t, (started + c->first_byte_timeout) * 1000 - now);
	if (c->idle_timeout > 0 && last > 0)
		t = fmin(t, (last + c->idle_timeout) * 1000 - now);
	return fmin(t, cap);
}

/*
 * After the transfers moved on: run the on_wait hooks of the calls whose
 * request went out WAIT_HOOK_MS ago or more (*wait is cut to when the
 * next one is due).  Whether the loop must look again before it waits:
 * a transfer ended (then no hook runs, so as not to delay it), or a hook
 * ran (bytes may have come meanwhile, and the time limits must not judge
 * the transfers before they are read).  The grace leaves a provider on
 * the same machine the processor to take the request up first.
 */
static bool
wait_hooks(struct call **cs, size_t n, double *wait)
{
	void (*fn)(void *);
	bool ran = false;
	double now = call_now_ms();
	size_t i;

	for (i = 0; i < n; i++)
		if (cs[i]->state == CALL_RUNNING && cs[i]->hc.done)
			return true;
	for (i = 0; i < n; i++) {
		struct call *c = cs[i];

		if (c->state != CALL_RUNNING || c->on_wait == NULL ||
			!http_call_waiting(&c->hc))
			continue;
		if (c->out_at == 0)
			c->out_at = now;
		if (now < c->out_at + WAIT_HOOK_MS) {
			*wait = fmin(*wait, c->out_at + WAIT_HOOK_MS - now);
			continue;
		}
		fn = c->on_wait;
		c->on_wait = NULL;
		fn(c->wait_ud);
		ran = true;
	}
	return ran;
}

void
call_run_many(struct call **cs, size_t n)
{
	struct http_multi *hm = http_multi_new();
	size_t i, busy;
	double now, wait;
	int sig;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (i = 0; i < n; i++) {
		prepare(cs[i]);
		if (cs[i]->state == CALL_DONE)
			conclude(cs[i]);
	}
	for (;;) {
		busy = 0;
		wait = 1000;
		now = call_now_ms();
		for (i = 0; i < n && !sig_caught(); i++) {
			struct call *c = cs[i];

			if (c->state == CALL_READY && c->next_at <= now) {
				if (admit(c, now))
					begin(c, hm);
				now = call_now_ms();
			}
			if (c->state == CALL_RUNNING && c->ops->local)
				run_local(c, now);
			if (c->state == CALL_RUNNING && c->hc.done)
				end_attempt(c);
			else if (c->state == CALL_RUNNING)
				check_times(c, hm, now);
			if (c->state == CALL_RUNNING && c->hc.done)
				end_attempt(c);
			if (c->state == CALL_DONE && c->latency_ms < 0)
				conclude(c);
			if (c->state == CALL_READY || c->state == CALL_RUNNING)
				busy++;
			wait = next_event(c, now, wait);
		}
		if (busy == 0 || sig_caught())
			break;
		if (wait < 0)
			wait = 0;
		if (!http_multi_running(hm)) {
			nap(wait);
		} else {
			http_multi_perform(hm);
			if (!wait_hooks(cs, n, &wait))
				http_multi_poll(hm, (int)ceil(wait));
		}
	}
	/* A signal: what still runs or waits ends as interrupted. */
	sig = sig_caught();
	http_multi_free(hm);
	for (i = 0; i < n; i++) {
		struct call *c = cs[i];

		if (c->state == CALL_RUNNING) {
			end_attempt(c);
		} else if (c->state == CALL_READY) {
			c->st = sig == SIGTERM ? LLM_ERR_TERMINATED :
						 LLM_ERR_INTERRUPTED;
			buf_setf(&c->err, "%s", status_str(c->st));
			c->state = CALL_DONE;
		}
		if (c->latency_ms < 0)
			conclude(c);
	}
}

enum llm_status
call_run(struct call *c)
{
	call_run_many(&c, 1);
	return c->st;
}

void
call_row(const struct call *c, const char *tool, const char *prompt,
	struct store_request *row)
{
	memset(row, 0, sizeof(*row));
	row->tool = tool;
	row->model = c->ref ? c->ref : c->model->ref;
	row->provider = c->provider->name;
	row->provider_model = c->model->id;
	row->step = -1;
	row->system = c->rq.system && *c->rq.system ? c->rq.system : NULL;
	row->prompt = prompt;
	row->response = c->res.text.ptr;
	row->status = call_status_word(c);
	row->error = c->st == LLM_OK || c->err.len == 0 ? NULL : c->err.ptr;
	row->http_status = c->http_status;
	row->input_tokens = c->input_tokens;
	row->output_tokens = c->output_tokens;
	row->cached_tokens = c->cached_tokens;
	row->tokens_estimated = c->tokens_estimated;
	row->latency_ms = c->latency_ms;
	row->ttft_ms = c->ttft_ms;
	row->cost_usd = c->cost;
	row->finish_reason = c->res.finish;
	row->finish_reason_raw = c->res.finish_raw;
	row->temperature = c->rq.has_temperature ? c->rq.temperature : -1;
	row->max_tokens = c->rq.max_tokens;
	row->attempts = c->attempts;
	row->response_id = c->res.id;
	row->cached = c->cached;
	row->route = c->route;
}

const char *
call_status_word(const struct call *c)
{
	if (c->st == LLM_OK || c->st == LLM_ERR_PIPE)
		return "ok";
	if (c->st == LLM_ERR_INTERRUPTED || c->st == LLM_ERR_TERMINATED)
		return "interrupted";
	return "error";
}

static void
add_string(cJSON *j, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(j, name, s);
	else
		cJSON_AddNullToObject(j, name);
}

/* A count or duration; negative ones are unknown. */
static void
add_count(cJSON *j, const char *name, double v)
{
	if (v >= 0)
		json_add_number(j, name, v);
	else
		cJSON_AddNullToObject(j, name);
}

void
call_json(const struct call *c, cJSON *j)
{
	cJSON *u;

	cJSON_AddStringToObject(j, "response", c->res.text.ptr);
	add_string(j, "model", c->ref ? c->ref : c->model->ref);
	cJSON_AddStringToObject(j, "provider", c->provider->name);
	cJSON_AddStringToObject(j, "provider_model", c->model->id);
	cJSON_AddStringToObject(j, "status", call_status_word(c));
	if (c->st != LLM_OK)
		cJSON_AddStringToObject(j, "error", c->err.ptr);
	u = cJSON_AddObjectToObject(j, "usage");
	add_count(u, "input_tokens", (double)c->input_tokens);
	add_count(u, "output_tokens", (double)c->output_tokens);
	add_count(u, "cached_tokens", (double)c->cached_tokens);
	cJSON_AddBoolToObject(u, "estimated", c->tokens_estimated);
	add_count(j, "latency_ms", (double)c->latency_ms);
	add_count(j, "ttft_ms", (double)c->ttft_ms);
	add_count(j, "cost_usd", c->cost);
	add_string(j, "finish_reason", c->res.finish);
	add_string(j, "finish_reason_raw", c->res.finish_raw);
	add_string(j, "response_id", c->res.id);
	add_string(j, "request_id", c->request_id);
	json_add_number(j, "attempts", c->attempts);
	cJSON_AddBoolToObject(j, "cached", c->cached);
	add_string(j, "route", c->route);
}

bool
call_may_fall_back(const struct call *c)
{
	if (c->started)
		return false;
	return c->st == LLM_ERR_UNAVAILABLE || c->st == LLM_ERR_TEMP ||
		c->st == LLM_ERR_AUTH || c->st == LLM_ERR_CONFIG;
}

void
call_group_id(struct buf *out)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	unsigned long r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	r = ((unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16)) &
		0xffffffUL;
	buf_setf(out, "%s-%06lx", when, r);
}
