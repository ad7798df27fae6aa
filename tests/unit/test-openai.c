/* test-openai.c - unit tests of lib/openai (through lib/provider): the
 * request body, streamed and whole replies, errors. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"

static char s_p[] = "p", s_openai[] = "openai", s_url[] = "http://h/v1",
	    s_url2[] = "https://api.openai.com/v1/", s_ref[] = "p/m",
	    s_m[] = "m";
static struct provider prov = { .name = s_p, .type = s_openai,
	.base_url = s_url };
static struct model mod = { .ref = s_ref, .id = s_m };

struct sink {
	struct buf text;
	int calls;
};

static int
on_text(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->text, p, n);
	s->calls++;
	return 0;
}

/* Feed body in slices of size step (0 = whole); returns the end status. */
static enum llm_status
stream(const char *body, size_t step, struct llm_result *res,
	struct sink *s, struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find("openai");
	struct provider_stream ps;
	size_t n = strlen(body), i;
	enum llm_status st = LLM_OK;

	provider_stream_init(&ps, ops, res, on_text, s);
	for (i = 0; i < n && st == LLM_OK; i += step ? step : n)
		st = ops->feed(&ps, body + i,
			step && i + step < n ? step : n - i);
	if (st == LLM_OK)
		st = ops->end(&ps);
	buf_reset(err);
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	return st;
}

