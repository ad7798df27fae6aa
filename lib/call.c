/* call.c - one request to one model; see call.h. */
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "msg.h"
#include "sig.h"
#include "xalloc.h"

#define MAX_RETRY_AFTER 120.0

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
	if ((ops = find_ops(c)) == NULL)
		return c->st;
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

/* Sleep for sec seconds unless a signal arrives first. */
static void
nap(double sec)
{
	struct pollfd pfd;
	double until = call_now_ms() + sec * 1000, left;

	pfd.fd = sig_fd();
	pfd.events = POLLIN;
	while (!sig_caught() && (left = until - call_now_ms()) > 0)
		poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)ceil(left));
}

static double
backoff(int attempt, double retry_after)
{
	double cap;

	if (retry_after >= 0)
		return retry_after;
	cap = 0.5 * pow(2, attempt - 1);
	if (cap > 8)
		cap = 8;
	return cap * ((double)rand() / RAND_MAX);
}

/* Describe a non-2xx answer, whose status is st, in c->err. */
static void
http_failure(struct call *c, const struct provider_ops *ops,
	const struct http_response *r, enum llm_status st)
{
	const struct provider *p = c->provider;

	buf_setf(&c->err, "%s: HTTP %ld: ", p->name, r->status);
	ops->error(r->body.ptr, r->body.len, &c->err);
	if (r->status == 401 || r->status == 403 ||
		(st == LLM_ERR_AUTH && r->status != 402)) {
		if (p->key_var)
			buf_addf(&c->err, "; check %s", p->key_var);
		else if (p->auth)
			buf_addf(&c->err, "; check api_key in [provider.%s]",
				p->name);
	} else if (r->status == 404 && !strstr(c->err.ptr, c->model->id)) {
		/* unless the provider's message names it already */
		buf_addf(&c->err, "; check the model id '%s'", c->model->id);
	}
}

static long
estimate_tokens(size_t bytes)
{
	return (long)((bytes + 3) / 4);
}

static void
settle_usage(struct call *c)
{
	size_t in = 0, i;

	c->input_tokens = c->res.usage.input;
	c->output_tokens = c->res.usage.output;
	c->cached_tokens = c->res.usage.cached;
	/* A failure before any answer costs nothing and used nothing. */
	if (c->st != LLM_OK && c->res.text.len == 0 && c->input_tokens < 0)
		return;
	if (c->input_tokens < 0) {
		if (c->rq.system)
			in += strlen(c->rq.system);
		for (i = 0; i < c->rq.nmessages; i++)
			in += strlen(c->rq.messages[i].content) + 4;
		c->input_tokens = estimate_tokens(in);
		c->tokens_estimated = true;
	}
	if (c->output_tokens < 0) {
		c->output_tokens = estimate_tokens(c->res.text.len);
		c->tokens_estimated = true;
	}
	c->cost = registry_cost(c->model, c->input_tokens, c->output_tokens,
		c->cached_tokens > 0 ? c->cached_tokens : 0);
}

/* The answer of a provider that needs no network (ops->local). */
static enum llm_status
attempt_local(struct call *c, const struct provider_ops *ops)
{
	struct provider_stream ps;
	enum llm_status st;

	provider_stream_init(&ps, ops, &c->res, c->rq.stream ? on_text : NULL,
		c);
	st = ops->local(&c->rq, &ps, &c->err);
	if (st == LLM_OK && !c->rq.stream && c->res.text.len)
		st = (enum llm_status)on_text(c, c->res.text.ptr,
			c->res.text.len);
	if (st != LLM_OK && st != LLM_ERR_PIPE && c->err.len == 0)
		buf_setf(&c->err, "%s: %s", c->provider->name, status_str(st));
	provider_stream_release(&ps);
	return st;
}

