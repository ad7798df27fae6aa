/* http.c - HTTP on libcurl's multi interface; see http.h. */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "days.h"
#include "http.h"
#include "msg.h"
#include "sig.h"
#include "xalloc.h"

#define ERROR_BODY_MAX (1 << 20)
#define BODY_MAX (64 << 20)
#define WAIT_MAX 1e9 /* seconds; a longer wait is taken for garbage */

static bool initialized;

struct http_multi {
	CURLM *m;
	struct http_call **calls; /* running */
	size_t n, alloc;
};

double
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
global_cleanup(void)
{
	curl_global_cleanup();
}

static void
global_init(void)
{
	if (initialized)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(global_cleanup);
	initialized = true;
}

void
http_request_release(struct http_request *rq)
{
	size_t i;

	free(rq->method);
	free(rq->url);
	for (i = 0; i < rq->nheaders; i++) {
		free(rq->headers[i].name);
		free(rq->headers[i].value);
	}
	free(rq->headers);
	buf_release(&rq->body);
	rq->method = rq->url = NULL;
	rq->headers = NULL;
	rq->nheaders = rq->headers_alloc = 0;
}

void
http_request_set(struct http_request *rq, const char *method, const char *url)
{
	free(rq->method);
	free(rq->url);
	rq->method = xstrdup(method);
	rq->url = xstrdup(url);
}

void
http_request_header(struct http_request *rq, const char *name,
	const char *value, bool secret)
{
	struct http_header *h;

	rq->headers = xgrowarray(rq->headers, &rq->headers_alloc,
		rq->nheaders + 1, sizeof(*rq->headers));
	h = &rq->headers[rq->nheaders++];
	h->name = xstrdup(name);
	h->value = xstrdup(value);
	h->secret = secret;
}

void
http_request_dump(const struct http_request *rq, struct buf *out)
{
	size_t i;

	buf_addf(out, "%s %s\n", rq->method, rq->url);
	for (i = 0; i < rq->nheaders; i++) {
		const struct http_header *h = &rq->headers[i];

		if (!h->secret)
			buf_addf(out, "%s: %s\n", h->name, h->value);
		else if (strncmp(h->value, "Bearer ", 7) == 0)
			buf_addf(out, "%s: Bearer ***\n", h->name);
		else
			buf_addf(out, "%s: ***\n", h->name);
	}
	buf_addch(out, '\n');
	if (rq->body.len) {
		buf_add(out, rq->body.ptr, rq->body.len);
		buf_addch(out, '\n');
	}
}

void
http_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
			*p == '_' || *p == '~') {
			buf_addch(out, *p);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[*p >> 4]);
			buf_addch(out, hex[*p & 15]);
		}
	}
}

/* No rate-limit headers seen (yet). */
static void
limits_clear(struct http_response *r)
{
	size_t i;

	for (i = 0; i < HTTP_RATE_LIMITS; i++)
		r->reset[i] = r->remaining[i] = -1;
}

void
http_call_init(struct http_call *c, const struct http_request *rq)
{
	memset(c, 0, sizeof(*c));
	c->rq = rq;
	c->resp.body.ptr = buf_empty;
	c->resp.retry_after = -1;
	limits_clear(&c->resp);
	c->err.ptr = buf_empty;
}

bool
http_call_waiting(const struct http_call *c)
{
	curl_off_t up = 0;

	/* The whole body sent, and no answer yet but "100 Continue". */
	if (c->easy == NULL || c->done ||
		(c->resp.status != 0 && c->resp.status != 100) ||
		curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &up) !=
			CURLE_OK)
		return false;
	return up > 0 && (size_t)up >= c->rq->body.len;
}

void
http_call_release(struct http_call *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->slist);
	c->easy = NULL;
	c->slist = NULL;
	buf_release(&c->resp.body);
	buf_release(&c->err);
	free(c->resp.request_id);
	free(c->resp.content_type);
	free(c->resp.error_type);
	c->resp.request_id = c->resp.content_type = NULL;
	c->resp.error_type = NULL;
}

