/*
 * http.h - HTTP requests on libcurl, streamed, several at once.
 *
 * A struct http_request is what would go on the wire: method, URL,
 * headers (secret ones marked, so that dumps redact them) and body.
 * A struct http_call runs one request: the body of a 2xx answer is handed
 * to a callback as it arrives (or collected when there is none); the body
 * of any other answer is collected for its error message.  http_run()
 * runs calls concurrently on one multi handle and wakes at once on
 * SIGINT/SIGTERM (see sig.h).
 *
 * Ownership: struct http_request owns its strings (http_request_release);
 * struct http_call borrows its request and owns its response.
 */
#ifndef LLM_HTTP_H
#define LLM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct http_header {
	char *name, *value;
	bool secret; /* redact the value in dumps */
};

struct http_request {
	char *method; /* "GET", "POST" */
	char *url;
	struct http_header *headers;
	size_t nheaders, headers_alloc;
	struct buf body;
};

/* clang-format off */
#define HTTP_REQUEST_INIT { .body = BUF_INIT }
/* clang-format on */

void http_request_release(struct http_request *rq);
/* Set the method and URL (copied). */
void http_request_set(struct http_request *rq, const char *method,
	const char *url);
/* Add a header (copied). */
void http_request_header(struct http_request *rq, const char *name,
	const char *value, bool secret);
/* The request as text: "POST URL", the headers ("Name: ***" for secret
 * ones), a blank line, the body and a newline. */
void http_request_dump(const struct http_request *rq, struct buf *out);

/*
 * The rate limits whose reset headers a response may carry: OpenAI's
 * x-ratelimit-reset-{requests,tokens} (durations, "6m0s") beside
 * x-ratelimit-remaining-*, and Anthropic's
 * anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset
 * (RFC 3339 times) beside -remaining.
 */
#define HTTP_RATE_LIMITS 6

struct http_response {
	long status;        /* 0 until the status line arrived */
	struct buf body;    /* non-2xx bodies, or 2xx ones without callback */
	double retry_after; /* seconds from Retry-After/retry-after-ms; < 0 */
	/* Per rate limit: seconds from the answer until it resets, and what
	 * is left of it; < 0 when not sent or malformed. */
	double reset[HTTP_RATE_LIMITS];
	double remaining[HTTP_RATE_LIMITS];
	char *request_id;   /* x-request-id, request-id or
			       x-amzn-RequestId, or NULL */
	char *content_type;
	char *error_type;   /* x-amzn-ErrorType up to its ':', or NULL */
	bool should_retry_set, should_retry; /* x-should-retry */
	size_t received;    /* body bytes received */
};

/* The seconds that the answer r asks a client to wait before its next
 * request, or < 0 when it says nothing: Retry-After (retry-after-ms
 * first), else the reset of the rate limits (the rule is in http.c). */
double http_response_wait(const struct http_response *r);
/* A duration as the rate-limit headers write it ("1s", "6m0s", "20ms",
 * "1h2m3.5s", "0.5s"; also protobuf's "37s") into *secs; false when
 * [s, s + n) is none. */
bool http_parse_duration(const char *s, size_t n, double *secs);
/* An RFC 3339 date-time ("2026-11-23T10:00:05Z", a fraction and an
 * offset allowed) as seconds since the epoch into *t; false when
 * [s, s + n) is none. */
bool http_parse_rfc3339(const char *s, size_t n, double *t);

/* Body bytes of a 2xx answer; a non-zero return (an enum llm_status)
 * aborts the transfer and becomes the call's status. */
typedef int (*http_body_fn)(void *ud, const char *p, size_t n);

struct http_call {
	const struct http_request *rq; /* borrowed */
	double timeout;         /* whole transfer, seconds; 0 = none */
	double connect_timeout; /* seconds; 0 = libcurl's default */
	http_body_fn fn;        /* NULL: collect the body */
	void *ud;
	struct http_response resp;
	enum llm_status st; /* after http_run */
	struct buf err;     /* its message */
	double elapsed;     /* seconds, after http_run */
	double started;     /* http_now() when it was added */
	double first_byte, last_byte; /* of the body; 0 = none yet */

	void *easy; /* private */
	void *slist;
	char errbuf[256];
	int cb_status;
	bool done;
	bool retry_ms;
	bool body_full;
};

void http_call_init(struct http_call *c, const struct http_request *rq);
/* Whether the request has gone out (and the answer not yet come in). */
bool http_call_waiting(const struct http_call *c);
void http_call_release(struct http_call *c);
/* Run the calls until all are done or a signal arrives (then the
 * unfinished ones end with LLM_ERR_INTERRUPTED or LLM_ERR_TERMINATED).
 * Each call's st says how its transfer ended: LLM_OK means an answer
 * arrived, whatever its HTTP status. */
void http_run(struct http_call **calls, size_t n);
/*
 * The same, a step at a time, for callers that add and abort calls as
 * they go (timeouts of their own, retries after a pause):
 * http_multi_wait() moves every transfer on, marks the calls that ended
 * done (taking them off the multi handle) and then waits up to
 * timeout_ms for more to do, or for a signal: http_multi_perform() and
 * http_multi_poll(), which a caller may also call apart, to act between
 * the two.  http_multi_free() ends what is still running as interrupted.
 */
struct http_multi;
struct http_multi *http_multi_new(void);
void http_multi_free(struct http_multi *hm);
void http_multi_add(struct http_multi *hm, struct http_call *c);
void http_multi_wait(struct http_multi *hm, int timeout_ms);
void http_multi_perform(struct http_multi *hm);
void http_multi_poll(struct http_multi *hm, int timeout_ms);
size_t http_multi_running(const struct http_multi *hm);
/* End a running call now with status st and message why. */
void http_multi_abort(struct http_multi *hm, struct http_call *c,
	enum llm_status st, const char *why);
/* Seconds on a monotonic clock. */
double http_now(void);
/* Shorthand for one call. */
enum llm_status http_perform(struct http_call *c);
/* Percent-encode s for a URL path segment into out. */
void http_escape(struct buf *out, const char *s);

#endif
