/* test-gemini.c - unit tests of lib/gemini (through lib/provider): the
 * request, streamed and whole replies, errors, model listing. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"
#define PTEST_TYPE "gemini"
#include "ptest.h"

static char s_p[] = "g", s_type[] = "gemini", s_url[] = "http://h/v1beta/",
	    s_ref[] = "g/gemini-2.5-flash", s_m[] = "gemini-2.5-flash",
	    s_odd[] = "echo+split", s_full[] = "models/gemini-x";
static struct provider prov = { .name = s_p, .type = s_type,
	.base_url = s_url };
static struct model mod = { .ref = s_ref, .id = s_m };

/* Intermediate chunks carry partial usage; thoughts are not text. */
static const char chunks[] =
	"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
	"[{\"text\":\"planning\",\"thought\":true},{\"text\":\"H\xC3\xA9\"}]},"
	"\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":6,"
	"\"totalTokenCount\":6},\"modelVersion\":\"gemini-2.5-flash\","
	"\"responseId\":\"r1\"}\r\n\r\n"
	"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
	"[{\"text\":\"llo \\ud83d\\ude00\"}]},\"finishReason\":\"MAX_TOKENS\","
	"\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":6,"
	"\"candidatesTokenCount\":2,\"thoughtsTokenCount\":4,"
	"\"cachedContentTokenCount\":1,\"totalTokenCount\":12},"
	"\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n";

