/*
 * azure.c - Azure OpenAI (PROTOCOLS.md section 2): the Chat Completions
 * protocol of openai.c on a deployment URL,
 *   POST {base}/openai/deployments/{deployment}/chat/completions
 *        ?api-version={api_version, default 2024-10-21}
 * with the api-key header, the model id naming the deployment; or, when
 * base_url ends in /openai/v1, the v1 form: POST {base}/chat/completions
 * with the deployment as the body's model and no api-version (unless one
 * is configured).  Replies, streams (whose first chunk may be a
 * filter-only one with empty choices) and errors are OpenAI's.
 */
#include <string.h>

#include "json.h"
#include "openai.h"
#include "provider.h"

#define DEFAULT_API_VERSION "2024-10-21"

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The URL; *v1 says whether it is the v1 form. */
static void
url_for(struct buf *url, const struct llm_request *rq, bool *v1)
{
	const struct provider *p = rq->provider;
	const char *base = p->base_url ? p->base_url : "";
	const char *ver = p->api_version && *p->api_version ?
				  p->api_version :
				  NULL;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	*v1 = ends_with(base, n, "/openai/v1");
	if (*v1) {
		buf_add(url, base, n);
		buf_adds(url, "/chat/completions");
		if (ver)
			buf_addf(url, "?api-version=%s", ver);
		return;
	}
	/* liberal: a base_url that already ends in /openai */
	if (ends_with(base, n, "/openai"))
		n -= 7;
	buf_add(url, base, n);
	buf_adds(url, "/openai/deployments/");
	http_escape(url, rq->model->id);
	buf_addf(url, "/chat/completions?api-version=%s",
		ver ? ver : DEFAULT_API_VERSION);
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT;
	cJSON *body = cJSON_CreateObject();
	bool v1;

	(void)err;
	url_for(&url, rq, &v1);
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "text/event-stream" : "application/json", false);
	if (rq->api_key && *rq->api_key)
		http_request_header(h, "api-key", rq->api_key, true);
	openai_body(rq, body, true);
	/* the deployment in the path is the model */
	if (!v1)
		cJSON_DeleteItemFromObjectCaseSensitive(body, "model");
	json_print(body, &h->body);
	cJSON_Delete(body);
	buf_release(&url);
	return LLM_OK;
}

/* Replies and streams are OpenAI's (openai_ops is not a constant, so
 * these forward at run time). */
static enum llm_status
parse(const char *body, size_t n, struct llm_result *res, struct buf *err)
{
	return openai_ops.parse(body, n, res, err);
}

static enum llm_status
feed(struct provider_stream *ps, const char *p, size_t n)
{
	return openai_ops.feed(ps, p, n);
}

static enum llm_status
end(struct provider_stream *ps)
{
	return openai_ops.end(ps);
}

const struct provider_ops azure_ops = {
	.type = "azure",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = openai_error,
};
