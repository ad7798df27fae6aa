/* test-call.c - unit tests of lib/call: one request to one model against
 * a tiny server that the test forks on 127.0.0.1 and that speaks the
 * OpenAI protocol from canned bytes: streaming, usage and its estimate,
 * cost, retries, dry runs, log rows. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "call.h"
#include "tap.h"

#define SERVER_DIR "/tmp/test-call-XXXXXX"
#include "server.h"

/* ==== the provider and model, by hand ==== */

static char s_p[] = "p", s_openai[] = "openai", s_nosuch[] = "nosuch",
	    s_var[] = "TEST_KEY", s_key[] = "sk-test-123", s_ref[] = "p/m",
	    s_m[] = "m", s_alias[] = "cheap", s_free_ref[] = "p/free",
	    s_free[] = "free";
static char base_url[96], key_cmd[160];
static struct provider prov = { .name = s_p, .type = s_openai,
	.base_url = base_url, .api_key = s_key, .key_var = s_var,
	.auth = true, .enabled = true, .retries = -1 };
/* USD 1 per million input tokens, 2 per million output, 0.5 cached. */
static struct model priced = { .ref = s_ref, .alias = s_alias,
	.provider = s_p, .id = s_m, .has_cost = true, .input_cost = 1,
	.output_cost = 2, .cached_input_cost = 0.5 };
static struct model unpriced = { .ref = s_free_ref, .provider = s_p,
	.id = s_free, .cached_input_cost = -1 };

static const struct llm_message msgs[] = { { "user", "Say hi" } };

struct sink {
	struct buf text;
	int calls;
	int fail_with;
};

static struct sink sink = { BUF_INIT, 0, 0 };

static int
on_text(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->text, p, n);
	s->calls++;
	return s->fail_with;
}

/* A streaming call of the priced model to the server at port. */
static void
setup(struct call *c, const struct server *s)
{
	snprintf(base_url, sizeof(base_url), "%s/v1", s->url);
	call_init(c);
	c->provider = &prov;
	c->model = &priced;
	c->rq.messages = msgs;
	c->rq.nmessages = 1;
	c->rq.stream = true;
	c->retries = 2;
	c->timeout = 5;
	c->on_text = on_text;
	c->ud = &sink;
	buf_reset(&sink.text);
	sink.calls = 0;
	sink.fail_with = 0;
}

