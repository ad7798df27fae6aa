/*
 * provider.h - the one interface every wire protocol implements.
 *
 * A provider type (openai, anthropic, ...) is a struct provider_ops: it
 * builds the HTTP request for a struct llm_request, parses a whole reply,
 * decodes a streamed reply fed in byte slices of any size, and turns an
 * error document into a message.  Results are normalized into
 * struct llm_result: the text, usage, and the finish reason both
 * normalized (stop, length, content_filter, tool_calls, error) and raw.
 *
 * Ownership: struct llm_request borrows everything; struct llm_result owns
 * its strings (llm_result_release); struct provider_stream owns its
 * decoder state and borrows the result it fills.
 */
#ifndef LLM_PROVIDER_H
#define LLM_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "registry.h"
#include "sse.h"
#include "status.h"

struct llm_message {
	const char *role; /* "user", "assistant" */
	const char *content;
};

struct llm_request {
	const struct provider *provider;
	const struct model *model;
	const char *api_key; /* "" when none; "***" for dry runs */
	const char *system;  /* NULL or "" for none */
	const struct llm_message *messages;
	size_t nmessages;
	bool has_temperature, has_top_p;
	double temperature, top_p;
	long max_tokens; /* 0 = unset */
	const char *const *stop;
	size_t nstop;
	const char *const *options; /* "KEY=VALUE", VALUE JSON or text */
	size_t noptions;
	bool stream;
};

struct llm_usage {
	long input, output, cached; /* < 0 = not reported */
};

struct llm_result {
	struct buf text;
	struct llm_usage usage;
	const char *finish; /* normalized, static; NULL until known */
	char *finish_raw;   /* as the provider said it */
	char *id;           /* the provider's id of the answer */
	bool done;          /* the protocol's end marker arrived */
};

void llm_result_init(struct llm_result *r);
void llm_result_release(struct llm_result *r);

/* Streamed text; a non-zero return (an enum llm_status) stops the
 * transfer. */
typedef int (*llm_text_fn)(void *ud, const char *p, size_t n);

struct provider_stream {
	const struct provider_ops *ops;
	struct llm_result *res;
	llm_text_fn on_text; /* may be NULL: text is only collected */
	void *ud;
	struct sse sse;
	struct buf line; /* NDJSON and friends */
	struct buf err;  /* why a feed failed */
	enum llm_status st;
	int state; /* type-specific */
};

/*
 * An answer made without the network (provider_ops.local), given out in
 * pieces so that the caller's event loop can run several at once and keep
 * its time limits: after local(), local_next() is called each time
 * wait_ms have passed since the piece before, until ended.  The caller
 * zeroes it (text = BUF_INIT) and releases text.
 */
struct provider_local {
	long wait_ms;    /* before the next piece */
	bool ended;      /* the last piece was given */
	struct buf text; /* the provider's: the answer */
	size_t pos;      /* the provider's: how much of it was given */
};

struct provider_ops {
	const char *type;
	/* Fill h: method, URL, headers, body. */
	enum llm_status (*build)(const struct llm_request *rq,
		struct http_request *h, struct buf *err);
	/* Parse a whole 2xx body into res (text, usage, finish, id). */
	enum llm_status (*parse)(const char *body, size_t n,
		struct llm_result *res, struct buf *err);
	/* Decode streamed body bytes; text goes to res and on_text. */
	enum llm_status (*feed)(struct provider_stream *ps, const char *p,
		size_t n);
	/* The body ended: LLM_ERR_DATA if the end marker is missing. */
	enum llm_status (*end)(struct provider_stream *ps);
	/* The provider's message from a non-2xx body, appended to msg. */
	void (*error)(const char *body, size_t n, struct buf *msg);
	/* Optional: used instead of error when the headers say more than
	 * the body (Bedrock names the exception in x-amzn-ErrorType). */
	void (*error_response)(const struct http_response *r,
		struct buf *msg);
	/* Optional: the seconds a non-2xx answer's body asks to wait before
	 * the next request (Gemini's RetryInfo), or < 0; asked when the
	 * headers say nothing (http_response_wait). */
	double (*error_wait)(const struct http_response *r);
	/* Optional: the status of a non-2xx answer when its body says more
	 * than its code (Gemini refuses a bad key with 400
	 * API_KEY_INVALID); NULL: provider_http_status(code). */
	enum llm_status (*error_status)(long code, const char *body,
		size_t n);
	/* Optional: answer without the network (the mock type), in timed
	 * pieces (struct provider_local).  local() sets up the answer to rq
	 * in lp, with the usage of the prompt into res; local_next() gives
	 * the next piece: text through provider_text(ps, ...), word by word
	 * when rq->stream, else all at once; with the last one, the usage
	 * and finish into ps->res, res->done and lp->ended.  A failure's
	 * message goes into err.  build, parse, feed and end are then unused
	 * and may be NULL. */
	enum llm_status (*local)(const struct llm_request *rq,
		struct provider_local *lp, struct llm_result *res,
		struct buf *err);
	enum llm_status (*local_next)(const struct llm_request *rq,
		struct provider_local *lp, struct provider_stream *ps,
		struct buf *err);
	/* Optional: the request that lists the models the provider serves
	 * (for llm-providers --check and --discover). */
	enum llm_status (*list_build)(const struct provider *p,
		const char *api_key, struct http_request *h, struct buf *err);
	/* Optional: the model ids of a 2xx listing, one per line into ids. */
	enum llm_status (*list_parse)(const char *body, size_t n,
		struct buf *ids, struct buf *err);
	/* Non-zero when the API requires max_tokens: a request without one
	 * gets the model's max_output_tokens, else this. */
	long required_max_tokens;
};

/* The ops of a provider type, or NULL for an unknown type. */
const struct provider_ops *provider_ops_find(const char *type);

void provider_stream_init(struct provider_stream *ps,
	const struct provider_ops *ops, struct llm_result *res,
	llm_text_fn on_text, void *ud);
void provider_stream_release(struct provider_stream *ps);
/* Append text to the result and pass it on; returns the callback's
 * status. */
enum llm_status provider_text(struct provider_stream *ps, const char *p,
	size_t n);

/* The normalized finish reason for a raw one (static string). */
const char *provider_finish_normalize(const char *raw);
/* Set res->finish_raw and res->finish from raw (ignores NULL and ""). */
void provider_set_finish(struct llm_result *res, const char *raw);

/* The status for an HTTP error code (401 -> LLM_ERR_AUTH, ...). */
enum llm_status provider_http_status(long code);
/* The provider's message for a non-2xx answer (error_response, else
 * error), appended to msg. */
void provider_error(const struct provider_ops *ops,
	const struct http_response *r, struct buf *msg);
/* Whether an answer with this HTTP code may be retried. */
bool provider_http_retryable(long code);

/* Append "base_url" + path to out, avoiding a doubled '/'. */
void provider_url(struct buf *out, const struct provider *p,
	const char *path);

#endif