static bool
is_2xx(long status)
{
	return status >= 200 && status < 300;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_call *c = ud;
	size_t n = size * nmemb;
	int r;

	c->resp.received += n;
	c->last_byte = http_now();
	if (c->first_byte == 0)
		c->first_byte = c->last_byte;
	if (!is_2xx(c->resp.status) || c->fn == NULL) {
		size_t cap = is_2xx(c->resp.status) ? BODY_MAX : ERROR_BODY_MAX;

		if (c->body_full)
			return n;
		if (c->resp.body.len + n <= cap) {
			buf_add(&c->resp.body, p, n);
		} else if (is_2xx(c->resp.status)) {
			buf_setf(&c->err, "reply exceeds %d MiB", BODY_MAX >> 20);
			c->cb_status = LLM_ERR_DATA;
			return 0;
		} else {
			/* Keep the start of an error body, without gaps. */
			c->body_full = true;
		}
		return n;
	}
	r = c->fn(c->ud, p, n);
	if (r) {
		c->cb_status = r;
		return 0;
	}
	return n;
}

/* Trim spaces and CRLF from [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
			(*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n'))
		(*n)--;
}

static bool
header_is(const char *line, size_t n, const char *name, const char **val,
	size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*val = line + k + 1;
	*vlen = n - k - 1;
	trim(val, vlen);
	return true;
}

static void
parse_retry_after(struct http_response *r, const char *v, size_t n, bool ms)
{
	char tmp[64], *end;
	double d;
	time_t t;

	if (n == 0 || n >= sizeof(tmp))
		return;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	d = strtod(tmp, &end);
	if (end != tmp && *end == '\0') {
		if (d >= 0 && d <= WAIT_MAX * (ms ? 1000 : 1))
			r->retry_after = ms ? d / 1000 : d;
		return;
	}
	if (ms)
		return;
	t = curl_getdate(tmp, NULL);
	if (t != (time_t)-1) {
		d = difftime(t, time(NULL));
		r->retry_after = d > 0 ? d : 0;
	}
}

bool
http_parse_duration(const char *s, size_t n, double *secs)
{
	/* Two-letter units first: "ms" is not minutes and seconds. */
	static const struct {
		const char *name;
		double secs;
	} units[] = {
		{ "ns", 1e-9 },
		{ "us", 1e-6 },
		{ "\xc2\xb5s", 1e-6 }, /* µs */
		{ "ms", 1e-3 },
		{ "s", 1 },
		{ "m", 60 },
		{ "h", 3600 },
	};
	const char *p = s, *e = s + n;
	double total = 0, v, scale;
	bool digit;
	size_t i, k;

	if (n == 1 && *s == '0') {
		*secs = 0;
		return true;
	}
	if (p < e && *p == '+')
		p++;
	if (p == e)
		return false;
	while (p < e) {
		v = 0;
		scale = 1;
		digit = false;
		for (; p < e && *p >= '0' && *p <= '9'; p++, digit = true)
			v = v * 10 + (*p - '0');
		if (p < e && *p == '.')
			for (p++; p < e && *p >= '0' && *p <= '9';
				p++, digit = true)
				v += (*p - '0') * (scale /= 10);
		if (!digit)
			return false;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			k = strlen(units[i].name);
			if ((size_t)(e - p) >= k &&
				memcmp(p, units[i].name, k) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return false;
		total += v * units[i].secs;
		p += k;
	}
	if (!(total <= WAIT_MAX))
		return false;
	*secs = total;
	return true;
}

