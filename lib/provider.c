/* provider.c - what all provider types share; see provider.h. */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "xalloc.h"

extern const struct provider_ops openai_ops;
extern const struct provider_ops bedrock_ops;
extern const struct provider_ops anthropic_ops;
extern const struct provider_ops gemini_ops;
extern const struct provider_ops ollama_ops;
extern const struct provider_ops azure_ops;
extern const struct provider_ops mock_ops;

static const struct provider_ops *const all_ops[] = {
	&openai_ops,
	&bedrock_ops,
	&anthropic_ops,
	&gemini_ops,
	&ollama_ops,
	&azure_ops,
	&mock_ops,
};

const struct provider_ops *
provider_ops_find(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
		if (strcmp(all_ops[i]->type, type) == 0)
			return all_ops[i];
	return NULL;
}

void
llm_result_init(struct llm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->text.ptr = buf_empty;
	r->usage.input = r->usage.output = r->usage.cached = -1;
}

void
llm_result_release(struct llm_result *r)
{
	buf_release(&r->text);
	free(r->finish_raw);
	free(r->id);
	r->finish_raw = r->id = NULL;
	r->finish = NULL;
}

void
provider_stream_init(struct provider_stream *ps,
	const struct provider_ops *ops, struct llm_result *res,
	llm_text_fn on_text, void *ud)
{
	memset(ps, 0, sizeof(*ps));
	ps->ops = ops;
	ps->res = res;
	ps->on_text = on_text;
	ps->ud = ud;
	ps->line.ptr = buf_empty;
	ps->err.ptr = buf_empty;
	sse_init(&ps->sse, NULL, NULL);
}

void
provider_stream_release(struct provider_stream *ps)
{
	sse_release(&ps->sse);
	buf_release(&ps->line);
	buf_release(&ps->err);
}

enum llm_status
provider_text(struct provider_stream *ps, const char *p, size_t n)
{
	if (n == 0)
		return LLM_OK;
	buf_add(&ps->res->text, p, n);
	if (ps->on_text)
		return (enum llm_status)ps->on_text(ps->ud, p, n);
	return LLM_OK;
}

static const struct {
	const char *raw, *norm;
} finish_map[] = {
	{ "stop", "stop" },
	{ "end_turn", "stop" },
	{ "STOP", "stop" },
	{ "eos_token", "stop" },
	{ "stop_sequence", "stop" },
	{ "length", "length" },
	{ "max_tokens", "length" },
	{ "MAX_TOKENS", "length" },
	{ "model_length", "length" },
	{ "model_context_window_exceeded", "length" },
	{ "pause_turn", "length" },
	{ "content_filter", "content_filter" },
	{ "content_filtered", "content_filter" },
	{ "refusal", "content_filter" },
	{ "guardrail_intervened", "content_filter" },
	{ "SAFETY", "content_filter" },
	{ "RECITATION", "content_filter" },
	{ "BLOCKLIST", "content_filter" },
	{ "PROHIBITED_CONTENT", "content_filter" },
	{ "SPII", "content_filter" },
	{ "IMAGE_SAFETY", "content_filter" },
	{ "IMAGE_PROHIBITED_CONTENT", "content_filter" },
	{ "IMAGE_RECITATION", "content_filter" },
	{ "tool_calls", "tool_calls" },
	{ "function_call", "tool_calls" },
	{ "tool_use", "tool_calls" },
};

const char *
provider_finish_normalize(const char *raw)
{
	size_t i;

	for (i = 0; i < sizeof(finish_map) / sizeof(finish_map[0]); i++)
		if (strcmp(finish_map[i].raw, raw) == 0)
			return finish_map[i].norm;
	return "error";
}

void
provider_set_finish(struct llm_result *res, const char *raw)
{
	if (raw == NULL || *raw == '\0')
		return;
	free(res->finish_raw);
	res->finish_raw = xstrdup(raw);
	res->finish = provider_finish_normalize(raw);
}

void
provider_error(const struct provider_ops *ops,
	const struct http_response *r, struct buf *msg)
{
	if (ops->error_response)
		ops->error_response(r, msg);
	else
		ops->error(r->body.ptr, r->body.len, msg);
}

enum llm_status
provider_http_status(long code)
{
	if (code == 401 || code == 402 || code == 403)
		return LLM_ERR_AUTH;
	if (code == 404)
		return LLM_ERR_CONFIG;
	if (code == 408 || code == 409 || code == 429)
		return LLM_ERR_TEMP;
	if (code == 400 || code == 413 || code == 422)
		return LLM_ERR_DATA;
	return LLM_ERR_UNAVAILABLE;
}

bool
provider_http_retryable(long code)
{
	return code == 408 || code == 409 || code == 429 || code >= 500;
}

void
provider_url(struct buf *out, const struct provider *p, const char *path)
{
	const char *base = p->base_url ? p->base_url : "";
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	if (*path && *path != '/')
		buf_addch(out, '/');
	buf_adds(out, path);
}