static int
near(double got, double want)
{
	return fabs(got - want) < 1e-12;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

#define SSE_HEAD                                                       \
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"        \
	"x-request-id: req-9\r\nConnection: close\r\n\r\n"
#define CHUNK(text, finish)                                             \
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\","     \
	"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" text "\"}," \
	"\"finish_reason\":" finish "}]}\n\n"
#define USAGE(in, out, cached)                                          \
	"data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":" \
	#in ",\"completion_tokens\":" #out ",\"total_tokens\":0,"       \
	"\"prompt_tokens_details\":{\"cached_tokens\":" #cached "}}}\n\n"
#define DONE "data: [DONE]\n\n"
#define ERROR_REPLY(status, headers, json)                              \
	"HTTP/1.1 " status "\r\nContent-Type: application/json\r\n"      \
	headers "Connection: close\r\n\r\n" json

/* ==== tests ==== */

static void
test_stream(void)
{
	static const struct reply replies[] = {
		{ .parts = { SSE_HEAD, CHUNK("Hel", "null"),
			  CHUNK("lo", "\"stop\""), USAGE(10, 5, 4) DONE },
			.pause_ms = 150 },
	};
	struct server srv;
	struct call c;
	struct store_request row;
	struct buf seen = BUF_INIT;

	server_start(&srv, replies, 1);
	setup(&c, &srv);
	c.ref = "cheap";
	is_int(call_run(&c), LLM_OK, "a streamed answer");
	is_int(c.st, LLM_OK, "st is set");
	is_str(sink.text.ptr, "Hello", "text delivered to on_text");
	is_int(sink.calls, 2, "as it arrived, in two pieces");
	is_str(c.res.text.ptr, "Hello", "and kept in res.text");
	ok(c.started, "started");
	is_int(c.attempts, 1, "one attempt");
	is_int(c.http_status, 200, "HTTP status");
	is_str(c.request_id, "req-9", "x-request-id");
	is_str(c.res.id, "c1", "the response id");
	is_str(c.res.finish, "stop", "finish reason");
	is_int(c.input_tokens, 10, "input tokens from the provider");
	is_int(c.output_tokens, 5, "output tokens");
	is_int(c.cached_tokens, 4, "cached tokens");
	ok(!c.tokens_estimated, "not estimated");
	ok(near(c.cost, (6 * 1 + 4 * 0.5 + 5 * 2) / 1e6),
		"cost from the model's prices, cached input at its price");
	if (!near(c.cost, 18e-6))
		printf("#   cost %.12g\n", c.cost);
	/* Parts at 0, 150, 300 and 450 ms: the first text at 150 ms, the
	 * end 300 ms later. */
	ok(c.ttft_ms >= 140, "ttft: the first text came after ~150 ms");
	ok(c.latency_ms >= 440, "latency: the last bytes after ~450 ms");
	ok(c.latency_ms - c.ttft_ms >= 250,
		"ttft is the first text, not the last");
	if (c.ttft_ms < 140 || c.latency_ms - c.ttft_ms < 250)
		printf("#   ttft %ld, latency %ld\n", c.ttft_ms, c.latency_ms);
	is_str(c.err.ptr, "", "no message");

	is_int(server_requests(&seen), 1, "one request");
	ok(strstr(seen.ptr, "POST /v1/chat/completions HTTP/1.1\r\n") != NULL,
		"to the provider's URL");
	ok(strstr(seen.ptr, "\r\nAuthorization: Bearer sk-test-123\r\n") !=
			NULL,
		"with the provider's key");
	ok(strstr(seen.ptr, "\r\n\r\n{\"model\":\"m\",\"messages\":[{\"role\":"
			    "\"user\",\"content\":\"Say hi\"}],\"stream\":true,"
			    "\"stream_options\":{\"include_usage\":true}}\n") !=
			NULL,
		"and the request body");

	call_row(&c, "llm-test", "Say hi", &row);
	is_str(row.tool, "llm-test", "row: tool");
	is_str(row.model, "cheap", "row: model is the reference given");
	is_str(row.provider, "p", "row: provider");
	is_str(row.provider_model, "m", "row: provider_model");
	is_int(row.step, -1, "row: no step");
	ok(row.group_id == NULL && row.session == NULL,
		"row: no group, no session");
	ok(row.system == NULL, "row: no system");
	is_str(row.prompt, "Say hi", "row: prompt");
	is_str(row.response, "Hello", "row: response");
	is_str(row.status, "ok", "row: status ok");
	ok(row.error == NULL, "row: error NULL");
	is_int(row.http_status, 200, "row: http_status");
	is_int(row.input_tokens, 10, "row: input_tokens");
	is_int(row.output_tokens, 5, "row: output_tokens");
	is_int(row.cached_tokens, 4, "row: cached_tokens");
	ok(!row.tokens_estimated, "row: not estimated");
	is_int(row.latency_ms, c.latency_ms, "row: latency");
	is_int(row.ttft_ms, c.ttft_ms, "row: ttft");
	ok(near(row.cost_usd, c.cost), "row: cost");
	is_str(row.finish_reason, "stop", "row: finish_reason");
	is_str(row.finish_reason_raw, "stop", "row: finish_reason_raw");
	ok(row.temperature == -1, "row: no temperature is -1 (NULL)");
	is_int(row.max_tokens, 0, "row: no max_tokens");
	is_int(row.attempts, 1, "row: attempts");
	is_str(row.response_id, "c1", "row: response_id");
	call_release(&c);
	server_stop(&srv);
	buf_release(&seen);
}

static void
test_estimate(void)
{
	static const struct reply replies[] = {
		{ .parts = { SSE_HEAD CHUNK("Hello there", "\"stop\"") DONE } },
	};
	struct server srv;
	struct call c;
	struct store_request row;

	server_start(&srv, replies, 1);
	setup(&c, &srv);
	c.rq.system = "Be brief.";
	is_int(call_run(&c), LLM_OK, "an answer without usage");
	ok(c.tokens_estimated, "tokens_estimated");
	/* (9 + 6 + 4 + 3) / 4 and (11 + 3) / 4 */
	is_int(c.input_tokens, 5, "input estimated from system and messages");
	is_int(c.output_tokens, 3, "output estimated from the text");
	is_int(c.cached_tokens, -1, "cached unknown");
	ok(near(c.cost, (5 * 1 + 3 * 2) / 1e6), "cost of the estimate");
	call_row(&c, "llm-test", "Say hi", &row);
	ok(row.tokens_estimated, "row: tokens_estimated");
	is_str(row.model, "p/m", "row: model is the model's ref without one");
	is_str(row.system, "Be brief.", "row: system");
	is_int(row.cached_tokens, -1, "row: cached NULL");
	call_release(&c);
	server_stop(&srv);
}

static void
test_whole(void)
{
	static const struct reply replies[] = {
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Type: application/json"
			     "\r\nContent-Length: 193\r\n\r\n"
			     "{\"id\":\"r1\",\"object\":\"chat.completion\","
			     "\"choices\":[{\"index\":0,\"message\":{\"role\":"
			     "\"assistant\",\"content\":\"Whole answer\"},"
			     "\"finish_reason\":\"length\"}],\"usage\":"
			     "{\"prompt_tokens\":3,\"completion_tokens\":2}}" } },
	};
	struct server srv;
	struct call c;
	struct buf seen = BUF_INIT;

	server_start(&srv, replies, 1);
	setup(&c, &srv);
	c.model = &unpriced;
	c.rq.stream = false;
	is_int(call_run(&c), LLM_OK, "a whole (unstreamed) answer");
	is_str(sink.text.ptr, "Whole answer", "given to on_text");
	is_int(sink.calls, 1, "at once");
	is_str(c.res.finish, "length", "finish reason");
	is_int(c.input_tokens, 3, "input tokens");
	is_int(c.output_tokens, 2, "output tokens");
	ok(c.cost == -1, "no prices: cost < 0");
	ok(c.ttft_ms >= 0 && c.ttft_ms <= c.latency_ms, "ttft set");
	server_requests(&seen);
	ok(strstr(seen.ptr, "\"stream\"") == NULL, "no stream in the body");
	ok(strstr(seen.ptr, "\"model\":\"free\"") != NULL, "the model's id");
	call_release(&c);
	server_stop(&srv);
	buf_release(&seen);
}

