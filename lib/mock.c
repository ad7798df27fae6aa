/*
 * mock.c - an offline provider for trying pipelines and for tests: no
 * HTTP at all (provider_ops.local and local_next).
 *
 * The model id is NAME, optionally followed by "+slow".  NAME "echo"
 * answers the last user message; any other name answers the provider's
 * reply key, else "This is a mock reply from NAME."  The provider's
 * delay_ms passes before the first byte; a streamed answer comes word by
 * word (each word with the whitespace after it), 50 ms apart with
 * "+slow".  Usage is counted in words: input over the system prompt and
 * all messages, output over what was given.  The finish reason is
 * "stop".  Nothing here waits: the caller's event loop gives the pieces
 * out on time (lp->wait_ms), and so keeps its time limits and signals.
 */
#include <string.h>

#include "provider.h"

#define SLOW_GAP_MS 50

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* Words in the n bytes at s. */
static long
count_words(const char *s, size_t n)
{
	long words = 0;
	bool in = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_space(s[i]))
			in = false;
		else if (!in) {
			in = true;
			words++;
		}
	}
	return words;
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

/* Set up the answer: the text to give, the usage of the prompt, and
 * delay_ms before the first piece. */
static enum llm_status
local(const struct llm_request *rq, struct provider_local *lp,
	struct llm_result *res, struct buf *err)
{
	long in = 0;
	size_t i;

	(void)err;
	buf_reset(&lp->text);
	reply(rq, &lp->text);
	lp->pos = 0;
	lp->ended = false;
	if (rq->system)
		in += count_words(rq->system, strlen(rq->system));
	for (i = 0; i < rq->nmessages; i++)
		in += count_words(rq->messages[i].content,
			strlen(rq->messages[i].content));
	res->usage.input = in;
	res->usage.output = 0;
	lp->wait_ms = rq->provider->delay_ms > 0 ? rq->provider->delay_ms : 0;
	return LLM_OK;
}

/* The next piece: one word with the whitespace after it when streamed
 * (a leading run of whitespace comes alone), else the whole answer. */
static enum llm_status
local_next(const struct llm_request *rq, struct provider_local *lp,
	struct provider_stream *ps, struct buf *err)
{
	struct llm_result *res = ps->res;
	const char *t = lp->text.ptr;
	size_t i = lp->pos, start = i;
	enum llm_status st;

	(void)err;
	if (rq->stream) {
		while (i < lp->text.len && !is_space(t[i]))
			i++;
		while (i < lp->text.len && is_space(t[i]))
			i++;
	} else {
		i = lp->text.len;
	}
	st = provider_text(ps, t + start, i - start);
	/* (A piece ends at whitespace or at the end: no word is split.) */
	res->usage.output += count_words(t + start, i - start);
	lp->pos = i;
	if (st != LLM_OK)
		return st;
	if (i < lp->text.len) {
		lp->wait_ms = strstr(rq->model->id, "+slow") ? SLOW_GAP_MS : 0;
		return LLM_OK;
	}
	provider_set_finish(res, "stop");
	res->done = true;
	lp->ended = true;
	lp->wait_ms = 0;
	return LLM_OK;
}

const struct provider_ops mock_ops = {
	.type = "mock",
	.local = local,
	.local_next = local_next,
};
