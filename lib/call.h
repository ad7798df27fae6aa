/*
 * call.h - one request to one model, from start to logged row.
 *
 * call_run() builds the provider's HTTP request, sends it, retries what
 * may be retried (connection failures, 408, 409, 429, 5xx, 529; with
 * exponential backoff, full jitter, Retry-After honoured) as long as no
 * text has reached the caller, decodes the answer streamed or whole,
 * and measures latency and time to first token.  Usage comes from the
 * provider or, when it gives none, is estimated and marked so; the cost
 * comes from the registry's prices.  call_row() turns the outcome into a
 * row of the log.
 *
 * Ownership: struct call borrows its inputs (registry objects, messages,
 * strings) and owns its outputs (res, err); call_release() frees them.
 */
#ifndef LLM_CALL_H
#define LLM_CALL_H

#include <stdbool.h>

#include "provider.h"
#include "store.h"

struct call {
	/* inputs */
	struct provider *provider;
	struct model *model;
	const char *ref;          /* the reference the user gave */
	struct llm_request rq;    /* provider, model and api_key set by run */
	int retries;              /* extra attempts allowed */
	double timeout;           /* seconds per attempt; 0 = none */
	llm_text_fn on_text;      /* streamed text, or NULL */
	void *ud;

	/* outputs */
	struct llm_result res;
	enum llm_status st;
	struct buf err;
	long http_status;
	int attempts;
	long latency_ms, ttft_ms; /* ttft < 0 until text arrived */
	bool tokens_estimated;
	long input_tokens, output_tokens, cached_tokens;
	double cost;              /* < 0 when prices are unknown */
	char *request_id;         /* the provider's x-request-id */
	bool started;             /* text reached on_text */

	double t0;                /* private */
	struct buf key;
};

void call_init(struct call *c);
void call_release(struct call *c);

/* Run the call; returns c->st. */
enum llm_status call_run(struct call *c);

/* Write the HTTP request that call_run would send, secrets redacted, to
 * out (no key is looked up or run). */
enum llm_status call_dry_run(struct call *c, struct buf *out);

/* The log row for a finished call (strings borrowed from c and prompt).
 * status "interrupted" for a signal, "error" for other failures. */
void call_row(const struct call *c, const char *tool, const char *prompt,
	struct store_request *row);

/* Milliseconds on a monotonic clock. */
double call_now_ms(void);

#endif
