/* test-anthropic.c - unit tests of lib/anthropic (through lib/provider):
 * the request, streamed and whole replies, errors, model listing. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"
#define PTEST_TYPE "anthropic"
#include "ptest.h"

static char s_p[] = "p", s_type[] = "anthropic", s_url[] = "http://h",
	    s_url_v1[] = "http://h/v1/", s_ver[] = "2099-01-01",
	    s_ref[] = "p/claude", s_m[] = "claude";
static struct provider prov = { .name = s_p, .type = s_type,
	.base_url = s_url };
static struct model mod = { .ref = s_ref, .id = s_m };

static const char events[] =
	"event: message_start\n"
	"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
	"\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\","
	"\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
	"\"usage\":{\"input_tokens\":11,\"cache_creation_input_tokens\":2,"
	"\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\n"
	"event: content_block_start\n"
	"data: {\"type\":\"content_block_start\",\"index\":0,"
	"\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	"{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n"
	"event: content_block_stop\n"
	"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	"event: content_block_start\r\n"
	"data: {\"type\":\"content_block_start\",\"index\":1,"
	"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n"
	"event: ping\n"
	"data: {\"type\":\"ping\"}\n\n"
	": a comment\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
	"{\"type\":\"text_delta\",\"text\":\"H\xC3\xA9\"}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
	"{\"type\":\"text_delta\",\"text\":\"llo \\ud83d\\ude00\"}}\n\n"
	"event: some_future_event\n"
	"data: {\"type\":\"some_future_event\",\"x\":1}\n\n"
	"event: content_block_stop\n"
	"data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
	"event: message_delta\n"
	"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	"\"max_tokens\",\"stop_sequence\":null},\"usage\":"
	"{\"output_tokens\":2}}\n\n"
	"event: message_delta\n"
	"data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":"
	"{\"output_tokens\":5}}\n\n"
	"event: message_stop\n"
	"data: {\"type\":\"message_stop\"}\n\n";

#define TEXT "H\xC3\xA9llo \xF0\x9F\x98\x80"

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("anthropic");
	const char *stops[] = { "###", "END" };
	const char *opts[] = { "top_k=5", "metadata={\"user_id\":\"u\"}" };
	struct llm_message msgs[] = { { "user", "Say hi" },
		{ "assistant", "Hi" }, { "user", "Again" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "sk-ant-1", .system = "Be terse.", .messages = msgs,
		.nmessages = 3, .has_temperature = true, .temperature = 0.3,
		.has_top_p = true, .top_p = 0.9, .max_tokens = 64,
		.stop = stops, .nstop = 2, .options = opts, .noptions = 2,
		.stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct llm_result res;
	struct sink s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT, dump = BUF_INIT, ids = BUF_INIT;
	const char *body, *v;
	size_t n, k;
	bool secret = false;
	int same;

	ok(ops != NULL, "the anthropic type exists");
	ok(ops->build && ops->parse && ops->feed && ops->end && ops->error &&
			ops->list_build && ops->list_parse && !ops->local,
		"it has every operation but local");

	/* the request */
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build");
	is_str(h.method, "POST", "POST");
	is_str(h.url, "http://h/v1/messages", "URL");
	is_str(h.body.ptr,
		"{\"model\":\"claude\",\"max_tokens\":64,\"system\":\"Be terse.\","
		"\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"},"
		"{\"role\":\"assistant\",\"content\":\"Hi\"},{\"role\":\"user\","
		"\"content\":\"Again\"}],\"temperature\":0.3,\"top_p\":0.9,"
		"\"stop_sequences\":[\"###\",\"END\"],\"stream\":true,"
		"\"top_k\":5,\"metadata\":{\"user_id\":\"u\"}}",
		"body: system top-level, stop_sequences, options last");
	v = header(&h, "x-api-key", &secret);
	is_str(v, "sk-ant-1", "the key in x-api-key");
	ok(secret, "marked secret");
	is_str(header(&h, "anthropic-version", NULL), "2023-06-01",
		"anthropic-version defaults to 2023-06-01");
	is_str(header(&h, "Content-Type", NULL), "application/json",
		"content type");
	is_str(header(&h, "Accept", NULL), "text/event-stream", "accept");
	ok(header(&h, "Authorization", NULL) == NULL, "no Authorization");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "x-api-key: ***\n") != NULL, "dump redacts");
	ok(strstr(dump.ptr, "sk-ant-1") == NULL, "dump never shows the key");
	http_request_release(&h);

	/* max_tokens is always sent */
	rq.max_tokens = 0;
	rq.stream = false;
	rq.system = NULL;
	rq.has_temperature = rq.has_top_p = false;
	rq.nstop = rq.noptions = 0;
	rq.nmessages = 1;
	rq.api_key = "";
	mod.max_output_tokens = 8192;
	prov.anthropic_version = s_ver;
	prov.base_url = s_url_v1;
	ops->build(&rq, &h, &err);
	is_str(h.body.ptr,
		"{\"model\":\"claude\",\"max_tokens\":8192,\"messages\":"
		"[{\"role\":\"user\",\"content\":\"Say hi\"}]}",
		"no max_tokens given: the model's max_output_tokens");
	is_str(h.url, "http://h/v1/messages", "a base_url ending in /v1");
	is_str(header(&h, "anthropic-version", NULL), s_ver,
		"anthropic_version is configurable");
	ok(header(&h, "x-api-key", NULL) == NULL, "no key, no x-api-key");
	is_str(header(&h, "Accept", NULL), "application/json",
		"accept when not streaming");
	http_request_release(&h);
	mod.max_output_tokens = 0;
	ops->build(&rq, &h, &err);
	ok(strstr(h.body.ptr, "\"max_tokens\":4096,") != NULL,
		"neither: 4096");
	http_request_release(&h);
	prov.base_url = s_url;
	prov.anthropic_version = NULL;

	/* streaming */
	llm_result_init(&res);
	is_int(stream(events, 0, 0, &res, &s, &err), LLM_OK, "stream decodes");
	is_str(res.text.ptr, TEXT, "text deltas only, no thinking");
	is_str(s.text.ptr, TEXT, "the callback saw the same text");
	is_int(s.calls, 2, "one callback per text delta");
	is_int(res.usage.input, 16, "input = input + both cache counts");
	is_int(res.usage.cached, 3, "cached = cache reads");
	is_int(res.usage.output, 5, "output: the last cumulative count");
	is_str(res.finish, "length", "max_tokens is length");
	is_str(res.finish_raw, "max_tokens", "raw finish kept");
	is_str(res.id, "msg_1", "id from message_start");
	ok(res.done, "message_stop seen");
	llm_result_release(&res);

	same = 1;
	n = strlen(events);
	for (k = 0; k <= n; k++) {
		llm_result_init(&res);
		if (stream(events, k, 0, &res, &s, &err) != LLM_OK ||
			strcmp(res.text.ptr, TEXT) || res.usage.output != 5 ||
			res.usage.input != 16 || !res.done ||
			strcmp(res.finish_raw, "max_tokens"))
			same = 0;
		llm_result_release(&res);
	}
	ok(same, "the same result split at every byte boundary");
	llm_result_init(&res);
	ok(stream(events, 0, 1, &res, &s, &err) == LLM_OK &&
			strcmp(res.text.ptr, TEXT) == 0 && res.usage.output == 5,
		"the same result fed one byte at a time");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("event: content_block_delta\ndata: {\"type\":"
		      "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
		      "\"text_delta\",\"text\":\"ab\"}}\n\nevent: error\n"
		      "data: {\"type\":\"error\",\"error\":{\"type\":"
		      "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_UNAVAILABLE, "an overloaded error event mid-stream: 69");
	is_str(err.ptr, "error in the stream: Overloaded (overloaded_error)",
		"its message");
	is_str(res.text.ptr, "ab", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("event: error\ndata: {\"type\":\"error\",\"error\":"
		      "{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_UNAVAILABLE, "api_error mid-stream: 69");
	llm_result_release(&res);
	llm_result_init(&res);
	is_int(stream("event: error\ndata: {\"type\":\"error\",\"error\":"
		      "{\"type\":\"rate_limit_error\",\"message\":\"slow\"}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_TEMP, "rate_limit_error mid-stream: 75");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("event: content_block_delta\ndata: {\"type\":"
		      "\"content_block_delta\",\"delta\":{\"type\":"
		      "\"text_delta\",\"text\":\"x\"}}\n\n"
		      "event: content_block_delta\ndata: {\"type\":"
		      "\"content_block_delta\",\"delta\":{\"te\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_DATA, "malformed JSON in the stream: 65");
	ok(strncmp(err.ptr, "malformed event", 15) == 0, "says so");
	is_str(res.text.ptr, "x", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	body = "event: message_start\ndata: {\"type\":\"message_start\","
	       "\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n"
	       "event: content_block_delta\ndata: {\"type\":"
	       "\"content_block_delta\",\"delta\":{\"type\":\"text_delta\","
	       "\"text\":\"part\"}}\n\n"
	       "event: message_delta\ndata: {\"type\":\"message_delta\","
	       "\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n";
	is_int(stream(body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"no message_stop: truncated, 65");
	is_str(err.ptr, "the stream ended without message_stop", "says so");
	is_str(res.text.ptr, "part", "what arrived is kept");
	is_int(res.usage.input, 3, "and its usage");
	ok(res.usage.cached < 0, "no cache count: not reported");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"type\":\"content_block_delta\",\"delta\":"
		      "{\"type\":\"text_delta\",\"text\":\"y\"}}\n\n"
		      "data: {\"type\":\"message_stop\"}\n\n",
		       0, 0, &res, &s, &err),
		LLM_OK, "events without event: lines go by their type");
	is_str(res.text.ptr, "y", "their text");
	llm_result_release(&res);

	/* whole replies */
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\","
	       "\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\"},"
	       "{\"type\":\"text\",\"text\":\"Hello\"},{\"type\":\"tool_use\","
	       "\"id\":\"x\",\"name\":\"f\",\"input\":{}},{\"type\":\"text\","
	       "\"text\":\", world\"}],\"stop_reason\":\"tool_use\","
	       "\"usage\":{\"input_tokens\":7,\"output_tokens\":4,"
	       "\"cache_read_input_tokens\":0}}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"whole reply");
	is_str(res.text.ptr, "Hello, world", "text blocks joined");
	is_str(res.finish, "tool_calls", "tool_use is tool_calls");
	is_int(res.usage.input, 7, "input");
	is_int(res.usage.output, 4, "output");
	is_int(res.usage.cached, 0, "cached");
	is_str(res.id, "msg_2", "id");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"type\":\"message\",\"content\":[],\"stop_reason\":"
	       "\"refusal\"}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"an empty content");
	is_str(res.text.ptr, "", "no text");
	is_str(res.finish, "content_filter", "refusal is content_filter");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("<html>oops</html>", 17, &res, &err), LLM_ERR_DATA,
		"a reply that is not JSON: 65");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("{\"type\":\"message\"}", 18, &res, &err),
		LLM_ERR_DATA, "a reply without content: 65");
	is_str(err.ptr, "malformed reply: no content[]", "says so");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	       "\"message\":\"Overloaded\"}}";
	is_int(ops->parse(body, strlen(body), &res, &err),
		LLM_ERR_UNAVAILABLE, "an error document with 200: 69");
	llm_result_release(&res);

	/* error documents */
	buf_reset(&err);
	body = "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
	       "\"message\":\"invalid x-api-key\"},\"request_id\":\"req_1\"}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "invalid x-api-key (authentication_error)",
		"error message with its type");
	buf_reset(&err);
	ops->error("<html>\r\n<h1>413 Request Entity Too Large</h1>", 45,
		&err);
	is_str(err.ptr, "<html>", "a proxy's page gives its first line");
	ok(ops->error_status == NULL, "statuses from the HTTP code");

	/* finish reasons */
	is_str(provider_finish_normalize("end_turn"), "stop", "end_turn");
	is_str(provider_finish_normalize("stop_sequence"), "stop",
		"stop_sequence");
	is_str(provider_finish_normalize("max_tokens"), "length",
		"max_tokens");
	is_str(provider_finish_normalize("model_context_window_exceeded"),
		"length", "model_context_window_exceeded");
	is_str(provider_finish_normalize("refusal"), "content_filter",
		"refusal");

	/* model listing */
	prov.anthropic_version = NULL;
	is_int(ops->list_build(&prov, "sk-ant-1", &h, &err), LLM_OK,
		"list_build");
	is_str(h.method, "GET", "GET");
	is_str(h.url, "http://h/v1/models?limit=1000", "its URL");
	is_str(header(&h, "x-api-key", &secret), "sk-ant-1", "its key");
	ok(secret, "secret");
	is_str(header(&h, "anthropic-version", NULL), "2023-06-01",
		"its version");
	is_int((long long)h.body.len, 0, "no body");
	http_request_release(&h);
	body = "{\"data\":[{\"type\":\"model\",\"id\":\"claude-a\","
	       "\"display_name\":\"A\"},{\"type\":\"model\"},{\"id\":"
	       "\"claude-b\"}],\"has_more\":false}";
	is_int(ops->list_parse(body, strlen(body), &ids, &err), LLM_OK,
		"list_parse");
	is_str(ids.ptr, "claude-a\nclaude-b\n", "one id per line");
	buf_reset(&ids);
	buf_reset(&err);
	is_int(ops->list_parse("{\"models\":[]}", 13, &ids, &err),
		LLM_ERR_DATA, "a list without data: 65");
	is_str(ids.ptr, "", "no ids");

	buf_release(&s.text);
	buf_release(&err);
	buf_release(&dump);
	buf_release(&ids);
	return tap_done();
}