/* n decimal digits at p into *v. */
static bool
digits(const char *p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

bool
http_parse_rfc3339(const char *s, size_t n, double *t)
{
	const char *p = s + 19, *e = s + n;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double frac = 0, scale = 1;

	/* YYYY-MM-DDTHH:MM:SS, "t" or " " allowed for "T" */
	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' ||
		!digits(s + 5, 2, &mo) || s[7] != '-' ||
		!digits(s + 8, 2, &d) ||
		(s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		!digits(s + 11, 2, &h) || s[13] != ':' ||
		!digits(s + 14, 2, &mi) || s[16] != ':' ||
		!digits(s + 17, 2, &sec))
		return false;
	if (*p == '.') {
		if (++p == e || *p < '0' || *p > '9')
			return false;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			frac += (*p - '0') * (scale /= 10);
	}
	if (p < e && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (e - p == 6 && (*p == '+' || *p == '-') &&
		digits(p + 1, 2, &oh) && p[3] == ':' &&
		digits(p + 4, 2, &om)) {
		sign = *p == '+' ? 1 : -1;
		p += 6;
	} else {
		return false;
	}
	if (p != e || mo < 1 || mo > 12 || d < 1 ||
		d > days_in_month(y, mo) || h > 23 || mi > 59 ||
		sec > 60 || oh > 23 || om > 59)
		return false;
	*t = days_from_civil(y, mo, d) * 86400.0 + h * 3600 + mi * 60 + sec +
		frac - sign * (oh * 3600 + om * 60);
	return true;
}

/* The rate limits' headers, in the order of HTTP_RATE_LIMITS; the first
 * two carry durations, the others RFC 3339 times. */
static const struct {
	const char *reset, *remaining;
} limit_headers[HTTP_RATE_LIMITS] = {
	{ "x-ratelimit-reset-requests", "x-ratelimit-remaining-requests" },
	{ "x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens" },
	{ "anthropic-ratelimit-requests-reset",
		"anthropic-ratelimit-requests-remaining" },
	{ "anthropic-ratelimit-tokens-reset",
		"anthropic-ratelimit-tokens-remaining" },
	{ "anthropic-ratelimit-input-tokens-reset",
		"anthropic-ratelimit-input-tokens-remaining" },
	{ "anthropic-ratelimit-output-tokens-reset",
		"anthropic-ratelimit-output-tokens-remaining" },
};
#define FIRST_TIME_LIMIT 2

/* A count of what is left: decimal digits. */
static bool
parse_count(const char *v, size_t n, double *out)
{
	double d = 0;
	size_t i;

	if (n == 0 || n > 15)
		return false;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		d = d * 10 + (v[i] - '0');
	}
	*out = d;
	return true;
}

/* A rate-limit header, if line is one; malformed values are ignored. */
static bool
on_limit_header(struct http_response *r, const char *line, size_t n)
{
	struct timespec ts;
	const char *v;
	size_t vlen, i;
	double d;

	if ((n < 12 || strncasecmp(line, "x-ratelimit-", 12) != 0) &&
		(n < 20 || strncasecmp(line, "anthropic-ratelimit-", 20) != 0))
		return false;
	for (i = 0; i < HTTP_RATE_LIMITS; i++) {
		if (header_is(line, n, limit_headers[i].remaining, &v, &vlen)) {
			if (parse_count(v, vlen, &d))
				r->remaining[i] = d;
			return true;
		}
		if (!header_is(line, n, limit_headers[i].reset, &v, &vlen))
			continue;
		if (i < FIRST_TIME_LIMIT) {
			if (http_parse_duration(v, vlen, &d))
				r->reset[i] = d;
		} else if (http_parse_rfc3339(v, vlen, &d)) {
			/* the time until then; a clock ahead of the
			 * provider's makes it 0, never negative */
			clock_gettime(CLOCK_REALTIME, &ts);
			d -= ts.tv_sec + ts.tv_nsec / 1e9;
			r->reset[i] = d > 0 ? fmin(d, WAIT_MAX) : 0;
		}
		return true;
	}
	return true;
}

/*
 * Retry-After wins.  Without it, the reset headers: when some limit says
 * that nothing is left of it (remaining 0), the latest reset among those
 * limits, since all of them must have reset for a request to pass (none
 * when none of those has a valid reset: the client backs off).  When no
 * limit says so, or the remaining headers are absent, the limit that
 * refused is unknown: on a 429 the earliest reset, the first moment a
 * retry may pass (a retry that does not gets a new answer with fresh
 * headers); on other statuses none, as those headers come with every
 * answer and say nothing about an outage.
 */
double
http_response_wait(const struct http_response *r)
{
	double latest = -1, earliest = -1;
	bool exhausted = false;
	size_t i;

	if (r->retry_after >= 0)
		return r->retry_after;
	for (i = 0; i < HTTP_RATE_LIMITS; i++) {
		if (r->remaining[i] == 0) {
			exhausted = true;
			latest = fmax(latest, r->reset[i]);
		} else if (r->reset[i] >= 0 &&
			(earliest < 0 || r->reset[i] < earliest)) {
			earliest = r->reset[i];
		}
	}
	if (exhausted)
		return latest;
	return r->status == 429 ? earliest : -1;
}

static size_t
on_header(char *line, size_t size, size_t nmemb, void *ud)
{
	struct http_call *c = ud;
	struct http_response *r = &c->resp;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->retry_after = -1;
		c->retry_ms = false;
		limits_clear(r);
		free(r->error_type);
		r->error_type = NULL;
		return n;
	}
	if (on_limit_header(r, line, n))
		return n;
	if (header_is(line, n, "retry-after-ms", &v, &vlen)) {
		parse_retry_after(r, v, vlen, true);
		c->retry_ms = r->retry_after >= 0;
	} else if (header_is(line, n, "retry-after", &v, &vlen)) {
		if (!c->retry_ms)
			parse_retry_after(r, v, vlen, false);
	} else if (header_is(line, n, "x-request-id", &v, &vlen) ||
		header_is(line, n, "request-id", &v, &vlen) ||
		header_is(line, n, "x-amzn-requestid", &v, &vlen)) {
		free(r->request_id);
		r->request_id = xstrndup(v, vlen);
	} else if (header_is(line, n, "content-type", &v, &vlen)) {
		free(r->content_type);
		r->content_type = xstrndup(v, vlen);
	} else if (header_is(line, n, "x-should-retry", &v, &vlen)) {
		r->should_retry_set = true;
		r->should_retry = vlen == 4 && strncasecmp(v, "true", 4) == 0;
	} else if (header_is(line, n, "x-amzn-errortype", &v, &vlen)) {
		/* "ThrottlingException:http://internal.amazon.com/..." */
		const char *colon = memchr(v, ':', vlen);

		if (colon)
			vlen = (size_t)(colon - v);
		trim(&v, &vlen);
		free(r->error_type);
		r->error_type = vlen ? xstrndup(v, vlen) : NULL;
	}
	return n;
}

