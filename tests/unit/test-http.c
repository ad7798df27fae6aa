/* test-http.c - unit tests of lib/http: building and dumping requests,
 * escaping, and real transfers against a tiny HTTP server that the test
 * forks on 127.0.0.1 (canned responses, one per connection). */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "msg.h"
#include "sig.h"
#include "tap.h"

#define SERVER_DIR "/tmp/test-http-XXXXXX"
#include "server.h"

/* ==== helpers ==== */

struct sink {
	struct buf body;
	int calls;
	int fail_with; /* return this from the callback */
};

static int
on_body(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->body, p, n);
	s->calls++;
	return s->fail_with;
}

static struct http_request rq = HTTP_REQUEST_INIT;

/* A GET of s's URL + path. */
static void
request_to(const struct server *s, const char *method, const char *path)
{
	struct buf url = BUF_INIT;

	buf_addf(&url, "%s%s", s->url, path);
	http_request_release(&rq);
	http_request_set(&rq, method, url.ptr);
	buf_release(&url);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether s holds needle, ignoring case. */
static int
contains_ci(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return 1;
	return 0;
}

/* ==== tests ==== */

static void
test_request_dump(void)
{
	struct http_request r = HTTP_REQUEST_INIT;
	struct buf out = BUF_INIT;

	http_request_set(&r, "GET", "http://first/");
	http_request_set(&r, "POST", "https://api.example.com/v1/chat");
	is_str(r.method, "POST", "http_request_set replaces the method");
	is_str(r.url, "https://api.example.com/v1/chat", "and the URL");
	http_request_header(&r, "Content-Type", "application/json", false);
	http_request_header(&r, "Authorization", "Bearer sk-live-123", true);
	http_request_header(&r, "x-api-key", "sk-ant-456", true);
	http_request_header(&r, "anthropic-version", "2023-06-01", false);
	is_int((long long)r.nheaders, 4, "four headers");
	is_str(r.headers[1].value, "Bearer sk-live-123",
		"the request keeps the real value");
	buf_adds(&r.body, "{\"a\":1}");
	buf_adds(&out, "> ");
	http_request_dump(&r, &out);
	is_str(out.ptr,
		"> POST https://api.example.com/v1/chat\n"
		"Content-Type: application/json\n"
		"Authorization: Bearer ***\n"
		"x-api-key: ***\n"
		"anthropic-version: 2023-06-01\n"
		"\n"
		"{\"a\":1}\n",
		"dump: request line, headers redacted, blank line, body");
	ok(strstr(out.ptr, "sk-") == NULL, "no secret in the dump");
	http_request_release(&r);
	ok(r.method == NULL && r.url == NULL && r.nheaders == 0 &&
			r.body.len == 0,
		"release empties the request");
	http_request_release(&r);
	ok(1, "releasing twice is safe");

	buf_reset(&out);
	http_request_set(&r, "GET", "http://h/models");
	http_request_header(&r, "Authorization", "Bearer", true);
	http_request_header(&r, "Accept", "*/*", false);
	http_request_dump(&r, &out);
	is_str(out.ptr, "GET http://h/models\nAuthorization: ***\n"
			"Accept: */*\n\n",
		"no body: nothing after the blank line; 'Bearer' alone is ***");
	http_request_release(&r);
	buf_release(&out);
}

static void
test_escape(void)
{
	struct buf out = BUF_INIT;

	http_escape(&out, "AZaz09-._~");
	is_str(out.ptr, "AZaz09-._~", "unreserved bytes stay");
	buf_reset(&out);
	http_escape(&out, "a b/c?d=e&f#g%h+i:j@k");
	is_str(out.ptr, "a%20b%2Fc%3Fd%3De%26f%23g%25h%2Bi%3Aj%40k",
		"reserved bytes are percent-encoded, upper-case hex");
	buf_reset(&out);
	buf_adds(&out, "models/");
	http_escape(&out, "caf\xC3\xA9 \xF0\x9F\x98\x80");
	is_str(out.ptr, "models/caf%C3%A9%20%F0%9F%98%80",
		"UTF-8 bytes one by one, appended");
	buf_reset(&out);
	http_escape(&out, "");
	is_str(out.ptr, "", "the empty string");
	buf_reset(&out);
	http_escape(&out, "\x01\x7f\xff");
	is_str(out.ptr, "%01%7F%FF", "control bytes and 0xFF");
	buf_release(&out);
}

static void
test_transfers(void)
{
	static const struct reply replies[] = {
		/* 0: a 2xx body in three writes, to a callback */
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     "Content-Length: 18\r\nx-request-id: req-42\r\n"
			     "\r\nfirst,",
			     "second,", "third" },
			.pause_ms = 60 },
		/* 1: a 500 with a callback: collected instead */
		{ .parts = { "HTTP/1.1 500 Internal Server Error\r\n"
			     "Content-Length: 29\r\nx-should-retry: false\r\n"
			     "x-amzn-RequestId: amzn-3\r\n"
			     "\r\n{\"error\":{\"message\":\"boom\"}}\n" } },
		/* 2: a 2xx without callback: collected */
		{ .parts = { "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
			     "Request-Id: rid-7\r\n\r\nhello" } },
		/* 3: Retry-After in seconds; X-Should-Retry */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "Retry-After: 7\r\nX-Should-Retry: true\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 4: retry-after-ms wins over Retry-After, in any order */
		{ .parts = { "HTTP/1.1 503 Service Unavailable\r\n"
			     "retry-after-ms: 1500\r\nRetry-After: 9\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 5: an HTTP-date (filled in below) */
		{ .parts = { NULL } },
		/* 6: a date in the past; a bad value is ignored */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 7: a bad Retry-After */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "Retry-After: soon\r\nContent-Length: 0\r\n\r\n" } },
		/* 8: a callback that fails at once */
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			     "0123456789" } },
		/* 9: cut short */
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
			     "only ten b" } },
		/* 10: never answers */
		{ .hang = 1 },
		/* 11: a custom method, headers on the wire */
		{ .parts = { "HTTP/1.1 204 No Content\r\n\r\n" } },
		/* 12: verbose output */
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" } },
		/* 13: a callback that finds the body malformed */
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
			     "junk" } },
	};
	struct reply all[sizeof(replies) / sizeof(replies[0])];
	struct server srv;
	struct http_call c;
	struct sink sink = { BUF_INIT, 0, 0 };
	struct buf seen = BUF_INIT, date_reply = BUF_INIT, want = BUF_INIT;
	char date[64];
	time_t later = time(NULL) + 30;
	struct tm tm;
	double t;
	enum llm_status st;
	int saved, fd;

	memcpy(all, replies, sizeof(all));
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	buf_addf(&date_reply, "HTTP/1.1 503 Service Unavailable\r\n"
			      "Retry-After: %s\r\nContent-Length: 0\r\n\r\n",
		date);
	all[5].parts[0] = date_reply.ptr;
	server_start(&srv, all, sizeof(all) / sizeof(all[0]));

	/* 0 */
	request_to(&srv, "POST", "/v1/chat?x=1");
	http_request_header(&rq, "Content-Type", "application/json", false);
	http_request_header(&rq, "Authorization", "Bearer sk-wire", true);
	buf_adds(&rq.body, "{\"q\":\"hi\"}");
	http_call_init(&c, &rq);
	c.fn = on_body;
	c.ud = &sink;
	is_int(http_perform(&c), LLM_OK, "a 200 answer: LLM_OK");
	is_int(c.st, LLM_OK, "st is set too");
	is_int(c.resp.status, 200, "status captured");
	is_str(sink.body.ptr, "first,second,third",
		"the callback got exactly the body");
	ok(sink.calls >= 2, "in several writes");
	is_str(c.resp.body.ptr, "", "nothing collected beside the callback");
	is_int((long long)c.resp.received, 18, "received counts body bytes");
	is_str(c.resp.request_id, "req-42", "x-request-id");
	is_str(c.resp.content_type, "text/plain", "content type");
	ok(!c.resp.should_retry_set, "no x-should-retry");
	ok(c.resp.retry_after < 0, "no Retry-After");
	is_str(c.err.ptr, "", "no message");
	ok(c.elapsed >= 0.1 && c.elapsed < 2, "elapsed is measured");
	is_int(server_requests(&seen), 1, "the server got one request");
	ok(strstr(seen.ptr, "POST /v1/chat?x=1 HTTP/1.1\r\n") != NULL,
		"method and path on the wire");
	ok(strstr(seen.ptr, "\r\nAuthorization: Bearer sk-wire\r\n") != NULL,
		"the secret header is sent as it is");
	ok(strstr(seen.ptr, "\r\nContent-Type: application/json\r\n") != NULL,
		"headers are sent");
	ok(strstr(seen.ptr, "\r\nUser-Agent: llm/" LLM_VERSION "\r\n") != NULL,
		"User-Agent: llm/VERSION");
	ok(!contains_ci(seen.ptr, "\r\nExpect:"), "no Expect: 100-continue");
	ok(strstr(seen.ptr, "\r\n\r\n{\"q\":\"hi\"}\n") != NULL,
		"the body is sent");
	http_call_release(&c);

	/* 1 */
	buf_reset(&sink.body);
	sink.calls = 0;
	http_call_init(&c, &rq);
	c.fn = on_body;
	c.ud = &sink;
	is_int(http_perform(&c), LLM_OK, "a 500 answer is still LLM_OK");
	is_int(c.resp.status, 500, "status 500");
	is_str(c.resp.request_id, "amzn-3", "Bedrock's x-amzn-RequestId");
	is_str(c.resp.body.ptr, "{\"error\":{\"message\":\"boom\"}}\n",
		"the error body is collected");
	is_int(sink.calls, 0, "and not given to the callback");
	ok(c.resp.should_retry_set && !c.resp.should_retry,
		"x-should-retry: false");
	http_call_release(&c);

	/* 2 */
	request_to(&srv, "GET", "/models");
	http_call_init(&c, &rq);
	is_int(http_perform(&c), LLM_OK, "a 201 without callback");
	is_int(c.resp.status, 201, "status 201");
	is_str(c.resp.body.ptr, "hello", "the body is collected");
	is_str(c.resp.request_id, "rid-7", "request-id counts too");
	http_call_release(&c);

	/* 3 */
	http_call_init(&c, &rq);
	http_perform(&c);
	is_int(c.resp.status, 429, "status 429");
	ok(c.resp.retry_after == 7, "Retry-After: 7 is 7 s");
	ok(c.resp.should_retry_set && c.resp.should_retry,
		"X-Should-Retry: true (any case)");
	http_call_release(&c);

	/* 4 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.retry_after == 1.5, "retry-after-ms: 1500 is 1.5 s, "
				      "over a later Retry-After");
	http_call_release(&c);

	/* 5 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.retry_after >= 28 && c.resp.retry_after <= 31,
		"an HTTP-date 30 s ahead is about 30 s");
	http_call_release(&c);

	/* 6 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.retry_after == 0, "an HTTP-date in the past is 0 s");
	http_call_release(&c);

	/* 7 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.retry_after < 0, "a bad Retry-After is ignored");
	http_call_release(&c);

	/* 8 */
	buf_reset(&sink.body);
	sink.calls = 0;
	sink.fail_with = LLM_ERR_PIPE;
	http_call_init(&c, &rq);
	c.fn = on_body;
	c.ud = &sink;
	is_int(http_perform(&c), LLM_ERR_PIPE,
		"a callback's non-zero return aborts with that status");
	is_int(sink.calls, 1, "the callback was called once");
	is_str(c.err.ptr, "", "with no message of http's own");
	http_call_release(&c);
	sink.fail_with = 0;

	/* 9 */
	buf_reset(&sink.body);
	http_call_init(&c, &rq);
	c.fn = on_body;
	c.ud = &sink;
	is_int(http_perform(&c), LLM_ERR_DATA, "a reply cut short");
	is_str(sink.body.ptr, "only ten b", "what arrived was delivered");
	buf_setf(&want, "reply from '%s' cut short: ", srv.host);
	ok(starts_with(c.err.ptr, want.ptr), "its message");
	if (!starts_with(c.err.ptr, want.ptr))
		printf("#   got: '%s'\n", c.err.ptr);
	http_call_release(&c);

	/* 10 */
	http_call_init(&c, &rq);
	c.timeout = 0.3;
	t = now();
	is_int(http_perform(&c), LLM_ERR_TEMP, "a timeout is temporary");
	t = now() - t;
	ok(t >= 0.29 && t < 1.5, "after about 0.3 s");
	buf_setf(&want, "'%s' timed out after 0.3 s", srv.host);
	is_str(c.err.ptr, want.ptr, "its message");
	is_int(c.resp.status, 0, "no status");
	http_call_release(&c);

	/* 11 */
	request_to(&srv, "DELETE", "/v1/files/f%201");
	http_call_init(&c, &rq);
	is_int(http_perform(&c), LLM_OK, "a custom method");
	is_int(c.resp.status, 204, "status 204");
	server_requests(&seen);
	ok(strstr(seen.ptr, "DELETE /v1/files/f%201 HTTP/1.1\r\n") != NULL,
		"is sent as it is");
	http_call_release(&c);

	/* 12: -vv shows the headers, credentials redacted */
	request_to(&srv, "GET", "/v");
	http_request_header(&rq, "Authorization", "Bearer sk-hidden", true);
	http_request_header(&rq, "x-api-key", "sk-hidden2", true);
	http_request_header(&rq, "X-Visible", "shown", false);
	http_call_init(&c, &rq);
	msg_init("test-http");
	msg_set_verbosity(2);
	fflush(stderr);
	saved = dup(2);
	buf_setf(&want, "%s/stderr", dir);
	fd = open(want.ptr, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	st = http_perform(&c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	msg_set_verbosity(0);
	is_int(st, LLM_OK, "a verbose request");
	buf_reset(&seen);
	lseek(fd, 0, SEEK_SET);
	{
		char tmp[4096];
		ssize_t n;

		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			buf_add(&seen, tmp, (size_t)n);
	}
	close(fd);
	unlink(want.ptr);
	ok(strstr(seen.ptr, "test-http: debug: > GET /v HTTP/1.1\n") != NULL,
		"-vv: the request line");
	ok(strstr(seen.ptr, "test-http: debug: > Authorization: ***\n") != NULL,
		"-vv: Authorization redacted");
	ok(strstr(seen.ptr, "test-http: debug: > x-api-key: ***\n") != NULL,
		"-vv: x-api-key redacted");
	ok(strstr(seen.ptr, "test-http: debug: > X-Visible: shown\n") != NULL,
		"-vv: other headers shown");
	ok(strstr(seen.ptr, "test-http: debug: < HTTP/1.1 200 OK\n") != NULL,
		"-vv: the status line");
	ok(strstr(seen.ptr, "sk-hidden") == NULL, "-vv: no secret");
	http_call_release(&c);

	/* 13 */
	request_to(&srv, "GET", "/");
	buf_reset(&sink.body);
	sink.fail_with = LLM_ERR_DATA;
	http_call_init(&c, &rq);
	c.fn = on_body;
	c.ud = &sink;
	is_int(http_perform(&c), LLM_ERR_DATA,
		"a callback's LLM_ERR_DATA becomes the status");
	ok(strstr(c.err.ptr, "MiB") == NULL,
		"and is not reported as an oversized reply");
	if (strstr(c.err.ptr, "MiB") != NULL)
		printf("#   got: '%s'\n", c.err.ptr);
	http_call_release(&c);
	sink.fail_with = 0;

	server_stop(&srv);
	buf_release(&sink.body);
	buf_release(&seen);
	buf_release(&date_reply);
	buf_release(&want);
}

/* ==== rate limits: durations, RFC 3339 times, reset headers ==== */

static int
near(double got, double want)
{
	return got - want < 1e-9 && want - got < 1e-9;
}

static void
test_parse_duration(void)
{
	static const struct {
		const char *s;
		double secs;
	} good[] = {
		{ "1s", 1 },
		{ "6m0s", 360 },
		{ "20ms", 0.02 },
		{ "1h2m3.5s", 3723.5 },
		{ "0.5s", 0.5 },
		{ ".5s", 0.5 },
		{ "0", 0 },
		{ "0s", 0 },
		{ "37s", 37 },
		{ "3.000001s", 3.000001 },
		{ "2m59.56s", 179.56 },
		{ "1h", 3600 },
		{ "2m", 120 },
		{ "500us", 0.0005 },
		{ "500\xc2\xb5s", 0.0005 },
		{ "100ns", 1e-7 },
		{ "+3s", 3 },
		{ "1m1ms", 60.001 },
	};
	static const char *const bad[] = {
		"", "1", "00", "s", "m5s", "1x", "1 s", " 1s", "1s ", "-1s",
		"1e3s", "soon", "inf", "nan", ".s", "1h-2m", "1S", "1sec",
		"4 ms", "99999999999h",
	};
	struct buf name = BUF_INIT;
	double d;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		d = -1;
		buf_setf(&name, "duration '%s' is %g s", good[i].s,
			good[i].secs);
		ok(http_parse_duration(good[i].s, strlen(good[i].s), &d) &&
				near(d, good[i].secs),
			name.ptr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = -7;
		buf_setf(&name, "duration '%s' is refused, *secs untouched",
			bad[i]);
		ok(!http_parse_duration(bad[i], strlen(bad[i]), &d) && d == -7,
			name.ptr);
	}
	ok(http_parse_duration("12s, junk", 3, &d) && d == 12,
		"only n bytes are read");
	buf_release(&name);
}

static void
test_parse_rfc3339(void)
{
	static const struct {
		const char *s;
		double t;
	} good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2023-11-14T22:13:20Z", 1700000000 },
		{ "2026-11-23T10:00:05Z", 1795428005 },
		{ "2023-11-14T22:13:20.25Z", 1700000000.25 },
		{ "2023-11-14T22:13:20.000001Z", 1700000000.000001 },
		{ "2023-11-14T23:13:20+01:00", 1700000000 },
		{ "2023-11-14T21:43:20-00:30", 1700000000 },
		{ "2023-11-14T22:13:20+00:00", 1700000000 },
		{ "2023-11-14t22:13:20z", 1700000000 },
		{ "2023-11-14 22:13:20Z", 1700000000 },
		{ "2024-02-29T00:00:00Z", 1709164800 },
		{ "2000-02-29T12:00:00Z", 951825600 },
		{ "1999-12-31T23:59:59Z", 946684799 },
		{ "2016-12-31T23:59:60Z", 1483228800 },
	};
	static const char *const bad[] = {
		"",
		"tomorrow",
		"2023-11-14T22:13:20",
		"2023-11-14T22:13Z",
		"2023-11-14",
		"2023-11-14T22:13:20.Z",
		"2023-11-14T22:13:20+0100",
		"2023-11-14T22:13:20+01",
		"2023-11-14T22:13:20Z junk",
		"2023-11-14X22:13:20Z",
		"2023-13-01T00:00:00Z",
		"2023-00-01T00:00:00Z",
		"2023-11-00T00:00:00Z",
		"2023-11-31T00:00:00Z",
		"2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z",
		"2023-11-14T24:00:00Z",
		"2023-11-14T22:60:00Z",
		"2023-11-14T22:13:61Z",
		"2023-11-14T22:13:20+24:00",
		"2023-1-14T22:13:20Z",
		"Tue, 14 Nov 2023 22:13:20 GMT",
	};
	struct buf name = BUF_INIT;
	double t;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -1;
		buf_setf(&name, "RFC 3339 '%s' is %.6f", good[i].s,
			good[i].t);
		ok(http_parse_rfc3339(good[i].s, strlen(good[i].s), &t) &&
				t - good[i].t < 1e-6 && good[i].t - t < 1e-6,
			name.ptr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = -7;
		buf_setf(&name, "RFC 3339 '%s' is refused", bad[i]);
		ok(!http_parse_rfc3339(bad[i], strlen(bad[i]), &t) && t == -7,
			name.ptr);
	}
	ok(http_parse_rfc3339("1970-01-01T00:00:10Z, junk", 20, &t) &&
			t == 10,
		"RFC 3339: only n bytes are read");
	buf_release(&name);
}