static void
test_retries(void)
{
	static const struct reply replies[] = {
		/* retried, then success */
		{ .parts = { ERROR_REPLY("503 Service Unavailable",
			"Retry-After: 0\r\n",
			"{\"error\":{\"message\":\"overloaded\"}}") } },
		{ .parts = { SSE_HEAD CHUNK("ok", "\"stop\"") DONE } },
		/* retries exhausted; a wait longer than any backoff */
		{ .parts = { ERROR_REPLY("503 Service Unavailable",
			"retry-after-ms: 600\r\n",
			"{\"error\":{\"message\":\"overloaded\"}}") } },
		{ .parts = { ERROR_REPLY("529 Overloaded", "retry-after-ms: 0\r\n",
			"{\"error\":{\"message\":\"overloaded\"}}") } },
		/* 400: never retried */
		{ .parts = { ERROR_REPLY("400 Bad Request", "",
			"{\"error\":{\"message\":\"bad param\","
			"\"type\":\"invalid_request_error\"}}") } },
		{ .parts = { SSE_HEAD CHUNK("no", "\"stop\"") DONE } },
		/* text, then an error in the stream: not retried */
		{ .parts = { SSE_HEAD CHUNK("partial", "null"),
			  "data: {\"error\":{\"message\":\"boom\",\"type\":"
			  "\"server_error\"}}\n\n" },
			.pause_ms = 50 },
		{ .parts = { SSE_HEAD CHUNK("no", "\"stop\"") DONE } },
		/* 429 asking for more than 120 s: not retried */
		{ .parts = { ERROR_REPLY("429 Too Many Requests",
			"Retry-After: 600\r\n",
			"{\"error\":{\"message\":\"slow down\"}}") } },
		/* 503 with x-should-retry: false */
		{ .parts = { ERROR_REPLY("503 Service Unavailable",
			"x-should-retry: false\r\n", "down") } },
		/* 401 */
		{ .parts = { ERROR_REPLY("401 Unauthorized", "",
			"{\"error\":{\"message\":\"Incorrect API key\"}}") } },
		/* 400 with x-should-retry: true, then success */
		{ .parts = { ERROR_REPLY("400 Bad Request",
			"x-should-retry: true\r\nRetry-After: 0\r\n", "{}") } },
		{ .parts = { SSE_HEAD CHUNK("again", "\"stop\"") DONE } },
	};
	struct server srv;
	struct call c;
	struct store_request row;
	struct buf seen = BUF_INIT;
	double t;

	server_start(&srv, replies, sizeof(replies) / sizeof(replies[0]));

	setup(&c, &srv);
	is_int(call_run(&c), LLM_OK, "503, then success");
	is_int(c.attempts, 2, "after 2 attempts");
	is_str(sink.text.ptr, "ok", "the text of the second");
	is_int(c.http_status, 200, "the last HTTP status");
	is_str(c.err.ptr, "", "no message left over");
	is_int(server_requests(&seen), 2, "the server got two requests");
	call_release(&c);

	setup(&c, &srv);
	c.retries = 1;
	t = now();
	is_int(call_run(&c), LLM_ERR_UNAVAILABLE, "503, 529: retries exhausted");
	t = now() - t;
	ok(t >= 0.59, "retry-after-ms: 600 was waited for (backoff alone is "
		      "at most 0.5 s)");
	is_int(c.attempts, 2, "1 + 1 retry");
	is_str(c.err.ptr, "p: HTTP 529: overloaded (after 2 attempts)",
		"the last error, with the attempts");
	is_int(c.http_status, 529, "the last status");
	is_str(c.res.finish, "error", "finish reason error");
	is_int(c.input_tokens, -1, "a failure before any answer: no tokens");
	ok(c.cost == -1, "and no cost");
	ok(!c.tokens_estimated, "and no estimate");
	call_row(&c, "llm-test", "Say hi", &row);
	is_str(row.status, "error", "row: status error");
	is_str(row.error, "p: HTTP 529: overloaded (after 2 attempts)",
		"row: the message");
	is_int(row.http_status, 529, "row: http_status");
	is_int(row.attempts, 2, "row: attempts");
	is_str(row.response, "", "row: empty response");
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_DATA, "400 is bad data");
	is_int(c.attempts, 1, "and is not retried");
	is_str(c.err.ptr, "p: HTTP 400: bad param", "its message");
	is_int(server_requests(&seen), 5, "no second request");
	call_release(&c);
	/* The server's spare reply for a wrong retry is used up here. */
	setup(&c, &srv);
	call_run(&c);
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_UNAVAILABLE,
		"an error in the stream after text");
	is_int(c.attempts, 1, "is not retried once text was delivered");
	ok(c.started, "started");
	is_str(sink.text.ptr, "partial", "the text was delivered");
	is_str(c.err.ptr, "p: error in the stream: boom", "its message");
	ok(c.tokens_estimated && c.output_tokens == 2,
		"what arrived is estimated");
	is_int(server_requests(&seen), 7, "no second request");
	call_release(&c);
	setup(&c, &srv);
	call_run(&c);
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_TEMP, "429 with Retry-After: 600");
	is_int(c.attempts, 1, "is not retried (over 120 s)");
	is_str(c.err.ptr, "p: HTTP 429: slow down", "its message");
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_UNAVAILABLE, "503 with x-should-retry: "
						  "false");
	is_int(c.attempts, 1, "is not retried");
	is_str(c.err.ptr, "p: HTTP 503: down", "a text body's first line");
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_AUTH, "401");
	is_int(c.attempts, 1, "is not retried");
	is_str(c.err.ptr, "p: HTTP 401: Incorrect API key; check TEST_KEY",
		"names the variable to check");
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_OK, "400 with x-should-retry: true");
	is_int(c.attempts, 2, "is retried");
	call_release(&c);

	server_stop(&srv);
	buf_release(&seen);
}