static int
on_debug(CURL *h, curl_infotype type, char *data, size_t n, void *ud)
{
	const char *kind;
	size_t len;

	(void)h;
	(void)ud;
	switch (type) {
	case CURLINFO_TEXT:
		kind = "*";
		break;
	case CURLINFO_HEADER_IN:
		kind = "<";
		break;
	case CURLINFO_HEADER_OUT:
		kind = ">";
		break;
	default:
		return 0;
	}
	/* Header blocks come whole; print them a line at a time, with
	 * credentials redacted. */
	while (n) {
		const char *nl = memchr(data, '\n', n);

		len = nl ? (size_t)(nl - data) + 1 : n;
		if (len > 0) {
			size_t show = len;

			while (show && (data[show - 1] == '\n' ||
					data[show - 1] == '\r'))
				show--;
			if (type == CURLINFO_HEADER_OUT &&
				(strncasecmp(data, "authorization:", 14) == 0 ||
					strncasecmp(data, "x-api-key:", 10) == 0 ||
					strncasecmp(data, "api-key:", 8) == 0 ||
					strncasecmp(data, "x-goog-api-key:", 15) == 0 ||
					strncasecmp(data, "x-amz-security-token:",
						21) == 0)) {
				const char *colon = memchr(data, ':', show);

				msg_debug(2, "%s %.*s: ***", kind,
					(int)(colon - data), data);
			} else if (show) {
				msg_debug(2, "%s %.*s", kind, (int)show, data);
			}
		}
		data += len;
		n -= len;
	}
	return 0;
}

static void
setup(struct http_call *c)
{
	const struct http_request *rq = c->rq;
	struct curl_slist *sl = NULL;
	struct buf line = BUF_INIT;
	CURL *h;
	size_t i;

	h = curl_easy_init();
	if (h == NULL) {
		msg_error("out of memory");
		exit(71);
	}
	c->easy = h;
	for (i = 0; i < rq->nheaders; i++) {
		buf_setf(&line, "%s: %s", rq->headers[i].name,
			rq->headers[i].value);
		sl = curl_slist_append(sl, line.ptr);
	}
	sl = curl_slist_append(sl, "Expect:");
	buf_release(&line);
	c->slist = sl;
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "llm/" LLM_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body.ptr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)rq->body.len);
	} else if (strcmp(rq->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (c->timeout > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			(long)(c->timeout * 1000));
	if (c->connect_timeout > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			(long)(c->connect_timeout * 1000));
	if (msg_verbosity() >= 2) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
}

static const char *
host_of(const char *url, struct buf *out)
{
	const char *p = strstr(url, "://"), *e;

	p = p ? p + 3 : url;
	for (e = p; *e && *e != '/' && *e != '?'; e++)
		;
	buf_reset(out);
	buf_add(out, p, (size_t)(e - p));
	return out->ptr;
}

static void
finish(struct http_call *c, CURLcode rc)
{
	struct buf host = BUF_INIT;
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);

	c->done = true;
	if (c->cb_status) {
		c->st = (enum llm_status)c->cb_status;
		goto out;
	}
	host_of(c->rq->url, &host);
	switch (rc) {
	case CURLE_OK:
		c->st = LLM_OK;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		c->st = LLM_ERR_TEMP;
		buf_setf(&c->err, "'%s' timed out after %g s", host.ptr,
			c->timeout);
		break;
	case CURLE_PARTIAL_FILE:
		c->st = LLM_ERR_DATA;
		buf_setf(&c->err, "reply from '%s' cut short: %s", host.ptr,
			why);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		c->st = LLM_ERR_UNAVAILABLE;
		buf_setf(&c->err, "cannot connect to '%s': %s", host.ptr, why);
		break;
	default:
		c->st = LLM_ERR_UNAVAILABLE;
		buf_setf(&c->err, "request to '%s' failed: %s", host.ptr, why);
		break;
	}
out:
	buf_release(&host);
}

