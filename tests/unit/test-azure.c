/* test-azure.c - unit tests of lib/azure (through lib/provider): the
 * deployment and v1 URLs, the body, Azure's streams and errors. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"
#include "ptest.h"

static char s_p[] = "az", s_type[] = "azure",
	    s_url[] = "https://res.openai.azure.com/",
	    s_url_openai[] = "https://res.openai.azure.com/openai",
	    s_url_v1[] = "https://res.openai.azure.com/openai/v1/",
	    s_ver[] = "2025-04-01-preview", s_ref[] = "az/gpt4o-prod",
	    s_m[] = "gpt4o-prod", s_odd[] = "my dep/x";
static struct provider prov = { .name = s_p, .type = s_type,
	.base_url = s_url };
static struct model mod = { .ref = s_ref, .id = s_m };

/* Feed body in two pieces split at cut; returns the end status. */
static enum llm_status
stream(const char *body, size_t cut, struct llm_result *res, struct sink *s,
	struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find("azure");
	struct provider_stream ps;
	size_t n = strlen(body);
	enum llm_status st = LLM_OK;

	if (cut > n)
		cut = n;
	provider_stream_init(&ps, ops, res, on_text, s);
	if (cut)
		st = ops->feed(&ps, body, cut);
	if (st == LLM_OK && cut < n)
		st = ops->feed(&ps, body + cut, n - cut);
	if (st == LLM_OK)
		st = ops->end(&ps);
	buf_reset(err);
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	return st;
}