static void
test_failures(void)
{
	static const struct reply replies[] = {
		{ .parts = { SSE_HEAD CHUNK("a", "null") CHUNK("b", "null")
				CHUNK("c", "\"stop\"") DONE } },
		{ .hang = 1 },
		{ .parts = { "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n",
			  CHUNK("cut", "null") },
			.pause_ms = 50 },
	};
	struct server srv, dead;
	struct call c;
	struct store_request row;
	struct buf want = BUF_INIT;
	int fd;

	server_start(&srv, replies, 3);

	setup(&c, &srv);
	sink.fail_with = LLM_ERR_PIPE;
	is_int(call_run(&c), LLM_ERR_PIPE, "on_text's status ends the call");
	is_int(sink.calls, 1, "after the first piece");
	is_str(c.err.ptr, "", "a closed reader needs no message");
	is_int(c.attempts, 1, "no retry");
	call_row(&c, "llm-test", "Say hi", &row);
	is_str(row.status, "ok", "row: a closed pipe is ok");
	ok(row.error == NULL, "row: no error");
	call_release(&c);

	setup(&c, &srv);
	c.timeout = 0.3;
	is_int(call_run(&c), LLM_ERR_TEMP, "a timeout");
	is_str(c.err.ptr, "p: timed out after 0.3 s", "its message");
	call_release(&c);

	setup(&c, &srv);
	is_int(call_run(&c), LLM_ERR_DATA, "a stream cut short");
	is_str(sink.text.ptr, "cut", "what arrived was delivered");
	is_int(c.attempts, 1, "no retry after text");
	buf_setf(&want, "reply from '%s' cut short: ", srv.host);
	ok(starts_with(c.err.ptr, want.ptr), "its message");
	call_release(&c);
	server_stop(&srv);

	fd = listen_any(&dead.port);
	close(fd);
	snprintf(dead.url, sizeof(dead.url), "http://127.0.0.1:%d", dead.port);
	setup(&c, &dead);
	c.retries = 1;
	is_int(call_run(&c), LLM_ERR_UNAVAILABLE, "connection refused");
	is_int(c.attempts, 2, "is retried");
	buf_setf(&want, "cannot connect to '127.0.0.1:%d': ", dead.port);
	ok(starts_with(c.err.ptr, want.ptr) &&
			ends_with(c.err.ptr, " (after 2 attempts)"),
		"its message, with the attempts");
	if (!starts_with(c.err.ptr, want.ptr))
		printf("#   got: '%s'\n", c.err.ptr);
	is_int(c.http_status, 0, "no HTTP status");
	call_row(&c, "llm-test", "Say hi", &row);
	ok(row.http_status == 0 && row.input_tokens == -1 &&
			row.cost_usd < 0,
		"row: no status, tokens or cost (NULL)");
	ok(row.ttft_ms < 0, "row: no ttft (NULL)");
	call_release(&c);

	/* No key: nothing is sent. */
	setup(&c, &dead);
	prov.api_key = NULL;
	is_int(call_run(&c), LLM_ERR_AUTH, "a missing key");
	is_str(c.err.ptr, "no API key for provider 'p': set TEST_KEY",
		"names the variable");
	is_int(c.attempts, 0, "no attempt");
	ok(c.latency_ms >= 0, "latency is still set");
	prov.api_key = s_key;
	call_release(&c);

	prov.type = s_nosuch;
	setup(&c, &dead);
	is_int(call_run(&c), LLM_ERR_CONFIG, "a type without ops");
	is_str(c.err.ptr, "unknown provider type 'nosuch' of 'p'",
		"its message");
	call_release(&c);
	prov.type = s_openai;
	buf_release(&want);
}