struct http_multi *
http_multi_new(void)
{
	struct http_multi *hm = xcalloc(1, sizeof(*hm));

	global_init();
	hm->m = curl_multi_init();
	if (hm->m == NULL) {
		msg_error("out of memory");
		exit(71);
	}
	return hm;
}

/* Take c off the multi handle; it keeps its outcome. */
static void
multi_remove(struct http_multi *hm, struct http_call *c)
{
	size_t i;

	for (i = 0; i < hm->n; i++) {
		if (hm->calls[i] != c)
			continue;
		curl_multi_remove_handle(hm->m, c->easy);
		hm->calls[i] = hm->calls[--hm->n];
		return;
	}
}

void
http_multi_add(struct http_multi *hm, struct http_call *c)
{
	setup(c);
	c->started = http_now();
	hm->calls = xgrowarray(hm->calls, &hm->alloc, hm->n + 1,
		sizeof(*hm->calls));
	hm->calls[hm->n++] = c;
	curl_multi_add_handle(hm->m, c->easy);
}

size_t
http_multi_running(const struct http_multi *hm)
{
	return hm->n;
}

void
http_multi_abort(struct http_multi *hm, struct http_call *c,
	enum llm_status st, const char *why)
{
	if (c->done)
		return;
	multi_remove(hm, c);
	c->done = true;
	c->st = st;
	buf_setf(&c->err, "%s", why);
	c->elapsed = http_now() - c->started;
}

void
http_multi_perform(struct http_multi *hm)
{
	CURLMsg *msg;
	int running, left;

	curl_multi_perform(hm->m, &running);
	while ((msg = curl_multi_info_read(hm->m, &left)) != NULL) {
		struct http_call *c;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			(char **)&c);
		finish(c, msg->data.result);
		c->elapsed = http_now() - c->started;
		multi_remove(hm, c);
	}
}

void
http_multi_poll(struct http_multi *hm, int timeout_ms)
{
	struct curl_waitfd wfd;

	if (hm->n == 0 || sig_caught() || timeout_ms == 0)
		return;
	memset(&wfd, 0, sizeof(wfd));
	wfd.fd = sig_fd();
	wfd.events = CURL_WAIT_POLLIN;
	curl_multi_poll(hm->m, &wfd, wfd.fd >= 0 ? 1 : 0, timeout_ms, NULL);
}

void
http_multi_wait(struct http_multi *hm, int timeout_ms)
{
	http_multi_perform(hm);
	http_multi_poll(hm, timeout_ms);
}

void
http_multi_free(struct http_multi *hm)
{
	int sig = sig_caught();

	if (hm == NULL)
		return;
	while (hm->n)
		http_multi_abort(hm, hm->calls[hm->n - 1],
			sig == SIGTERM ? LLM_ERR_TERMINATED :
					 LLM_ERR_INTERRUPTED,
			sig == SIGTERM ? "terminated" : "interrupted");
	curl_multi_cleanup(hm->m);
	free(hm->calls);
	free(hm);
}

void
http_run(struct http_call **calls, size_t n)
{
	struct http_multi *hm = http_multi_new();
	size_t i;

	for (i = 0; i < n; i++)
		http_multi_add(hm, calls[i]);
	while (hm->n && !sig_caught())
		http_multi_wait(hm, 1000);
	/* What is left was interrupted by a signal. */
	http_multi_free(hm);
}

enum llm_status
http_perform(struct http_call *c)
{
	http_run(&c, 1);
	return c->st;
}