/* The rule of http_response_wait(), on responses made by hand. */
static void
test_response_wait(void)
{
	struct http_call c;
	struct http_response *r = &c.resp;

	http_call_init(&c, NULL);
	r->status = 429;
	ok(http_response_wait(r) < 0, "nothing said: no wait");
	r->reset[1] = 0.5;
	r->reset[0] = 2;
	is_int((long long)(http_response_wait(r) * 1000), 500,
		"a 429, no remaining headers: the earliest reset");
	r->remaining[1] = 10;
	r->remaining[0] = 3;
	is_int((long long)(http_response_wait(r) * 1000), 500,
		"a 429, nothing exhausted: the earliest reset");
	r->remaining[0] = 0;
	is_int((long long)(http_response_wait(r) * 1000), 2000,
		"the reset of the limit with nothing left");
	r->remaining[3] = 0;
	r->reset[3] = 30;
	r->remaining[4] = 0;
	r->reset[4] = 0;
	is_int((long long)(http_response_wait(r) * 1000), 30000,
		"several exhausted: the latest of their resets");
	r->status = 503;
	is_int((long long)(http_response_wait(r) * 1000), 30000,
		"an exhausted limit counts on a 503 too");
	r->retry_after = 4;
	is_int((long long)(http_response_wait(r) * 1000), 4000,
		"Retry-After wins");
	http_call_release(&c);

	http_call_init(&c, NULL);
	r->status = 503;
	r->reset[0] = 1;
	r->reset[1] = 2;
	ok(http_response_wait(r) < 0,
		"a 503 with resets but nothing exhausted: no wait");
	r->status = 429;
	r->remaining[2] = 0; /* exhausted, its reset malformed */
	ok(http_response_wait(r) < 0,
		"the exhausted limit's reset unknown: no wait, not another's");
	http_call_release(&c);
}