static void
test_dry_run(void)
{
	struct server none = { .url = "http://example.invalid:1" };
	struct buf out = BUF_INIT, want = BUF_INIT, ran = BUF_INIT;
	struct call c;
	struct stat sb;

	buf_setf(&ran, "%s/ran", dir);
	snprintf(key_cmd, sizeof(key_cmd), "touch '%s'; echo sk-from-cmd",
		ran.ptr);
	prov.api_key = NULL;
	prov.api_key_cmd = key_cmd;
	priced.has_temperature = true;
	priced.temperature = 0.5;
	priced.max_tokens = 100;

	setup(&c, &none);
	is_int(call_dry_run(&c, &out), LLM_OK, "call_dry_run");
	is_str(out.ptr,
		"POST http://example.invalid:1/v1/chat/completions\n"
		"Content-Type: application/json\n"
		"Accept: text/event-stream\n"
		"Authorization: Bearer ***\n"
		"\n"
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
		"\"Say hi\"}],\"temperature\":0.5,\"max_tokens\":100,"
		"\"stream\":true,\"stream_options\":{\"include_usage\":true}}\n",
		"the request, key redacted, the model's defaults applied");
	ok(stat(ran.ptr, &sb) != 0, "api_key_cmd was not run");
	ok(strstr(out.ptr, "sk-") == NULL, "no key in the output");
	call_release(&c);

	buf_reset(&out);
	setup(&c, &none);
	c.rq.has_temperature = true;
	c.rq.temperature = 0;
	c.rq.max_tokens = 7;
	c.rq.stream = false;
	prov.auth = false;
	prov.api_key_cmd = NULL;
	call_dry_run(&c, &out);
	is_str(out.ptr,
		"POST http://example.invalid:1/v1/chat/completions\n"
		"Content-Type: application/json\n"
		"Accept: application/json\n"
		"\n"
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
		"\"Say hi\"}],\"temperature\":0,\"max_tokens\":7}\n",
		"the caller's values over the model's; no key, no header");
	call_release(&c);

	prov.type = s_nosuch;
	buf_reset(&out);
	setup(&c, &none);
	is_int(call_dry_run(&c, &out), LLM_ERR_CONFIG,
		"dry run of a type without ops");
	is_str(out.ptr, "", "prints nothing");
	call_release(&c);

	prov.type = s_openai;
	prov.auth = true;
	prov.api_key = s_key;
	priced.has_temperature = false;
	priced.max_tokens = 0;
	unlink(ran.ptr);
	buf_release(&out);
	buf_release(&want);
	buf_release(&ran);
}