#define TEXT "H\xC3\xA9llo \xF0\x9F\x98\x80"

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("gemini");
	const char *stops[] = { "###" };
	const char *opts[] = { "seed=42", "safetySettings=[]",
		"thinkingConfig={\"thinkingBudget\":0}" };
	struct llm_message msgs[] = { { "user", "Say hi" },
		{ "assistant", "Hi" }, { "user", "Again" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "AIza-1", .system = "Be terse.", .messages = msgs,
		.nmessages = 3, .has_temperature = true, .temperature = 0.3,
		.has_top_p = true, .top_p = 0.9, .max_tokens = 64,
		.stop = stops, .nstop = 1, .options = opts, .noptions = 3,
		.stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct llm_result res;
	struct sink s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT, dump = BUF_INIT, ids = BUF_INIT;
	const char *body;
	size_t n, k;
	bool secret = false;
	int same;

	ok(ops != NULL, "the gemini type exists");
	ok(ops->error_status && ops->list_build && ops->list_parse &&
			!ops->local,
		"error_status and listing, no local");

	/* the request */
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build");
	is_str(h.method, "POST", "POST");
	is_str(h.url,
		"http://h/v1beta/models/gemini-2.5-flash:"
		"streamGenerateContent?alt=sse",
		"streaming URL with alt=sse");
	is_str(h.body.ptr,
		"{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
		"\"Say hi\"}]},{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},"
		"{\"role\":\"user\",\"parts\":[{\"text\":\"Again\"}]}],"
		"\"systemInstruction\":{\"parts\":[{\"text\":\"Be terse.\"}]},"
		"\"generationConfig\":{\"temperature\":0.3,\"topP\":0.9,"
		"\"maxOutputTokens\":64,\"stopSequences\":[\"###\"],\"seed\":42,"
		"\"thinkingConfig\":{\"thinkingBudget\":0}},"
		"\"safetySettings\":[]}",
		"body: roles user/model, systemInstruction, generationConfig");
	is_str(header(&h, "x-goog-api-key", &secret), "AIza-1",
		"the key in x-goog-api-key");
	ok(secret, "marked secret");
	ok(strstr(h.url, "key=") == NULL, "never in the URL");
	is_str(header(&h, "Content-Type", NULL), "application/json",
		"content type");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "x-goog-api-key: ***\n") != NULL, "dump redacts");
	ok(strstr(dump.ptr, "AIza-1") == NULL, "dump never shows the key");
	http_request_release(&h);

	rq.stream = false;
	rq.system = "";
	rq.has_temperature = rq.has_top_p = false;
	rq.max_tokens = 0;
	rq.nstop = rq.noptions = 0;
	rq.nmessages = 1;
	rq.api_key = "";
	ops->build(&rq, &h, &err);
	is_str(h.url, "http://h/v1beta/models/gemini-2.5-flash:generateContent",
		"whole URL");
	is_str(h.body.ptr,
		"{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
		"\"Say hi\"}]}]}",
		"nothing set: contents only");
	ok(header(&h, "x-goog-api-key", NULL) == NULL, "no key, no header");
	http_request_release(&h);
	mod.id = s_odd;
	ops->build(&rq, &h, &err);
	is_str(h.url, "http://h/v1beta/models/echo%2Bsplit:generateContent",
		"the id is escaped");
	http_request_release(&h);
	mod.id = s_full;
	ops->build(&rq, &h, &err);
	is_str(h.url, "http://h/v1beta/models/gemini-x:generateContent",
		"an id with models/ keeps one");
	http_request_release(&h);
	mod.id = s_m;

	/* streaming */
	llm_result_init(&res);
	is_int(stream(chunks, 0, 0, &res, &s, &err), LLM_OK, "stream decodes");
	is_str(res.text.ptr, TEXT, "text parts, thoughts skipped");
	is_str(s.text.ptr, TEXT, "the callback saw the same text");
	is_int(res.usage.input, 6, "promptTokenCount");
	is_int(res.usage.output, 6, "candidates + thoughts");
	is_int(res.usage.cached, 1, "cachedContentTokenCount");
	is_str(res.finish, "length", "MAX_TOKENS is length");
	is_str(res.finish_raw, "MAX_TOKENS", "raw finish kept");
	is_str(res.id, "r1", "responseId");
	ok(res.done, "complete: a finishReason arrived");
	llm_result_release(&res);

	same = 1;
	n = strlen(chunks);
	for (k = 0; k <= n; k++) {
		llm_result_init(&res);
		if (stream(chunks, k, 0, &res, &s, &err) != LLM_OK ||
			strcmp(res.text.ptr, TEXT) || res.usage.output != 6 ||
			strcmp(res.finish_raw, "MAX_TOKENS"))
			same = 0;
		llm_result_release(&res);
	}
	ok(same, "the same result split at every byte boundary");
	llm_result_init(&res);
	ok(stream(chunks, 0, 1, &res, &s, &err) == LLM_OK &&
			strcmp(res.text.ptr, TEXT) == 0,
		"the same result fed one byte at a time");
	llm_result_release(&res);

	llm_result_init(&res);
	body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
	       "\"part\"}]}}],\"usageMetadata\":{\"promptTokenCount\":3}}\n\n";
	is_int(stream(body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"a stream that ends without a finishReason: truncated, 65");
	is_str(err.ptr, "the stream ended without a finishReason", "says so");
	is_str(res.text.ptr, "part", "what arrived is kept");
	ok(!res.done, "not done");
	is_int(res.usage.input, 3, "the input count that came");
	ok(res.usage.output < 0, "no output count: not reported (estimated)");
	llm_result_release(&res);

	llm_result_init(&res);
	body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
	       "\"ab\"}]}}]}\n\ndata: {\"error\":{\"code\":500,\"message\":"
	       "\"An internal error has occurred.\",\"status\":\"INTERNAL\"}}"
	       "\n\n";
	is_int(stream(body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"an error chunk mid-stream: 69");
	is_str(err.ptr,
		"error in the stream: An internal error has occurred. "
		"(INTERNAL)",
		"its message");
	is_str(res.text.ptr, "ab", "text before it is kept");
	llm_result_release(&res);
	llm_result_init(&res);
	is_int(stream("data: {\"error\":{\"code\":429,\"message\":\"quota\","
		      "\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_TEMP, "RESOURCE_EXHAUSTED mid-stream: 75");
	llm_result_release(&res);
	llm_result_init(&res);
	is_int(stream("data: {\"error\":{\"message\":\"x\",\"status\":"
		      "\"RESOURCE_EXHAUSTED\"}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_TEMP, "the status alone says it too");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		      "\"x\"}]}}]}\n\ndata: {\"candidates\":[{\"con\n\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_DATA, "malformed JSON in the stream: 65");
	is_str(res.text.ptr, "x", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("data: {\"promptFeedback\":{\"blockReason\":\"OTHER\"},"
		      "\"usageMetadata\":{\"promptTokenCount\":4,"
		      "\"totalTokenCount\":4}}\n\n",
		       0, 0, &res, &s, &err),
		LLM_OK, "a blocked prompt is a complete answer");
	is_str(res.text.ptr, "", "without text");
	is_str(res.finish, "content_filter", "content_filter");
	is_str(res.finish_raw, "OTHER", "raw: the block reason");
	is_int(res.usage.input, 4, "its input");
	is_int(res.usage.output, 0, "zero counts are left out");
	llm_result_release(&res);

	/* whole replies */
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
	       "[{\"text\":\"Hello\"},{\"text\":\"thinking\",\"thought\":true},"
	       "{\"text\":\", world\"}]},\"finishReason\":\"SAFETY\",\"index\":0}"
	       "],\"usageMetadata\":{\"promptTokenCount\":9,"
	       "\"candidatesTokenCount\":3,\"totalTokenCount\":12},"
	       "\"responseId\":\"r2\"}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"whole reply");
	is_str(res.text.ptr, "Hello, world", "parts joined, thought skipped");
	is_str(res.finish, "content_filter", "SAFETY is content_filter");
	is_int(res.usage.input, 9, "input");
	is_int(res.usage.output, 3, "output");
	ok(res.usage.cached < 0, "no cache count: not reported");
	is_str(res.id, "r2", "id");
	ok(res.done, "done");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"a whole blocked answer");
	is_str(res.finish_raw, "SAFETY", "its reason");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("{\"usageMetadata\":{}}", 20, &res, &err),
		LLM_ERR_DATA, "no candidates, no block: 65");
	is_str(err.ptr, "malformed reply: no candidates", "says so");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("<html>oops</html>", 17, &res, &err), LLM_ERR_DATA,
		"a reply that is not JSON: 65");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"error\":{\"code\":503,\"message\":\"busy\",\"status\":"
	       "\"UNAVAILABLE\"}}";
	is_int(ops->parse(body, strlen(body), &res, &err),
		LLM_ERR_UNAVAILABLE, "an error document with 200");
	is_str(err.ptr, "error in the reply: busy (UNAVAILABLE)", "its text");
	llm_result_release(&res);

	/* error documents and their status */
	body = "{\"error\":{\"code\":400,\"message\":\"API key not valid. "
	       "Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\","
	       "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."
	       "ErrorInfo\",\"reason\":\"API_KEY_INVALID\",\"domain\":"
	       "\"googleapis.com\"}]}}";
	buf_reset(&err);
	ops->error(body, strlen(body), &err);
	is_str(err.ptr,
		"API key not valid. Please pass a valid API key. "
		"(INVALID_ARGUMENT)",
		"message and status");
	is_int(ops->error_status(400, body, strlen(body)), LLM_ERR_AUTH,
		"400 API_KEY_INVALID is a refused key: 77");
	body = "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":"
	       "\"INVALID_ARGUMENT\"}}";
	is_int(ops->error_status(400, body, strlen(body)), LLM_ERR_DATA,
		"another 400: 65");
	is_int(ops->error_status(429, "{}", 2), LLM_ERR_TEMP, "429: 75");
	is_int(ops->error_status(503, "<html>", 6), LLM_ERR_UNAVAILABLE,
		"503 with HTML: 69");
	is_int(ops->error_status(403, "", 0), LLM_ERR_AUTH, "403: 77");
	buf_reset(&err);
	ops->error("Bad Gateway", 11, &err);
	is_str(err.ptr, "Bad Gateway", "a text body");

	/* finish reasons */
	is_str(provider_finish_normalize("STOP"), "stop", "STOP");
	is_str(provider_finish_normalize("RECITATION"), "content_filter",
		"RECITATION");
	is_str(provider_finish_normalize("PROHIBITED_CONTENT"),
		"content_filter", "PROHIBITED_CONTENT");
	is_str(provider_finish_normalize("MALFORMED_FUNCTION_CALL"), "error",
		"MALFORMED_FUNCTION_CALL");

	/* model listing */
	is_int(ops->list_build(&prov, "AIza-1", &h, &err), LLM_OK,
		"list_build");
	is_str(h.method, "GET", "GET");
	is_str(h.url, "http://h/v1beta/models?pageSize=1000", "its URL");
	is_str(header(&h, "x-goog-api-key", &secret), "AIza-1", "its key");
	ok(secret, "secret");
	http_request_release(&h);
	body = "{\"models\":[{\"name\":\"models/gemini-2.5-flash\","
	       "\"supportedGenerationMethods\":[\"generateContent\","
	       "\"countTokens\"]},{\"name\":\"models/text-embedding-004\","
	       "\"supportedGenerationMethods\":[\"embedContent\"]},"
	       "{\"name\":\"models/gemini-x\"},{\"displayName\":\"no name\"}],"
	       "\"nextPageToken\":\"t\"}";
	buf_reset(&err);
	is_int(ops->list_parse(body, strlen(body), &ids, &err), LLM_OK,
		"list_parse");
	is_str(ids.ptr, "gemini-2.5-flash\ngemini-x\n",
		"chat models, without models/");
	buf_reset(&ids);
	is_int(ops->list_parse("{\"data\":[]}", 11, &ids, &err),
		LLM_ERR_DATA, "a list without models: 65");

	buf_release(&s.text);
	buf_release(&err);
	buf_release(&dump);
	buf_release(&ids);
	return tap_done();
}