/* The headers as they arrive: names in any case, in any order. */
static void
test_rate_limit_headers(void)
{
	struct reply replies[] = {
		/* 0: OpenAI's, remaining after reset */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "X-RateLimit-Reset-Requests: 6m0s\r\n"
			     "x-ratelimit-reset-tokens: 20ms\r\n"
			     "x-ratelimit-remaining-tokens: 100\r\n"
			     "X-Ratelimit-Remaining-Requests:  0 \r\n"
			     "x-ratelimit-limit-requests: 60\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 1: resets alone */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "x-ratelimit-reset-requests: 2s\r\n"
			     "x-ratelimit-reset-tokens: 1.5s\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 2: Retry-After beside them */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "x-ratelimit-remaining-requests: 0\r\n"
			     "x-ratelimit-reset-requests: 1m0s\r\n"
			     "Retry-After: 3\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 3: Anthropic's (filled in below) */
		{ .parts = { NULL } },
		/* 4: malformed values */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "x-ratelimit-remaining-requests: none\r\n"
			     "x-ratelimit-reset-requests: soon\r\n"
			     "x-ratelimit-remaining-tokens: -5\r\n"
			     "x-ratelimit-reset-tokens: 4 ms\r\n"
			     "anthropic-ratelimit-requests-reset: tomorrow\r\n"
			     "anthropic-ratelimit-requests-remaining: 0x10\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 5: Bedrock's error type */
		{ .parts = { "HTTP/1.1 429 Too Many Requests\r\n"
			     "x-amzn-ErrorType: ThrottlingException:http://"
			     "internal.amazon.com/coral/com.amazon.bedrock/\r\n"
			     "Content-Length: 0\r\n\r\n" } },
		/* 6: without its namespace */
		{ .parts = { "HTTP/1.1 403 Forbidden\r\n"
			     "X-Amzn-ErrorType:  AccessDeniedException \r\n"
			     "Content-Length: 0\r\n\r\n" } },
	};
	struct server srv;
	struct http_call c;
	struct buf anth = BUF_INIT;
	char soon[32], later[32], past[32];
	time_t now = time(NULL), t;
	struct tm tm;
	int i;

	t = now + 2;
	strftime(soon, sizeof(soon), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	t = now + 30;
	strftime(later, sizeof(later), "%Y-%m-%dT%H:%M:%SZ",
		gmtime_r(&t, &tm));
	t = now - 3600;
	strftime(past, sizeof(past), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	buf_addf(&anth, "HTTP/1.1 429 Too Many Requests\r\n"
			"anthropic-ratelimit-requests-remaining: 0\r\n"
			"anthropic-ratelimit-requests-reset: %s\r\n"
			"Anthropic-RateLimit-Tokens-Reset: %s\r\n"
			"anthropic-ratelimit-tokens-remaining: 5\r\n"
			"anthropic-ratelimit-input-tokens-remaining: 0\r\n"
			"anthropic-ratelimit-input-tokens-reset: %s\r\n"
			"anthropic-ratelimit-output-tokens-reset: %s\r\n"
			"Content-Length: 0\r\n\r\n",
		later, soon, past, later);
	replies[3].parts[0] = anth.ptr;
	server_start(&srv, replies, sizeof(replies) / sizeof(replies[0]));
	request_to(&srv, "GET", "/limits");

	/* 0 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.reset[0] == 360 && near(c.resp.reset[1], 0.02),
		"OpenAI: x-ratelimit-reset-requests 6m0s, -tokens 20ms");
	ok(c.resp.remaining[0] == 0 && c.resp.remaining[1] == 100,
		"OpenAI: the remaining counts, in any order and case");
	ok(c.resp.retry_after < 0, "no Retry-After");
	ok(http_response_wait(&c.resp) == 360,
		"the wait: the reset of the exhausted request limit");
	for (i = 2; i < HTTP_RATE_LIMITS; i++)
		if (c.resp.reset[i] >= 0 || c.resp.remaining[i] >= 0)
			break;
	ok(i == HTTP_RATE_LIMITS, "no Anthropic limits");
	http_call_release(&c);

	/* 1 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(http_response_wait(&c.resp) == 1.5,
		"resets alone: the earliest");
	http_call_release(&c);

	/* 2 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.reset[0] == 60 && http_response_wait(&c.resp) == 3,
		"Retry-After wins over a reset");
	http_call_release(&c);

	/* 3 */
	http_call_init(&c, &rq);
	http_perform(&c);
	ok(c.resp.reset[2] > 28 && c.resp.reset[2] <= 30,
		"Anthropic: requests-reset 30 s ahead is about 30 s");
	if (!(c.resp.reset[2] > 28 && c.resp.reset[2] <= 30))
		printf("#   got %g\n", c.resp.reset[2]);
	ok(c.resp.reset[3] > 0 && c.resp.reset[3] <= 2,
		"Anthropic: tokens-reset, any case");
	ok(c.resp.reset[4] == 0, "a time in the past is 0 s, not negative");
	ok(c.resp.remaining[2] == 0 && c.resp.remaining[3] == 5 &&
			c.resp.remaining[4] == 0 && c.resp.remaining[5] < 0,
		"Anthropic: the remaining counts");
	ok(http_response_wait(&c.resp) == c.resp.reset[2],
		"the wait: the latest reset of the exhausted limits");
	http_call_release(&c);

	/* 4 */
	http_call_init(&c, &rq);
	http_perform(&c);
	for (i = 0; i < HTTP_RATE_LIMITS; i++)
		if (c.resp.reset[i] >= 0 || c.resp.remaining[i] >= 0)
			break;
	ok(i == HTTP_RATE_LIMITS, "malformed values are ignored");
	ok(http_response_wait(&c.resp) < 0, "and ask for no wait");
	ok(c.resp.error_type == NULL, "no x-amzn-ErrorType");
	http_call_release(&c);

	/* 5, 6 */
	http_call_init(&c, &rq);
	http_perform(&c);
	is_str(c.resp.error_type, "ThrottlingException",
		"x-amzn-ErrorType: the name before ':'");
	http_call_release(&c);
	ok(c.resp.error_type == NULL, "released");
	http_call_init(&c, &rq);
	http_perform(&c);
	is_str(c.resp.error_type, "AccessDeniedException",
		"x-amzn-ErrorType without ':', blanks trimmed");
	http_call_release(&c);

	server_stop(&srv);
	buf_release(&anth);
}

static void
test_refused(void)
{
	struct server dead;
	struct http_call c;
	struct buf want = BUF_INIT;
	int fd = listen_any(&dead.port);

	close(fd); /* nothing listens there now */
	snprintf(dead.host, sizeof(dead.host), "127.0.0.1:%d", dead.port);
	snprintf(dead.url, sizeof(dead.url), "http://%s", dead.host);
	request_to(&dead, "GET", "/");
	http_call_init(&c, &rq);
	is_int(http_perform(&c), LLM_ERR_UNAVAILABLE,
		"connection refused: unavailable");
	buf_setf(&want, "cannot connect to '%s': ", dead.host);
	ok(starts_with(c.err.ptr, want.ptr), "'cannot connect to HOST: ...'");
	if (!starts_with(c.err.ptr, want.ptr))
		printf("#   got: '%s'\n", c.err.ptr);
	is_int(c.resp.status, 0, "no status");
	http_call_release(&c);
	buf_release(&want);
}

static void
test_concurrent(void)
{
	static const struct reply slow = { .delay_ms = 300,
		.parts = { "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone" } };
	struct reply replies[4] = { slow, slow, slow, slow };
	struct http_call c[4], *cp[4];
	struct server srv;
	double t;
	int i, all_ok = 1, all_slow = 1;

	server_start(&srv, replies, 4);
	request_to(&srv, "GET", "/slow");
	for (i = 0; i < 4; i++) {
		http_call_init(&c[i], &rq);
		cp[i] = &c[i];
	}
	t = now();
	http_run(cp, 4);
	t = now() - t;
	for (i = 0; i < 4; i++) {
		if (c[i].st != LLM_OK || c[i].resp.status != 200 ||
			strcmp(c[i].resp.body.ptr, "done") != 0)
			all_ok = 0;
		if (c[i].elapsed < 0.29)
			all_slow = 0;
		http_call_release(&c[i]);
	}
	ok(all_ok, "http_run: four calls, four answers");
	ok(all_slow, "each took at least 300 ms");
	ok(t < 0.9, "together well under 4 x 300 ms: they ran concurrently");
	if (t >= 0.9)
		printf("#   took %.3f s\n", t);
	server_stop(&srv);
}

/* Send signo to this process after ms milliseconds. */
static pid_t
signal_later(int signo, int ms)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		nap_ms(ms);
		kill(getppid(), signo);
		_exit(0);
	}
	return pid;
}