/* Several calls at once, and the time limits of one attempt. */
static void
test_many(void)
{
	static const struct reply replies[] = {
		{ .delay_ms = 500, .parts = { SSE_HEAD CHUNK("a", "null")
				DONE } },
		{ .delay_ms = 500, .parts = { SSE_HEAD CHUNK("b", "null")
				DONE } },
		{ .delay_ms = 500, .parts = { SSE_HEAD CHUNK("c", "null")
				DONE } },
		{ .hang = 1 },
		{ .parts = { SSE_HEAD CHUNK("x", "null"), CHUNK("y", "null")
				DONE },
			.pause_ms = 700 },
		{ .hang = 1 },
		{ .parts = { SSE_HEAD CHUNK("late", "null") DONE } },
	};
	struct server srv;
	struct call calls[3], *cs[3];
	struct call c;
	double t0;
	size_t i;

	server_start(&srv, replies, 7);
	for (i = 0; i < 3; i++) {
		setup(&calls[i], &srv);
		calls[i].on_text = NULL;
		cs[i] = &calls[i];
	}
	t0 = now();
	call_run_many(cs, 3);
	ok(now() - t0 < 1.4, "three 500 ms answers come in one go");
	for (i = 0; i < 3; i++) {
		is_int(calls[i].st, LLM_OK, "each is ok");
		is_int((long)calls[i].res.text.len, 1, "with its answer");
		call_release(&calls[i]);
	}

	setup(&c, &srv);
	c.retries = 0;
	c.first_byte_timeout = 0.2;
	is_int(call_run(&c), LLM_ERR_TEMP, "no first byte in time");
	is_str(c.err.ptr, "p: no answer within 0.2 s", "its message");
	call_release(&c);

	setup(&c, &srv);
	c.idle_timeout = 0.3;
	is_int(call_run(&c), LLM_ERR_TEMP, "a stalled stream");
	is_str(c.err.ptr, "p: the answer stalled for 0.3 s", "its message");
	is_str(sink.text.ptr, "x", "what came before the stall was delivered");
	is_int(c.attempts, 1, "and not retried");
	call_release(&c);

	setup(&c, &srv);
	c.retries = 1;
	c.first_byte_timeout = 0.2;
	is_int(call_run(&c), LLM_OK, "a silent attempt is retried");
	is_str(sink.text.ptr, "late", "the second one answers");
	is_int(c.attempts, 2, "two attempts");
	call_release(&c);
	server_stop(&srv);
}

/* ==== shared limits, budgets and health (guard.h) ==== */

static char db_path[96];

/* A fresh database for the guard, and a provider policy without limits
 * or budgets. */
static void
limits_setup(const char *name)
{
	struct policy none = { .daily_budget_usd = -1,
		.monthly_budget_usd = -1, .cooldown = -1, .cache = -1,
		.cache_ttl = -1 };

	snprintf(db_path, sizeof(db_path), "%s/%s.db", dir, name);
	prov.policy = none;
}

static void
limits_call(struct call *c, const struct server *s)
{
	setup(c, s);
	c->database = db_path;
	c->retries = 0;
}

