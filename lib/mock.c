/*
 * mock.c - an offline provider for trying pipelines and for tests: no
 * HTTP at all (provider_ops.local).
 *
 * The model id is NAME, optionally followed by "+slow".  NAME "echo"
 * answers the last user message; any other name answers the provider's
 * reply key, else "This is a mock reply from NAME."  The provider's
 * delay_ms passes before the first byte; a streamed answer comes word by
 * word (each word with the whitespace after it), 50 ms apart with
 * "+slow".  Usage is counted in words: input over the system prompt and
 * all messages, output over the answer.  The finish reason is "stop".
 * SIGINT and SIGTERM end the waits at once (poll on sig_fd()).
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "provider.h"
#include "sig.h"

#define SLOW_GAP_MS 50

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static enum llm_status
signal_status(void)
{
	int sig = sig_caught();

	if (sig == 0)
		return LLM_OK;
	return sig == SIGTERM ? LLM_ERR_TERMINATED : LLM_ERR_INTERRUPTED;
}

/* Wait ms milliseconds unless a signal comes first. */
static enum llm_status
pause_ms(long ms)
{
	struct pollfd pfd;
	double until = now_ms() + (double)ms, left;

	pfd.fd = sig_fd();
	pfd.events = POLLIN;
	while (!sig_caught() && (left = until - now_ms()) > 0)
		poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)left + 1);
	return signal_status();
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static long
count_words(const char *s)
{
	long n = 0;
	bool in = false;

	for (; *s; s++) {
		if (is_space(*s))
			in = false;
		else if (!in) {
			in = true;
			n++;
		}
	}
	return n;
}

/* The answer into out. */
static void
reply(const struct llm_request *rq, struct buf *out)
{
	const char *id = rq->model->id, *plus = strchr(id, '+');
	size_t n = plus ? (size_t)(plus - id) : strlen(id), i;
	const char *last = NULL;

	if (n == 4 && memcmp(id, "echo", 4) == 0) {
		for (i = 0; i < rq->nmessages; i++)
			if (strcmp(rq->messages[i].role, "user") == 0)
				last = rq->messages[i].content;
		buf_adds(out, last ? last : "");
	} else if (rq->provider->reply && *rq->provider->reply) {
		buf_adds(out, rq->provider->reply);
	} else {
		buf_addf(out, "This is a mock reply from %.*s.", (int)n, id);
	}
}

static enum llm_status
local(const struct llm_request *rq, struct provider_stream *ps,
	struct buf *err)
{
	struct buf text = BUF_INIT;
	struct llm_result *res = ps->res;
	enum llm_status st = LLM_OK;
	bool slow = strstr(rq->model->id, "+slow") != NULL;
	size_t i = 0, start;
	long in = 0;

	reply(rq, &text);
	if (rq->system)
		in += count_words(rq->system);
	for (start = 0; start < rq->nmessages; start++)
		in += count_words(rq->messages[start].content);
	res->usage.input = in;
	if (rq->provider->delay_ms > 0 &&
		(st = pause_ms(rq->provider->delay_ms)) != LLM_OK)
		goto out;
	if (!rq->stream) {
		st = provider_text(ps, text.ptr, text.len);
		goto out;
	}
	while (i < text.len) {
		start = i;
		while (i < text.len && !is_space(text.ptr[i]))
			i++;
		while (i < text.len && is_space(text.ptr[i]))
			i++;
		if (start > 0 && slow && (st = pause_ms(SLOW_GAP_MS)) != LLM_OK)
			goto out;
		if ((st = provider_text(ps, text.ptr + start, i - start)) !=
			LLM_OK)
			goto out;
	}
out:
	res->usage.output = count_words(res->text.ptr);
	if (st == LLM_OK) {
		provider_set_finish(res, "stop");
		res->done = true;
	} else if (st == LLM_ERR_INTERRUPTED || st == LLM_ERR_TERMINATED) {
		buf_setf(err, "%s", st == LLM_ERR_TERMINATED ? "terminated" :
							      "interrupted");
	}
	buf_release(&text);
	return st;
}

const struct provider_ops mock_ops = {
	.type = "mock",
	.local = local,
};