/* SIGTERM, in a child of its own (the first signal caught is kept for
 * the rest of the process): its exit status says what http_run did. */
static void
test_sigterm(void)
{
	static const struct reply hang = { .hang = 1 };
	struct server srv;
	struct http_call c;
	pid_t pid, killer;
	int status = -1;

	server_start(&srv, &hang, 1);
	request_to(&srv, "GET", "/hang");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sig_install();
		killer = signal_later(SIGTERM, 200);
		http_call_init(&c, &rq);
		http_perform(&c);
		waitpid(killer, NULL, 0);
		status = c.st == LLM_ERR_TERMINATED &&
				strcmp(c.err.ptr, "terminated") == 0 &&
				c.elapsed < 1.5 ?
			0 :
			1;
		_exit(status);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"SIGTERM during http_run: LLM_ERR_TERMINATED, promptly");
	server_stop(&srv);
}

static void
test_sigint(void)
{
	static const struct reply replies[] = {
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast" } },
		{ .hang = 1 },
	};
	struct server srv;
	struct http_call c[2], *cp[2] = { &c[0], &c[1] };
	pid_t killer;
	double t;

	server_start(&srv, replies, 2);
	request_to(&srv, "GET", "/x");
	http_call_init(&c[0], &rq);
	http_call_init(&c[1], &rq);
	sig_install();
	killer = signal_later(SIGINT, 250);
	t = now();
	http_run(cp, 2);
	t = now() - t;
	waitpid(killer, NULL, 0);
	is_int(sig_caught(), SIGINT, "SIGINT was caught");
	is_int(c[0].st, LLM_OK, "the call that had finished is LLM_OK");
	is_str(c[0].resp.body.ptr, "fast", "with its body");
	is_int(c[1].st, LLM_ERR_INTERRUPTED,
		"the unfinished call ends with LLM_ERR_INTERRUPTED");
	is_str(c[1].err.ptr, "interrupted", "its message");
	ok(t >= 0.2 && t < 1.0, "promptly after the signal");
	if (t >= 1.0)
		printf("#   took %.3f s\n", t);
	http_call_release(&c[0]);
	http_call_release(&c[1]);

	/* Once a signal is caught, http_run does not start anything. */
	http_call_init(&c[0], &rq);
	t = now();
	is_int(http_perform(&c[0]), LLM_ERR_INTERRUPTED,
		"after a signal, a new call is interrupted");
	ok(now() - t < 1.5, "without waiting for it");
	http_call_release(&c[0]);
	server_stop(&srv);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	snprintf(log_path, sizeof(log_path), "%s/requests", dir);

	test_request_dump();
	test_escape();
	test_transfers();
	test_parse_duration();
	test_parse_rfc3339();
	test_response_wait();
	test_rate_limit_headers();
	test_refused();
	test_concurrent();
	test_sigterm();
	test_sigint(); /* last: the caught signal stays caught */

	http_request_release(&rq);
	unlink(log_path);
	rmdir(dir);
	return tap_done();
}
