/* test-ollama.c - unit tests of lib/ollama (through lib/provider): the
 * request, NDJSON streams and whole replies, errors, model listing. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"
#define PTEST_TYPE "ollama"
#include "ptest.h"

static char s_p[] = "ollama", s_type[] = "ollama",
	    s_url[] = "http://localhost:11434/", s_ref[] = "ollama/llama3.2",
	    s_m[] = "llama3.2";
static struct provider prov = { .name = s_p, .type = s_type,
	.base_url = s_url };
static struct model mod = { .ref = s_ref, .id = s_m };

static const char lines[] =
	"{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:00Z\","
	"\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":"
	"\"hmm\"},\"done\":false}\n"
	"{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\","
	"\"content\":\"H\xC3\xA9\"},\"done\":false}\r\n"
	"\n"
	"{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\","
	"\"content\":\"llo \\ud83d\\ude00\"},\"done\":false}\n"
	"{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\","
	"\"content\":\"\"},\"done\":true,\"done_reason\":\"length\","
	"\"total_duration\":512000000,\"prompt_eval_count\":18,"
	"\"eval_count\":3}\n";

#define TEXT "H\xC3\xA9llo \xF0\x9F\x98\x80"

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("ollama");
	const char *stops[] = { "###" };
	const char *opts[] = { "format=json", "seed=7",
		"options={\"num_ctx\":8192,\"temperature\":1}", "think=false" };
	struct llm_message msgs[] = { { "user", "Say hi" },
		{ "assistant", "Hi" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "", .system = "Be terse.", .messages = msgs,
		.nmessages = 2, .has_temperature = true, .temperature = 0.3,
		.has_top_p = true, .top_p = 0.9, .max_tokens = 64,
		.stop = stops, .nstop = 1, .options = opts, .noptions = 4,
		.stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct llm_result res;
	struct sink s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT, dump = BUF_INIT, ids = BUF_INIT;
	const char *body;
	size_t n, k;
	bool secret = false;
	int same;

	ok(ops != NULL, "the ollama type exists");
	ok(ops->list_build && ops->list_parse && !ops->local &&
			!ops->error_status,
		"listing; statuses from the HTTP code");

	/* the request */
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build");
	is_str(h.method, "POST", "POST");
	is_str(h.url, "http://localhost:11434/api/chat", "URL");
	is_str(h.body.ptr,
		"{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\","
		"\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":"
		"\"Say hi\"},{\"role\":\"assistant\",\"content\":\"Hi\"}],"
		"\"stream\":true,\"options\":{\"top_p\":0.9,\"num_predict\":64,"
		"\"stop\":[\"###\"],\"seed\":7,\"num_ctx\":8192,"
		"\"temperature\":1},\"format\":\"json\",\"think\":false}",
		"body: system message, options, model options inside, "
		"the rest on top");
	ok(header(&h, "Authorization", NULL) == NULL,
		"no key: no Authorization header");
	is_str(header(&h, "Accept", NULL), "application/x-ndjson", "accept");
	http_request_release(&h);

	rq.api_key = "ol-key";
	rq.stream = false;
	rq.system = NULL;
	rq.has_temperature = rq.has_top_p = false;
	rq.max_tokens = 0;
	rq.nstop = rq.noptions = 0;
	rq.nmessages = 1;
	ops->build(&rq, &h, &err);
	is_str(h.body.ptr,
		"{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Say hi\"}],\"stream\":false}",
		"not streaming: stream false said, no options");
	is_str(header(&h, "Authorization", &secret), "Bearer ol-key",
		"a key: Bearer");
	ok(secret, "marked secret");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "Authorization: Bearer ***\n") != NULL,
		"dump redacts");
	ok(strstr(dump.ptr, "ol-key") == NULL, "dump never shows the key");
	http_request_release(&h);

	/* streaming */
	llm_result_init(&res);
	is_int(stream(lines, 0, 0, &res, &s, &err), LLM_OK, "NDJSON decodes");
	is_str(res.text.ptr, TEXT, "content, no thinking");
	is_str(s.text.ptr, TEXT, "the callback saw the same text");
	is_int(res.usage.input, 18, "prompt_eval_count");
	is_int(res.usage.output, 3, "eval_count");
	ok(res.usage.cached < 0, "no cache count");
	is_str(res.finish, "length", "length");
	is_str(res.finish_raw, "length", "raw");
	ok(res.done, "done:true seen");
	llm_result_release(&res);

	same = 1;
	n = strlen(lines);
	for (k = 0; k <= n; k++) {
		llm_result_init(&res);
		if (stream(lines, k, 0, &res, &s, &err) != LLM_OK ||
			strcmp(res.text.ptr, TEXT) || res.usage.output != 3 ||
			!res.done)
			same = 0;
		llm_result_release(&res);
	}
	ok(same, "the same result split at every byte boundary");
	llm_result_init(&res);
	ok(stream(lines, 0, 1, &res, &s, &err) == LLM_OK &&
			strcmp(res.text.ptr, TEXT) == 0,
		"the same result fed one byte at a time");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("{\"message\":{\"content\":\"a\"},\"done\":false}\n"
		      "{\"message\":{\"content\":\"\"},\"done\":true,"
		      "\"done_reason\":\"stop\",\"eval_count\":1}",
		       0, 0, &res, &s, &err),
		LLM_OK, "a last line without its newline");
	is_str(res.text.ptr, "a", "its text");
	ok(res.done, "done");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("{\"message\":{\"content\":\"ab\"},\"done\":false}\n"
		      "{\"error\":\"an error was encountered while running "
		      "the model: unexpected EOF\"}\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_UNAVAILABLE, "an error line mid-stream: 69");
	is_str(err.ptr,
		"error in the stream: an error was encountered while running "
		"the model: unexpected EOF",
		"its message");
	is_str(res.text.ptr, "ab", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("{\"message\":{\"content\":\"x\"},\"done\":false}\n"
		      "{\"message\":{\"content\":\n"
		      "{\"message\":{\"content\":\"y\"},\"done\":true}\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_DATA, "a malformed line: 65");
	ok(strncmp(err.ptr, "malformed line in the stream", 28) == 0,
		"says so");
	is_str(res.text.ptr, "x", "text before it is kept");
	llm_result_release(&res);

	llm_result_init(&res);
	is_int(stream("{\"message\":{\"content\":\"part\"},\"done\":false}\n",
		       0, 0, &res, &s, &err),
		LLM_ERR_DATA, "no done line: truncated, 65");
	is_str(err.ptr, "the stream ended without \"done\":true", "says so");
	is_str(res.text.ptr, "part", "what arrived is kept");
	llm_result_release(&res);

	/* whole replies */
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\","
	       "\"content\":\"Hello\"},\"done\":true,\"done_reason\":\"stop\","
	       "\"prompt_eval_count\":9,\"eval_count\":1}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"whole reply");
	is_str(res.text.ptr, "Hello", "its text");
	is_str(res.finish, "stop", "its finish");
	is_int(res.usage.input, 9, "input");
	is_int(res.usage.output, 1, "output");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse(lines, strlen(lines), &res, &err), LLM_OK,
		"a server that streamed anyway");
	is_str(res.text.ptr, TEXT, "its text");
	llm_result_release(&res);

	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("<html>oops</html>", 17, &res, &err), LLM_ERR_DATA,
		"a reply that is not JSON: 65");
	is_str(err.ptr, "malformed reply: '<html>oops</html>'", "says so");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("{\"model\":\"x\"}", 13, &res, &err), LLM_ERR_DATA,
		"an object without done: 65");
	is_str(err.ptr, "malformed reply: no \"done\":true", "says so");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	is_int(ops->parse("{\"error\":\"boom\"}", 16, &res, &err),
		LLM_ERR_UNAVAILABLE, "an error with 200: 69");
	is_str(err.ptr, "error in the reply: boom", "its text");
	llm_result_release(&res);

	/* error documents */
	buf_reset(&err);
	body = "{\"error\":\"model 'llama9' not found\"}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "model 'llama9' not found; run 'ollama pull llama9'",
		"a missing model says how to pull it");
	buf_reset(&err);
	body = "{\"error\":\"model \\\"llama3:latest\\\" not found, try "
	       "pulling it first\"}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr,
		"model \"llama3:latest\" not found, try pulling it first; run "
		"'ollama pull llama3:latest'",
		"the older wording too");
	buf_reset(&err);
	body = "{\"error\":\"server busy, please try again.\"}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "server busy, please try again.", "other errors");
	buf_reset(&err);
	body = "{\"error\":{\"message\":\"unauthorized\",\"type\":\"x\"}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "unauthorized", "an OpenAI-style error object");
	buf_reset(&err);
	ops->error("404 page not found", 18, &err);
	is_str(err.ptr, "404 page not found", "a text body");

	/* model listing */
	is_int(ops->list_build(&prov, "", &h, &err), LLM_OK, "list_build");
	is_str(h.method, "GET", "GET");
	is_str(h.url, "http://localhost:11434/api/tags", "its URL");
	ok(header(&h, "Authorization", NULL) == NULL, "no key, no header");
	http_request_release(&h);
	ops->list_build(&prov, "ol-key", &h, &err);
	is_str(header(&h, "Authorization", NULL), "Bearer ol-key",
		"with a key, Bearer");
	http_request_release(&h);
	body = "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":"
	       "\"llama3.2:latest\",\"size\":1},{\"name\":\"qwen2.5:7b\"},"
	       "{\"model\":\"nameless\"}]}";
	buf_reset(&err);
	is_int(ops->list_parse(body, strlen(body), &ids, &err), LLM_OK,
		"list_parse");
	is_str(ids.ptr, "llama3.2:latest\nqwen2.5:7b\n", "one name per line");
	buf_reset(&ids);
	is_int(ops->list_parse("nope", 4, &ids, &err), LLM_ERR_DATA,
		"not JSON: 65");

	buf_release(&s.text);
	buf_release(&err);
	buf_release(&dump);
	buf_release(&ids);
	return tap_done();
}
