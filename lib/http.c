/* http.c - HTTP on libcurl's multi interface; see http.h. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "msg.h"
#include "sig.h"
#include "xalloc.h"

#define ERROR_BODY_MAX (1 << 20)
#define BODY_MAX (64 << 20)

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

void
http_call_init(struct http_call *c, const struct http_request *rq)
{
	memset(c, 0, sizeof(*c));
	c->rq = rq;
	c->resp.body.ptr = buf_empty;
	c->resp.retry_after = -1;
	c->err.ptr = buf_empty;
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
	c->resp.request_id = c->resp.content_type = NULL;
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
		if (d >= 0)
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
		return n;
	}
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
http_multi_wait(struct http_multi *hm, int timeout_ms)
{
	struct curl_waitfd wfd;
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
	if (hm->n == 0 || sig_caught() || timeout_ms == 0)
		return;
	memset(&wfd, 0, sizeof(wfd));
	wfd.fd = sig_fd();
	wfd.events = CURL_WAIT_POLLIN;
	curl_multi_poll(hm->m, &wfd, wfd.fd >= 0 ? 1 : 0, timeout_ms, NULL);
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
