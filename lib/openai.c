/*
 * openai.c - the OpenAI Chat Completions protocol (PROTOCOLS.md section
 * 1), which also serves Groq, HuggingFace's router, SambaNova, OpenRouter,
 * Mistral, DeepSeek, Together, xAI, vLLM and llama.cpp through base_url.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "xalloc.h"

/* OpenAI's own API wants max_completion_tokens; the compatibles know
 * only max_tokens (PROTOCOLS.md, "Compatibility rule"). */
static bool
wants_max_completion_tokens(const struct provider *p)
{
	return p->base_url && strstr(p->base_url, "api.openai.com") != NULL;
}

/* The Chat Completions body; shared with the azure type. */
void
openai_body(const struct llm_request *rq, cJSON *body, bool max_completion)
{
	cJSON *msgs, *m, *stop;
	size_t i;

	cJSON_AddStringToObject(body, "model", rq->model->id);
	msgs = cJSON_AddArrayToObject(body, "messages");
	if (rq->system && *rq->system) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", rq->system);
		cJSON_AddItemToArray(msgs, m);
	}
	for (i = 0; i < rq->nmessages; i++) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", rq->messages[i].role);
		cJSON_AddStringToObject(m, "content", rq->messages[i].content);
		cJSON_AddItemToArray(msgs, m);
	}
	if (rq->has_temperature)
		json_add_number(body, "temperature", rq->temperature);
	if (rq->has_top_p)
		json_add_number(body, "top_p", rq->top_p);
	if (rq->max_tokens > 0)
		json_add_number(body,
			max_completion ? "max_completion_tokens" : "max_tokens",
			(double)rq->max_tokens);
	if (rq->nstop) {
		stop = cJSON_AddArrayToObject(body, "stop");
		for (i = 0; i < rq->nstop; i++)
			cJSON_AddItemToArray(stop,
				cJSON_CreateString(rq->stop[i]));
	}
	if (rq->stream) {
		cJSON_AddTrueToObject(body, "stream");
		m = cJSON_AddObjectToObject(body, "stream_options");
		cJSON_AddTrueToObject(m, "include_usage");
	}
	for (i = 0; i < rq->noptions; i++)
		json_set_option(body, rq->options[i]);
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;
	cJSON *body = cJSON_CreateObject();

	(void)err;
	provider_url(&url, rq->provider, "/chat/completions");
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "text/event-stream" : "application/json", false);
	if (rq->api_key && *rq->api_key) {
		buf_addf(&auth, "Bearer %s", rq->api_key);
		http_request_header(h, "Authorization", auth.ptr, true);
	}
	openai_body(rq, body, wants_max_completion_tokens(rq->provider));
	json_print(body, &h->body);
	cJSON_Delete(body);
	buf_release(&url);
	buf_release(&auth);
	return LLM_OK;
}

/* Usage from a "usage" object (also Groq's x_groq.usage). */
static void
take_usage(struct llm_result *res, const cJSON *u)
{
	const cJSON *d;

	if (!cJSON_IsObject(u))
		return;
	res->usage.input = json_long(u, "prompt_tokens", res->usage.input);
	res->usage.output = json_long(u, "completion_tokens",
		res->usage.output);
	d = json_obj(u, "prompt_tokens_details");
	if (d)
		res->usage.cached = json_long(d, "cached_tokens",
			res->usage.cached);
}

static void
take_id(struct llm_result *res, const cJSON *doc)
{
	const char *id = json_str(doc, "id");

	if (id && *id && res->id == NULL)
		res->id = xstrdup(id);
}

/* An error document's message: {"error":{"message":…}}, {"error":"…"},
 * {"message":…} or {"detail":…}. */
static bool
error_message(const cJSON *doc, struct buf *msg, const char **type)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const char *s = NULL;

	*type = NULL;
	if (cJSON_IsObject(e)) {
		s = json_str(e, "message");
		*type = json_str(e, "type");
		if (*type == NULL)
			*type = json_str(e, "code");
	} else if (cJSON_IsString(e)) {
		s = e->valuestring;
	} else if (e == NULL) {
		s = json_str(doc, "message");
		if (s == NULL)
			s = json_str(doc, "detail");
		if (s == NULL)
			return false;
	}
	buf_adds(msg, s && *s ? s : "unknown error");
	return true;
}

static enum llm_status
stream_error(struct provider_stream *ps, const cJSON *doc)
{
	const char *type;

	buf_adds(&ps->err, "error in the stream: ");
	error_message(doc, &ps->err, &type);
	if (type && strstr(type, "rate_limit"))
		return LLM_ERR_TEMP;
	if (type && strcmp(type, "invalid_request_error") == 0)
		return LLM_ERR_DATA;
	return LLM_ERR_UNAVAILABLE;
}

