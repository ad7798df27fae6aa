/*
 * call.h - one request to one model, from start to logged row.
 *
 * call_run() builds the provider's HTTP request, sends it, retries what
 * may be retried (connection failures, 408, 409, 429, 5xx, 529; with
 * exponential backoff, full jitter; Retry-After, retry-after-ms and the
 * providers' rate-limit reset headers honoured, capped) as long as no
 * text has reached the caller, decodes the answer streamed or whole,
 * and measures latency and time to first token.  Usage comes from the
 * provider or, when it gives none, is estimated and marked so; the cost
 * comes from the registry's prices.  call_row() turns the outcome into a
 * row of the log.
 *
 * With a database, each attempt first takes its place under the shared
 * limits and, once, a reservation under the budgets (guard.h): a full
 * limit keeps the call waiting while other calls go on (no_wait ends it,
 * LLM_ERR_TEMP), a budget that cannot cover it ends it (LLM_ERR_TEMP),
 * and a budget that cannot be checked ends it (LLM_ERR_IO).  The time
 * limit and the latency count from the first attempt.  The end of the
 * call settles the real tokens and cost and records the provider's
 * health.  Nothing is opened when no limit or budget applies.
 *
 * Ownership: struct call borrows its inputs (registry objects, messages,
 * strings) and owns its outputs (res, err); call_release() frees them.
 */
#ifndef LLM_CALL_H
#define LLM_CALL_H

#include <stdbool.h>

#include "guard.h"
#include "http.h"
#include "provider.h"
#include "store.h"

/* Where a call is; private to call.c. */
struct cJSON;

enum call_state { CALL_NEW, CALL_READY, CALL_RUNNING, CALL_DONE };

struct call {
	/* inputs */
	struct provider *provider;
	struct model *model;
	const char *ref;          /* the reference the user gave */
	const char *route;        /* the group that chose the model, or NULL */
	struct llm_request rq;    /* provider, model and api_key set by run */
	int retries;              /* extra attempts allowed */
	double timeout;           /* seconds for the whole call; 0 = none */
	double connect_timeout;   /* seconds per connection; 0 = 30 */
	double first_byte_timeout; /* seconds to the first byte; 0 = none */
	double idle_timeout;      /* seconds between bytes; 0 = none */
	const char *database;     /* the log, which also holds the state
				     processes share (guard.h, cache.h) */
	const struct policy *defaults; /* [defaults]: budgets, cooldown;
					  or NULL */
	bool no_wait;             /* fail at once when a limit says wait */
	bool cache;               /* answer from the cache when it can */
	double cache_ttl;         /* seconds a cached answer stays good */
	llm_text_fn on_text;      /* streamed text, or NULL */
	void *ud;
	/* Called once when the call has ended (progress displays). */
	void (*on_done)(void *ud, struct call *c);
	/* Called once while the request is out and no answer has come
	 * (from WAIT_HOOK_MS after it went out, the provider's time to pick
	 * it up): work done there (opening the log) overlaps the
	 * provider's. */
	void (*on_wait)(void *wait_ud);
	void *wait_ud;

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
	bool cached;              /* the answer came from the cache */

	/* private */
	enum call_state state;
	const struct provider_ops *ops;
	double t0, next_at;       /* ms */
	double out_at;            /* ms: the attempt's request seen out */
	struct buf key;
	char *cache_id;           /* the request's cache key */
	struct http_request h;
	struct http_call hc;
	struct provider_stream ps;
	struct provider_local local; /* an answer without the network */
	enum llm_status local_st;  /* how it went so far */
	double local_due;          /* ms: when its next piece is due */
	/* s, like hc's started, first_byte and last_byte (0 = not yet) */
	double local_started, local_first, local_last;
	bool retry;
	double wait;
	struct guard *guard;       /* the shared limits, once opened */
	struct guard_ticket ticket; /* what the attempt holds of them */
	bool held;                 /* the guard ended the call */
};

void call_init(struct call *c);
void call_release(struct call *c);

/* Run the call; returns c->st. */
enum llm_status call_run(struct call *c);

/* Run n calls at once, each with its own retries and timeouts; returns
 * when all have ended (a signal ends them all as interrupted). */
void call_run_many(struct call **cs, size_t n);

/* Write the HTTP request that call_run would send, secrets redacted, to
 * out (no key is looked up or run). */
enum llm_status call_dry_run(struct call *c, struct buf *out);

/* The log row for a finished call (strings borrowed from c and prompt).
 * status "interrupted" for a signal, "error" for other failures. */
void call_row(const struct call *c, const char *tool, const char *prompt,
	struct store_request *row);

/* "ok", "error" or "interrupted": the log's word for how c ended. */
const char *call_status_word(const struct call *c);

/* Add the outcome of c to the JSON object j: response, model, provider,
 * provider_model, status, error, usage, latency_ms, ttft_ms, cost_usd,
 * finish_reason, finish_reason_raw, response_id, request_id, attempts. */
void call_json(const struct call *c, struct cJSON *j);

/* Whether the next model of a fallback group may take over after c
 * failed: nothing was printed, and the failure was the provider's
 * (unavailable, rate-limited, timed out, refused the key, unknown). */
bool call_may_fall_back(const struct call *c);

/* A new id for the requests of one compare or chain run:
 * "20261123T081300Z-" and six hex digits. */
void call_group_id(struct buf *out);

/* The estimate of a prompt's tokens (bytes / 4, and 4 bytes for each
 * message's role) that the log uses when a provider reports no usage. */
long call_input_tokens(const char *system, const struct llm_message *msgs,
	size_t n);

/* Milliseconds on a monotonic clock. */
double call_now_ms(void);

#endif