static void
test_limits(void)
{
	static const struct reply replies[] = {
		/* rpm */
		{ .parts = { SSE_HEAD CHUNK("one", "\"stop\"") DONE } },
		/* max_parallel */
		{ .delay_ms = 500,
			.parts = { SSE_HEAD CHUNK("a", "\"stop\"") DONE } },
		{ .delay_ms = 500,
			.parts = { SSE_HEAD CHUNK("b", "\"stop\"") DONE } },
		/* each attempt is a request */
		{ .parts = { ERROR_REPLY("503 Service Unavailable",
			"Retry-After: 0\r\n", "{\"error\":{\"message\":\"busy\"}}") } },
		{ .parts = { SSE_HEAD CHUNK("two", "\"stop\"") DONE } },
		/* budgets */
		{ .parts = { SSE_HEAD CHUNK("c1", "\"stop\"") USAGE(10, 5, 0)
				DONE } },
		{ .parts = { SSE_HEAD CHUNK("c2", "\"stop\"") USAGE(10, 5, 0)
				DONE } },
		/* health */
		{ .parts = { ERROR_REPLY("500 Internal Server Error", "",
			"{\"error\":{\"message\":\"oops\"}}") } },
		{ .parts = { ERROR_REPLY("429 Too Many Requests",
			"Retry-After: 90\r\n",
			"{\"error\":{\"message\":\"slow down\"}}") } },
		{ .parts = { SSE_HEAD CHUNK("fine", "\"stop\"") DONE } },
		{ .parts = { ERROR_REPLY("401 Unauthorized", "",
			"{\"error\":{\"message\":\"bad key\"}}") } },
		{ .parts = { SSE_HEAD CHUNK("under rpm", "\"stop\"") DONE } },
		/* a database that fails, limits only */
		{ .parts = { SSE_HEAD CHUNK("anyway", "\"stop\"") DONE } },
	};
	struct policy defaults = { .daily_budget_usd = -1,
		.monthly_budget_usd = -1, .cooldown = 30, .cache = -1,
		.cache_ttl = -1 };
	struct server srv;
	struct call c, calls[2], *cs[2];
	struct guard *g = NULL;
	struct buf seen = BUF_INIT, err = BUF_INIT;
	double t, left;
	size_t i;

	server_start(&srv, replies, sizeof(replies) / sizeof(replies[0]));

	limits_setup("rpm");
	prov.policy.rpm = 1;
	limits_call(&c, &srv);
	is_int(call_run(&c), LLM_OK, "rpm 1: the first goes");
	call_release(&c);
	limits_call(&c, &srv);
	c.no_wait = true;
	is_int(call_run(&c), LLM_ERR_TEMP, "the second, --no-wait: 75");
	ok(starts_with(c.err.ptr, "p: rate limit of 1 request per minute "
				  "reached; retry in 6") &&
			ends_with(c.err.ptr, " s or drop --no-wait"),
		"the message names the limit");
	is_int(c.attempts, 0, "nothing was sent");
	ok(call_may_fall_back(&c), "a group may go on to the next model");
	is_int(server_requests(&seen), 1, "the server got one request");
	call_release(&c);

	limits_setup("parallel");
	prov.policy.max_parallel = 1;
	for (i = 0; i < 2; i++) {
		limits_call(&calls[i], &srv);
		calls[i].on_text = NULL;
		cs[i] = &calls[i];
	}
	t = now();
	call_run_many(cs, 2);
	t = now() - t;
	ok(calls[0].st == LLM_OK && calls[1].st == LLM_OK,
		"max_parallel 1: both answer");
	ok(t >= 1, "one after the other (500 ms each)");
	ok(calls[0].latency_ms < 900 && calls[1].latency_ms < 900,
		"the wait is not latency");
	call_release(&calls[0]);
	call_release(&calls[1]);

	limits_setup("attempts");
	prov.policy.rpm = 2;
	limits_call(&c, &srv);
	c.retries = 1;
	is_int(call_run(&c), LLM_OK, "rpm 2: 503, then an answer");
	is_int(c.attempts, 2, "in two attempts");
	call_release(&c);
	limits_call(&c, &srv);
	c.no_wait = true;
	is_int(call_run(&c), LLM_ERR_TEMP, "each attempt was a request");
	call_release(&c);

	/* Worst case of "Say hi" with max_tokens 100: 3 tokens in at $1 a
	 * million, 100 out at $2: $0.000203. */
	limits_setup("budget");
	defaults.daily_budget_usd = 0.0002;
	limits_call(&c, &srv);
	c.defaults = &defaults;
	c.rq.max_tokens = 100;
	is_int(call_run(&c), LLM_ERR_TEMP, "over the daily budget: 75");
	is_str(c.err.ptr, "daily budget of $0.0002 reached: $0.00 spent or "
			  "reserved today (UTC), and this request may cost up "
			  "to $0.000203; raise daily_budget_usd in [defaults]",
		"the message names the budget");
	is_int(c.attempts, 0, "nothing was sent");
	call_release(&c);
	defaults.daily_budget_usd = -1;
	prov.policy.daily_budget_usd = 0.00023;
	for (i = 0; i < 2; i++) {
		limits_call(&c, &srv);
		c.defaults = &defaults;
		c.rq.max_tokens = 100;
		is_int(call_run(&c), LLM_OK, i ? "and a second one, since "
						 "the first settled to $0.00002" :
						 "within the provider's budget");
		call_release(&c);
	}
	limits_call(&c, &srv);
	c.defaults = &defaults;
	c.rq.max_tokens = 100;
	is_int(call_run(&c), LLM_ERR_TEMP, "not a third");
	is_str(c.err.ptr, "daily budget of $0.00023 for provider 'p' reached: "
			  "$0.00004 spent or reserved today (UTC), and this "
			  "request may cost up to $0.000203; raise "
			  "daily_budget_usd in [provider.p]",
		"what was spent is the real cost");
	call_release(&c);

	limits_setup("health");
	is_int(server_requests(&seen), 7, "7 requests so far");
	limits_call(&c, &srv);
	c.defaults = &defaults;
	is_int(call_run(&c), LLM_ERR_UNAVAILABLE, "a 500");
	call_release(&c);
	is_int(guard_open(&g, db_path, &err), LLM_OK, "open the state");
	guard_cooldown(g, "p", &left, &err);
	ok(left > 29 && left <= 30, "cools the provider down for 30 s");
	limits_call(&c, &srv);
	c.defaults = &defaults;
	prov.policy.cooldown = 5;
	is_int(call_run(&c), LLM_ERR_TEMP, "a 429 asking for 90 s");
	call_release(&c);
	guard_cooldown(g, "p", &left, &err);
	ok(left > 89 && left <= 90, "the longer of cooldown and Retry-After");
	limits_call(&c, &srv);
	is_int(call_run(&c), LLM_OK, "a success");
	call_release(&c);
	guard_cooldown(g, "p", &left, &err);
	ok(left == 0, "ends the cooldown");
	limits_call(&c, &srv);
	is_int(call_run(&c), LLM_ERR_AUTH, "a refused key");
	call_release(&c);
	guard_cooldown(g, "p", &left, &err);
	ok(left == 0, "is no reason to cool down");
	prov.policy.rpm = 1;
	guard_health_fail(g, "other", 0, -1, NULL, &err);
	limits_call(&c, &srv);
	is_int(call_run(&c), LLM_OK, "an rpm of 1: one goes");
	call_release(&c);
	limits_call(&c, &srv);
	c.no_wait = true;
	is_int(call_run(&c), LLM_ERR_TEMP, "the next is refused");
	call_release(&c);
	guard_cooldown(g, "p", &left, &err);
	ok(left == 0, "which is not the provider's failure");

	/* A database that cannot be opened. */
	snprintf(db_path, sizeof(db_path), "/dev/null/x.db");
	limits_call(&c, &srv);
	is_int(call_run(&c), LLM_OK, "limits that cannot be enforced: a "
				     "warning, and the request goes");
	is_str(sink.text.ptr, "anyway", "its answer");
	call_release(&c);
	limits_call(&c, &srv);
	c.defaults = &defaults;
	prov.policy.rpm = 0;
	prov.policy.daily_budget_usd = 5;
	is_int(call_run(&c), LLM_ERR_IO, "a budget that cannot be checked: 74");
	is_str(c.err.ptr, "cannot check the budget: cannot open log "
			  "'/dev/null/x.db': '/dev/null' is not a "
			  "directory",
		"the message says why");
	call_release(&c);
	is_int(server_requests(&seen), 13, "13 requests in all");

	guard_close_all();
	memset(&prov.policy, 0, sizeof(prov.policy));
	server_stop(&srv);
	buf_release(&seen);
	buf_release(&err);
}