static int
on_event(void *ud, const char *event, const char *data, size_t n)
{
	struct provider_stream *ps = ud;
	struct llm_result *res = ps->res;
	cJSON *doc, *choices, *c, *delta, *content;
	enum llm_status st = LLM_OK;
	const char *fr;

	(void)event;
	if (n >= 6 && memcmp(data, "[DONE]", 6) == 0) {
		res->done = true;
		return 0;
	}
	doc = json_parse(data, n);
	if (doc == NULL) {
		buf_setf(&ps->err, "malformed event in the stream: '%.60s'",
			data);
		return ps->st = LLM_ERR_DATA;
	}
	if (cJSON_GetObjectItemCaseSensitive(doc, "error") &&
		!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "error"))) {
		st = stream_error(ps, doc);
		goto out;
	}
	take_id(res, doc);
	take_usage(res, cJSON_GetObjectItemCaseSensitive(doc, "usage"));
	if ((c = json_obj(doc, "x_groq")) != NULL)
		take_usage(res, cJSON_GetObjectItemCaseSensitive(c, "usage"));
	choices = json_arr(doc, "choices");
	cJSON_ArrayForEach(c, choices)
	{
		if (json_long(c, "index", 0) != 0)
			continue;
		delta = json_obj(c, "delta");
		content = delta ? cJSON_GetObjectItemCaseSensitive(delta,
					  "content") :
				  NULL;
		if (cJSON_IsString(content)) {
			st = provider_text(ps, content->valuestring,
				strlen(content->valuestring));
			if (st)
				goto out;
		}
		fr = json_str(c, "finish_reason");
		if (fr)
			provider_set_finish(res, fr);
	}
out:
	cJSON_Delete(doc);
	if (st)
		ps->st = st;
	return st;
}

static enum llm_status
feed(struct provider_stream *ps, const char *p, size_t n)
{
	if (ps->sse.fn == NULL)
		sse_init(&ps->sse, on_event, ps);
	sse_feed(&ps->sse, p, n);
	return ps->st;
}

static enum llm_status
end(struct provider_stream *ps)
{
	if (ps->st)
		return ps->st;
	/* Liberal: a finish reason also marks a complete answer. */
	if (!ps->res->done && ps->res->finish == NULL) {
		buf_setf(&ps->err, "the stream ended without its end marker");
		return ps->st = LLM_ERR_DATA;
	}
	return LLM_OK;
}

static enum llm_status
parse(const char *body, size_t n, struct llm_result *res, struct buf *err)
{
	cJSON *doc = json_parse(body, n), *choices, *c, *msg, *content;
	enum llm_status st = LLM_OK;
	const char *type;

	if (doc == NULL) {
		buf_setf(err, "malformed reply: not JSON: '%.60s'", body);
		return LLM_ERR_DATA;
	}
	if (cJSON_GetObjectItemCaseSensitive(doc, "error")) {
		buf_adds(err, "error in the reply: ");
		error_message(doc, err, &type);
		st = LLM_ERR_UNAVAILABLE;
		goto out;
	}
	choices = json_arr(doc, "choices");
	c = cJSON_GetArrayItem(choices, 0);
	msg = c ? json_obj(c, "message") : NULL;
	if (msg == NULL) {
		buf_setf(err, "malformed reply: no choices[0].message");
		st = LLM_ERR_DATA;
		goto out;
	}
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (cJSON_IsString(content))
		buf_adds(&res->text, content->valuestring);
	provider_set_finish(res, json_str(c, "finish_reason"));
	take_id(res, doc);
	take_usage(res, cJSON_GetObjectItemCaseSensitive(doc, "usage"));
	res->done = true;
out:
	cJSON_Delete(doc);
	return st;
}

/* The message of an error body; text bodies give their first line. */
void
openai_error(const char *body, size_t n, struct buf *msg)
{
	cJSON *doc = json_parse(body, n);
	const char *type, *p, *e;

	if (doc && error_message(doc, msg, &type)) {
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(doc);
	for (p = body; p < body + n && (*p == ' ' || *p == '\n' ||
			       *p == '\r' || *p == '\t');
		p++)
		;
	for (e = p; e < body + n && *e != '\n' && *e != '\r' && e - p < 200;
		e++)
		;
	if (e > p)
		buf_add(msg, p, (size_t)(e - p));
	else
		buf_adds(msg, "no error message");
}

/* GET {base}/models: {"object":"list","data":[{"id":…},…]}. */
static enum llm_status
list_build(const struct provider *p, const char *api_key,
	struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;

	(void)err;
	provider_url(&url, p, "/models");
	http_request_set(h, "GET", url.ptr);
	http_request_header(h, "Accept", "application/json", false);
	if (api_key && *api_key) {
		buf_addf(&auth, "Bearer %s", api_key);
		http_request_header(h, "Authorization", auth.ptr, true);
	}
	buf_release(&url);
	buf_release(&auth);
	return LLM_OK;
}

static enum llm_status
list_parse(const char *body, size_t n, struct buf *ids, struct buf *err)
{
	cJSON *doc = json_parse(body, n), *data, *m;
	const char *id;

	data = doc ? json_arr(doc, "data") : NULL;
	if (data == NULL) {
		buf_setf(err, "malformed model list: no data[]");
		cJSON_Delete(doc);
		return LLM_ERR_DATA;
	}
	cJSON_ArrayForEach(m, data)
	{
		if ((id = json_str(m, "id")) != NULL && *id)
			buf_addf(ids, "%s\n", id);
	}
	cJSON_Delete(doc);
	return LLM_OK;
}

const struct provider_ops openai_ops = {
	.type = "openai",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = openai_error,
	.list_build = list_build,
	.list_parse = list_parse,
};