static const char chunks[] =
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":"
	"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
	"\"finish_reason\":null}],\"usage\":null}\n\n"
	": keep-alive\n\n"
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	"\"H\xC3\xA9\"},\"finish_reason\":null}],\"usage\":null}\r\n\r\n"
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	"\"llo \\ud83d\\ude00\"},\"finish_reason\":null}],\"usage\":null}\n\n"
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},"
	"\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
	"data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":14,"
	"\"completion_tokens\":3,\"total_tokens\":17,"
	"\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
	"data: [DONE]\n\n";

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("openai");
	const char *stops[] = { "###" };
	const char *opts[] = { "seed=7", "user=bob" };
	struct llm_message msgs[] = { { "user", "Say hi" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "sk-1", .system = "Be terse.", .messages = msgs,
		.nmessages = 1, .has_temperature = true, .temperature = 0.2,
		.max_tokens = 64, .stop = stops, .nstop = 1, .options = opts,
		.noptions = 2, .stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct llm_result res;
	struct sink s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT, dump = BUF_INIT;
	const char *body;
	size_t step;
	int same;

	ok(ops != NULL, "the openai type exists");
	ok(provider_ops_find("nope") == NULL, "unknown types are NULL");
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build");
	is_str(h.url, "http://h/v1/chat/completions", "URL");
	is_str(h.body.ptr,
		"{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":"
		"\"Be terse.\"},{\"role\":\"user\",\"content\":\"Say hi\"}],"
		"\"temperature\":0.2,\"max_tokens\":64,\"stop\":[\"###\"],"
		"\"stream\":true,\"stream_options\":{\"include_usage\":true},"
		"\"seed\":7,\"user\":\"bob\"}",
		"body: system first, max_tokens for compatibles, options last");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "Authorization: Bearer ***\n") != NULL,
		"dump redacts the key");
	ok(strstr(dump.ptr, "sk-1") == NULL, "dump never shows the key");
	http_request_release(&h);

	prov.base_url = s_url2;
	rq.stream = false;
	rq.api_key = "";
	ops->build(&rq, &h, &err);
	ok(strstr(h.body.ptr, "\"max_completion_tokens\":64") != NULL,
		"OpenAI itself gets max_completion_tokens");
	ok(strstr(h.body.ptr, "stream") == NULL, "no stream fields");
	is_str(h.url, "https://api.openai.com/v1/chat/completions",
		"no doubled slash");
	is_int((long long)h.nheaders, 2, "no Authorization without a key");
	http_request_release(&h);

	llm_result_init(&res);
	is_int(stream(chunks, 0, &res, &s, &err), LLM_OK, "stream decodes");
	is_str(res.text.ptr, "H\xC3\xA9llo \xF0\x9F\x98\x80",
		"text with UTF-8 and a surrogate pair");
	is_str(s.text.ptr, res.text.ptr, "the callback saw the same text");
	is_int(res.usage.input, 14, "prompt tokens");
	is_int(res.usage.output, 3, "completion tokens");
	is_int(res.usage.cached, 4, "cached tokens");
	is_str(res.finish, "length", "normalized finish");
	is_str(res.finish_raw, "length", "raw finish");
	is_str(res.id, "c1", "id");
	ok(res.done, "[DONE] seen");
	llm_result_release(&res);

	same = 1;
	for (step = 1; step < 40; step++) {
		buf_reset(&s.text);
		llm_result_init(&res);
		if (stream(chunks, step, &res, &s, &err) != LLM_OK ||
			strcmp(res.text.ptr, "H\xC3\xA9llo \xF0\x9F\x98\x80") ||
			res.usage.output != 3)
			same = 0;
		llm_result_release(&res);
	}
	ok(same, "the same result for slices of 1..39 bytes");

	llm_result_init(&res);
	is_int(stream("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		      "\"ab\"}}]}\n\ndata: {\"error\":{\"message\":\"boom\","
		      "\"type\":\"server_error\"}}\n\n",
		       0, &res, &s, &err),
		LLM_ERR_UNAVAILABLE, "an error event mid-stream");
	is_str(err.ptr, "error in the stream: boom", "its message");
	is_str(res.text.ptr, "ab", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
		      "data: {\"choices\":[{\"delta\":{\"con\n\n",
		       0, &res, &s, &err),
		LLM_ERR_DATA, "malformed JSON in the stream: 65");
	is_str(res.text.ptr, "x", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
		       0, &res, &s, &err),
		LLM_ERR_DATA, "a stream without end marker is truncated");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"id\":\"\",\"object\":\"\",\"created\":0,"
		      "\"model\":\"\",\"choices\":[],\"prompt_filter_results\":"
		      "[]}\n\ndata: {\"choices\":[{\"index\":0,"
		      "\"content_filter_results\":{}}]}\n\n"
		      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		      "\"ok\"},\"finish_reason\":\"stop\"}],\"x_groq\":{\"usage\":"
		      "{\"prompt_tokens\":2,\"completion_tokens\":1}}}\n\n"
		      "data: [DONE]\n\n",
		       0, &res, &s, &err),
		LLM_OK, "Azure filter chunks and Groq's x_groq");
	is_str(res.text.ptr, "ok", "text");
	is_int(res.usage.input, 2, "x_groq usage");
	ok(res.id == NULL, "an empty id is no id");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"id\":\"x1\",\"choices\":[{\"index\":0,\"message\":"
	       "{\"role\":\"assistant\",\"content\":\"Hi\"},"
	       "\"finish_reason\":\"content_filter\"}],\"usage\":"
	       "{\"prompt_tokens\":3,\"completion_tokens\":1}}";
	is_int(ops->parse(body, strlen(body), &res, &err),
		LLM_OK, "whole reply");
	is_str(res.text.ptr, "Hi", "its text");
	is_str(res.finish, "content_filter", "its finish");
	is_int(res.usage.input, 3, "its usage");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("{\"choices\":[{\"message\":{\"content\":null}}]}",
		       42, &res, &err),
		LLM_OK, "null content is an empty answer");
	is_str(res.text.ptr, "", "empty");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("<html>oops</html>", 17, &res, &err), LLM_ERR_DATA,
		"a reply that is not JSON: 65");
	llm_result_release(&res);

	buf_reset(&err);
	body = "{\"error\":{\"message\":\"Incorrect API key\",\"type\":"
	       "\"invalid_request_error\"}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "Incorrect API key", "error document message");
	buf_reset(&err);
	body = "{\"error\":{\"code\":402,\"message\":\"no credits\"}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "no credits", "OpenRouter's numeric code");
	buf_reset(&err);
	ops->error("\n<html>502 Bad Gateway</html>\nmore", 34, &err);
	is_str(err.ptr, "<html>502 Bad Gateway</html>",
		"a non-JSON body gives its first line");

	is_str(provider_finish_normalize("end_turn"), "stop", "end_turn");
	is_str(provider_finish_normalize("MAX_TOKENS"), "length", "MAX_TOKENS");
	is_str(provider_finish_normalize("SAFETY"), "content_filter", "SAFETY");
	is_str(provider_finish_normalize("tool_use"), "tool_calls", "tool_use");
	is_str(provider_finish_normalize("weird"), "error", "unknown");
	is_int(provider_http_status(401), LLM_ERR_AUTH, "401 -> 77");
	is_int(provider_http_status(429), LLM_ERR_TEMP, "429 -> 75");
	is_int(provider_http_status(529), LLM_ERR_UNAVAILABLE, "529 -> 69");
	ok(provider_http_retryable(529) && provider_http_retryable(408) &&
			!provider_http_retryable(400) &&
			!provider_http_retryable(401),
		"retryable statuses");

	buf_release(&s.text);
	buf_release(&err);
	buf_release(&dump);
	return tap_done();
}
