/*
 * ptest.h - what the unit tests of the provider types share: a sink for
 * streamed text, feeding a body to a type's decoder in slices, and
 * looking up a header of a built request.  Define PTEST_TYPE (the type's
 * name) before including it to get stream().  All static.
 */
#ifndef LLM_PTEST_H
#define LLM_PTEST_H

#include <stdbool.h>
#include <string.h>

#include "provider.h"

struct sink {
	struct buf text;
	int calls;
};

static inline int
on_text(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->text, p, n);
	s->calls++;
	return 0;
}

static inline const char *
header(const struct http_request *h, const char *name, bool *secret)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strcmp(h->headers[i].name, name) == 0) {
			if (secret)
				*secret = h->headers[i].secret;
			return h->headers[i].value;
		}
	return NULL;
}

#ifdef PTEST_TYPE
/* Feed body in two pieces split at cut, then in slices of step (0: the
 * rest at once); returns the end status, the stream's message in err. */
static inline enum llm_status
stream(const char *body, size_t cut, size_t step, struct llm_result *res,
	struct sink *s, struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find(PTEST_TYPE);
	struct provider_stream ps;
	size_t n = strlen(body), i, k;
	enum llm_status st = LLM_OK;

	if (cut > n)
		cut = n;
	provider_stream_init(&ps, ops, res, on_text, s);
	if (cut)
		st = ops->feed(&ps, body, cut);
	for (i = cut; i < n && st == LLM_OK; i += k) {
		k = step && i + step < n ? step : n - i;
		st = ops->feed(&ps, body + i, k);
	}
	if (st == LLM_OK)
		st = ops->end(&ps);
	buf_reset(err);
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	return st;
}
#endif

#endif