/* PROTOCOLS.md's example: a filter-only first chunk, empty id. */
static const char chunks[] =
	"data: {\"id\":\"\",\"object\":\"\",\"created\":0,\"model\":\"\","
	"\"prompt_filter_results\":[{\"prompt_index\":0,"
	"\"content_filter_results\":{}}],\"choices\":[]}\n\n"
	"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":9,"
	"\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
	"\"assistant\",\"content\":\"Po\xC3\xB1g\"},\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"x\",\"choices\":[{\"index\":0,"
	"\"content_filter_results\":{\"hate\":{\"filtered\":false}},"
	"\"content_filter_offsets\":{}}]}\n\n"
	"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":9,"
	"\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},"
	"\"finish_reason\":\"content_filter\"}]}\n\n"
	"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":9,"
	"\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,"
	"\"completion_tokens\":1,\"total_tokens\":9}}\n\n"
	"data: [DONE]\n\n";

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("azure");
	const char *opts[] = { "seed=1" };
	struct llm_message msgs[] = { { "user", "Ping" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "az-key-1", .messages = msgs, .nmessages = 1,
		.max_tokens = 32, .options = opts, .noptions = 1,
		.stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct llm_result res;
	struct sink s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT, dump = BUF_INIT;
	const char *body;
	size_t n, k;
	bool secret = false;
	int same;

	ok(ops != NULL, "the azure type exists");
	ok(ops->list_build == NULL && ops->list_parse == NULL && !ops->local,
		"no model listing (deployments are an ARM call)");

	/* the deployment form */
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build");
	is_str(h.method, "POST", "POST");
	is_str(h.url,
		"https://res.openai.azure.com/openai/deployments/gpt4o-prod/"
		"chat/completions?api-version=2024-10-21",
		"deployment URL, api-version 2024-10-21 by default");
	is_str(h.body.ptr,
		"{\"messages\":[{\"role\":\"user\",\"content\":\"Ping\"}],"
		"\"max_completion_tokens\":32,\"stream\":true,"
		"\"stream_options\":{\"include_usage\":true},\"seed\":1}",
		"OpenAI's body without model, max_completion_tokens");
	is_str(header(&h, "api-key", &secret), "az-key-1",
		"the key in api-key");
	ok(secret, "marked secret");
	ok(header(&h, "Authorization", NULL) == NULL, "no Authorization");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "api-key: ***\n") != NULL, "dump redacts");
	ok(strstr(dump.ptr, "az-key-1") == NULL, "dump never shows the key");
	http_request_release(&h);

	prov.api_version = s_ver;
	prov.base_url = s_url_openai;
	mod.id = s_odd;
	rq.api_key = "";
	rq.stream = false;
	rq.noptions = 0;
	ops->build(&rq, &h, &err);
	is_str(h.url,
		"https://res.openai.azure.com/openai/deployments/my%20dep%2Fx/"
		"chat/completions?api-version=2025-04-01-preview",
		"api_version configured, deployment escaped, /openai once");
	ok(header(&h, "api-key", NULL) == NULL, "no key, no header");
	http_request_release(&h);
	mod.id = s_m;

	prov.base_url = s_url_v1;
	prov.api_version = NULL;
	ops->build(&rq, &h, &err);
	is_str(h.url, "https://res.openai.azure.com/openai/v1/chat/completions",
		"v1 form: no api-version");
	is_str(h.body.ptr,
		"{\"model\":\"gpt4o-prod\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Ping\"}],\"max_completion_tokens\":32}",
		"v1 form: the deployment is the body's model");
	http_request_release(&h);
	prov.api_version = s_ver;
	ops->build(&rq, &h, &err);
	is_str(h.url,
		"https://res.openai.azure.com/openai/v1/chat/completions"
		"?api-version=2025-04-01-preview",
		"v1 form with a configured api_version");
	http_request_release(&h);
	prov.base_url = s_url;
	prov.api_version = NULL;

	/* streams */
	llm_result_init(&res);
	is_int(stream(chunks, 0, &res, &s, &err), LLM_OK,
		"Azure's stream decodes");
	is_str(res.text.ptr, "Po\xC3\xB1g", "text");
	is_str(s.text.ptr, "Po\xC3\xB1g", "the callback saw it");
	is_int(res.usage.input, 8, "input");
	is_int(res.usage.output, 1, "output");
	is_str(res.finish, "content_filter", "content_filter");
	is_str(res.id, "x", "the empty id of the filter chunk is skipped");
	ok(res.done, "[DONE]");
	llm_result_release(&res);

	same = 1;
	n = strlen(chunks);
	for (k = 0; k <= n; k++) {
		llm_result_init(&res);
		if (stream(chunks, k, &res, &s, &err) != LLM_OK ||
			strcmp(res.text.ptr, "Po\xC3\xB1g") ||
			res.usage.output != 1)
			same = 0;
		llm_result_release(&res);
	}
	ok(same, "the same result split at every byte boundary");

	llm_result_init(&res);
	is_int(stream("data: {\"id\":\"\",\"choices\":[],"
		      "\"prompt_filter_results\":[]}\n\n",
		       0, &res, &s, &err),
		LLM_ERR_DATA, "only a filter chunk: truncated, 65");
	llm_result_release(&res);

	/* whole replies and errors */
	llm_result_init(&res);
	buf_reset(&err);
	body = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":"
	       "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
	       "\"Pong\"},\"finish_reason\":\"stop\",\"content_filter_results\":"
	       "{}}],\"prompt_filter_results\":[{\"prompt_index\":0,"
	       "\"content_filter_results\":{}}],\"usage\":{\"prompt_tokens\":8,"
	       "\"completion_tokens\":1,\"total_tokens\":9}}";
	is_int(ops->parse(body, strlen(body), &res, &err), LLM_OK,
		"whole reply");
	is_str(res.text.ptr, "Pong", "its text");
	is_int(res.usage.output, 1, "its usage");
	llm_result_release(&res);

	buf_reset(&err);
	body = "{\"error\":{\"code\":\"content_filter\",\"message\":\"The "
	       "response was filtered\",\"param\":\"prompt\",\"status\":400,"
	       "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
	       "\"content_filter_result\":{}}}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "The response was filtered", "a prompt-filter error");
	buf_reset(&err);
	body = "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to "
	       "invalid subscription key.\"}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "Access denied due to invalid subscription key.",
		"Azure's own error shape");
	buf_reset(&err);
	body = "{\"error\":{\"code\":\"404\",\"message\":\"Resource not "
	       "found\"}}";
	ops->error(body, strlen(body), &err);
	is_str(err.ptr, "Resource not found", "a missing api-version");

	buf_release(&s.text);
	buf_release(&err);
	buf_release(&dump);
	return tap_done();
}