/* call_row on outcomes set by hand. */
static void
test_row(void)
{
	static const struct {
		enum llm_status st;
		const char *status;
	} map[] = {
		{ LLM_OK, "ok" },
		{ LLM_ERR_PIPE, "ok" },
		{ LLM_ERR_INTERRUPTED, "interrupted" },
		{ LLM_ERR_TERMINATED, "interrupted" },
		{ LLM_ERR_TEMP, "error" },
		{ LLM_ERR_UNAVAILABLE, "error" },
		{ LLM_ERR_AUTH, "error" },
		{ LLM_ERR_DATA, "error" },
		{ LLM_ERR_CONFIG, "error" },
		{ LLM_ERR_IO, "error" },
	};
	struct store_request row;
	struct call c;
	char name[64];
	size_t i;

	call_init(&c);
	c.provider = &prov;
	c.model = &priced;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		c.st = map[i].st;
		call_row(&c, "t", "p", &row);
		snprintf(name, sizeof(name), "row: status %d is %s",
			(int)map[i].st, map[i].status);
		is_str(row.status, map[i].status, name);
	}

	c.st = LLM_ERR_INTERRUPTED;
	buf_setf(&c.err, "interrupted");
	call_row(&c, "t", "p", &row);
	is_str(row.error, "interrupted", "row: an interruption's message");
	c.st = LLM_OK;
	call_row(&c, "t", "p", &row);
	ok(row.error == NULL, "row: no error when ok, whatever err holds");
	c.st = LLM_ERR_TEMP;
	buf_reset(&c.err);
	call_row(&c, "t", "p", &row);
	ok(row.error == NULL, "row: an empty message is NULL");

	c.rq.system = "";
	call_row(&c, "t", "p", &row);
	ok(row.system == NULL, "row: an empty system is NULL");
	c.rq.has_temperature = true;
	c.rq.temperature = 0;
	c.rq.max_tokens = 64;
	call_row(&c, "t", "p", &row);
	ok(row.temperature == 0, "row: temperature 0 is kept");
	is_int(row.max_tokens, 64, "row: max_tokens");
	is_int(row.attempts, 0, "row: attempts as counted");
	is_int(row.latency_ms, -1, "row: latency -1 until run (NULL)");
	is_int(row.input_tokens, -1, "row: tokens -1 until run (NULL)");
	ok(row.cost_usd < 0, "row: cost < 0 until run (NULL)");
	ok(row.finish_reason == NULL && row.finish_reason_raw == NULL &&
			row.response_id == NULL,
		"row: no finish reason or id (NULL)");
	is_str(row.model, "p/m", "row: the model's ref without c.ref");
	call_release(&c);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	snprintf(log_path, sizeof(log_path), "%s/requests", dir);
	signal(SIGPIPE, SIG_IGN);

	test_stream();
	test_estimate();
	test_whole();
	test_retries();
	test_failures();
	test_many();
	test_limits();
	test_dry_run();
	test_row();

	buf_release(&sink.text);
	unlink(log_path);
	{
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