/* One attempt; *retry says whether another may follow. */
static enum llm_status
attempt(struct call *c, const struct provider_ops *ops,
	const struct http_request *h, bool *retry, double *wait)
{
	struct provider_stream ps;
	struct http_call hc;
	enum llm_status st;

	*retry = false;
	*wait = -1;
	llm_result_release(&c->res);
	llm_result_init(&c->res);
	buf_reset(&c->err);
	if (ops->local)
		return attempt_local(c, ops);
	http_call_init(&hc, h);
	hc.timeout = c->timeout;
	hc.connect_timeout = c->timeout > 0 && c->timeout < 30 ? c->timeout :
								  30;
	provider_stream_init(&ps, ops, &c->res, on_text, c);
	if (c->rq.stream) {
		hc.fn = on_body;
		hc.ud = &ps;
	}
	st = http_perform(&hc);
	c->http_status = hc.resp.status;
	if (hc.resp.request_id && c->request_id == NULL)
		c->request_id = xstrdup(hc.resp.request_id);
	if (st != LLM_OK) {
		/* A transport failure, a signal, or the stream's own error. */
		if (ps.err.len)
			buf_setf(&c->err, "%s: %s", c->provider->name,
				ps.err.ptr);
		else if (st == LLM_ERR_PIPE)
			buf_reset(&c->err);
		else
			buf_setf(&c->err, "%s", hc.err.ptr);
		if (st == LLM_ERR_UNAVAILABLE && hc.resp.status == 0)
			*retry = true;
	} else if (hc.resp.status < 200 || hc.resp.status >= 300) {
		st = ops->error_status ?
			     ops->error_status(hc.resp.status,
				     hc.resp.body.ptr, hc.resp.body.len) :
			     provider_http_status(hc.resp.status);
		http_failure(c, ops, &hc.resp, st);
		*retry = hc.resp.should_retry_set ?
				 hc.resp.should_retry :
				 provider_http_retryable(hc.resp.status);
		*wait = hc.resp.retry_after;
		if (*wait > MAX_RETRY_AFTER)
			*retry = false;
	} else if (c->rq.stream) {
		st = ops->end(&ps);
		if (st)
			buf_setf(&c->err, "%s: %s", c->provider->name,
				ps.err.ptr);
	} else {
		struct buf e = BUF_INIT;

		st = ops->parse(hc.resp.body.ptr, hc.resp.body.len, &c->res, &e);
		if (st)
			buf_setf(&c->err, "%s: %s", c->provider->name, e.ptr);
		else if (c->res.text.len)
			st = (enum llm_status)on_text(c, c->res.text.ptr,
				c->res.text.len);
		buf_release(&e);
	}
	provider_stream_release(&ps);
	http_call_release(&hc);
	return st;
}

enum llm_status
call_run(struct call *c)
{
	struct http_request h = HTTP_REQUEST_INIT;
	const struct provider_ops *ops;
	bool retry;
	double wait;

	c->t0 = call_now_ms();
	apply_defaults(c);
	if ((ops = find_ops(c)) == NULL)
		goto out;
	c->st = registry_api_key(c->provider, &c->key, &c->err);
	if (c->st != LLM_OK)
		goto out;
	c->rq.api_key = c->key.ptr;
	c->st = ops->local ? LLM_OK : ops->build(&c->rq, &h, &c->err);
	if (c->st != LLM_OK)
		goto out;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (;;) {
		c->attempts++;
		c->st = attempt(c, ops, &h, &retry, &wait);
		if (c->st == LLM_OK || !retry || c->started ||
			c->attempts > c->retries || sig_caught())
			break;
		wait = backoff(c->attempts, wait);
		msg_debug(1, "attempt %d failed (%s); retrying in %.1f s",
			c->attempts, c->err.ptr, wait);
		nap(wait);
		if (sig_caught())
			break;
	}
	if (c->st != LLM_OK && retry && c->attempts > 1)
		buf_addf(&c->err, " (after %d attempts)", c->attempts);
	if (c->st == LLM_OK && c->res.finish == NULL)
		provider_set_finish(&c->res, "stop");
	else if (c->st != LLM_OK && c->st != LLM_ERR_PIPE)
		c->res.finish = "error";
	settle_usage(c);
out:
	c->latency_ms = (long)(call_now_ms() - c->t0);
	if (c->ttft_ms < 0 && c->st == LLM_OK)
		c->ttft_ms = c->latency_ms;
	http_request_release(&h);
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
	if (c->st == LLM_OK || c->st == LLM_ERR_PIPE)
		row->status = "ok";
	else if (c->st == LLM_ERR_INTERRUPTED || c->st == LLM_ERR_TERMINATED)
		row->status = "interrupted";
	else
		row->status = "error";
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
}
