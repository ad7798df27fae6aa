/*
 * anthropic.c - the Anthropic Messages protocol (PROTOCOLS.md section 3):
 * POST {base}/v1/messages with x-api-key and anthropic-version, the
 * system prompt as a top-level field, max_tokens always sent, and a
 * stream of named SSE events from message_start to message_stop.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "provider.h"
#include "xalloc.h"

#define DEFAULT_VERSION    "2023-06-01"
#define DEFAULT_MAX_TOKENS 4096

/* {base}/v1/PATH; a base_url that already ends in /v1 is taken as is. */
static void
url_for(struct buf *url, const struct provider *p, const char *path)
{
	const char *base = p->base_url ? p->base_url : "";
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0)
		provider_url(url, p, path);
	else {
		provider_url(url, p, "/v1");
		buf_adds(url, path);
	}
}

static void
auth_headers(struct http_request *h, const struct provider *p,
	const char *api_key)
{
	if (api_key && *api_key)
		http_request_header(h, "x-api-key", api_key, true);
	http_request_header(h, "anthropic-version",
		p->anthropic_version && *p->anthropic_version ?
			p->anthropic_version :
			DEFAULT_VERSION,
		false);
}

/* The request's max_tokens, else the model's output limit, else 4096:
 * the API requires the field. */
static long
max_tokens(const struct llm_request *rq)
{
	if (rq->max_tokens > 0)
		return rq->max_tokens;
	if (rq->model->max_output_tokens > 0)
		return rq->model->max_output_tokens;
	return DEFAULT_MAX_TOKENS;
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT;
	cJSON *body = cJSON_CreateObject(), *msgs, *m, *stop;
	size_t i;

	(void)err;
	url_for(&url, rq->provider, "/messages");
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "text/event-stream" : "application/json", false);
	auth_headers(h, rq->provider, rq->api_key);

	cJSON_AddStringToObject(body, "model", rq->model->id);
	json_add_number(body, "max_tokens", (double)max_tokens(rq));
	if (rq->system && *rq->system)
		cJSON_AddStringToObject(body, "system", rq->system);
	msgs = cJSON_AddArrayToObject(body, "messages");
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
	if (rq->nstop) {
		stop = cJSON_AddArrayToObject(body, "stop_sequences");
		for (i = 0; i < rq->nstop; i++)
			cJSON_AddItemToArray(stop,
				cJSON_CreateString(rq->stop[i]));
	}
	if (rq->stream)
		cJSON_AddTrueToObject(body, "stream");
	for (i = 0; i < rq->noptions; i++)
		json_set_option(body, rq->options[i]);
	json_print(body, &h->body);
	cJSON_Delete(body);
	buf_release(&url);
	return LLM_OK;
}

/*
 * Usage from a usage object: input is input_tokens plus both cache
 * counts (what the prompt really was), cached the tokens read from the
 * cache.  message_delta's counts are cumulative: the last one wins.
 */
static void
take_usage(struct llm_result *res, const cJSON *u)
{
	long in, created, read;

	if (!cJSON_IsObject(u))
		return;
	in = json_long(u, "input_tokens", -1);
	created = json_long(u, "cache_creation_input_tokens", 0);
	read = json_long(u, "cache_read_input_tokens", -1);
	if (in >= 0)
		res->usage.input = in + created + (read > 0 ? read : 0);
	if (read >= 0)
		res->usage.cached = read;
	res->usage.output = json_long(u, "output_tokens", res->usage.output);
}

static void
take_id(struct llm_result *res, const cJSON *msg)
{
	const char *id = json_str(msg, "id");

	if (id && *id && res->id == NULL)
		res->id = xstrdup(id);
}

/* The status of an error type: what a non-streamed answer's HTTP code
 * would have said. */
static enum llm_status
error_type_status(const char *type)
{
	if (type == NULL)
		return LLM_ERR_UNAVAILABLE;
	if (strcmp(type, "rate_limit_error") == 0)
		return LLM_ERR_TEMP;
	if (strcmp(type, "authentication_error") == 0 ||
		strcmp(type, "permission_error") == 0 ||
		strcmp(type, "billing_error") == 0)
		return LLM_ERR_AUTH;
	if (strcmp(type, "invalid_request_error") == 0 ||
		strcmp(type, "request_too_large") == 0)
		return LLM_ERR_DATA;
	if (strcmp(type, "not_found_error") == 0)
		return LLM_ERR_CONFIG;
	if (strcmp(type, "timeout_error") == 0)
		return LLM_ERR_TEMP;
	return LLM_ERR_UNAVAILABLE; /* overloaded_error, api_error, ... */
}

/* {"type":"error","error":{"type":T,"message":M}} as "M (T)". */
static enum llm_status
error_doc(const cJSON *doc, struct buf *msg)
{
	const cJSON *e = json_obj(doc, "error");
	const char *type = e ? json_str(e, "type") : NULL;
	const char *m = e ? json_str(e, "message") : NULL;

	buf_adds(msg, m && *m ? m : "unknown error");
	if (type && *type)
		buf_addf(msg, " (%s)", type);
	return error_type_status(type);
}

static int
on_event(void *ud, const char *event, const char *data, size_t n)
{
	struct provider_stream *ps = ud;
	struct llm_result *res = ps->res;
	cJSON *doc, *o, *d;
	enum llm_status st = LLM_OK;
	const char *type, *s;

	doc = json_parse(data, n);
	if (doc == NULL) {
		buf_setf(&ps->err, "malformed event in the stream: '%.60s'",
			data);
		return ps->st = LLM_ERR_DATA;
	}
	/* the data's type names the event; the event: line is a fallback */
	type = json_str(doc, "type");
	if (type == NULL)
		type = event;
	if (strcmp(type, "message_start") == 0) {
		o = json_obj(doc, "message");
		take_id(res, o);
		take_usage(res, json_obj(o, "usage"));
	} else if (strcmp(type, "content_block_delta") == 0) {
		d = json_obj(doc, "delta");
		s = json_str(d, "type");
		/* thinking, signature, input_json and citations deltas are
		 * not the answer's text */
		if (s && strcmp(s, "text_delta") == 0 &&
			(s = json_str(d, "text")) != NULL)
			st = provider_text(ps, s, strlen(s));
	} else if (strcmp(type, "message_delta") == 0) {
		d = json_obj(doc, "delta");
		provider_set_finish(res, json_str(d, "stop_reason"));
		take_usage(res, json_obj(doc, "usage"));
	} else if (strcmp(type, "message_stop") == 0) {
		res->done = true;
	} else if (strcmp(type, "error") == 0) {
		buf_adds(&ps->err, "error in the stream: ");
		st = error_doc(doc, &ps->err);
	}
	/* ping, content_block_start/stop and unknown events: nothing */
	cJSON_Delete(doc);
	if (st)
		ps->st = st;
	return st;
}

static enum llm_status
feed(struct provider_stream *ps, const char *p, size_t n)
{
	if (ps->st)
		return ps->st;
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
	if (!ps->res->done) {
		buf_setf(&ps->err, "the stream ended without message_stop");
		return ps->st = LLM_ERR_DATA;
	}
	return LLM_OK;
}

static enum llm_status
parse(const char *body, size_t n, struct llm_result *res, struct buf *err)
{
	cJSON *doc = json_parse(body, n), *content, *b;
	enum llm_status st = LLM_OK;
	const char *type, *text;

	if (doc == NULL) {
		buf_setf(err, "malformed reply: not JSON: '%.60s'", body);
		return LLM_ERR_DATA;
	}
	type = json_str(doc, "type");
	if (type && strcmp(type, "error") == 0) {
		buf_adds(err, "error in the reply: ");
		st = error_doc(doc, err);
		goto out;
	}
	content = json_arr(doc, "content");
	if (content == NULL) {
		buf_setf(err, "malformed reply: no content[]");
		st = LLM_ERR_DATA;
		goto out;
	}
	cJSON_ArrayForEach(b, content)
	{
		type = json_str(b, "type");
		text = json_str(b, "text");
		if (type && strcmp(type, "text") == 0 && text)
			buf_adds(&res->text, text);
	}
	provider_set_finish(res, json_str(doc, "stop_reason"));
	take_id(res, doc);
	take_usage(res, json_obj(doc, "usage"));
	res->done = true;
out:
	cJSON_Delete(doc);
	return st;
}

/* {"type":"error","error":{"type","message"}}, or what openai_error
 * makes of anything else (a proxy's HTML, plain text). */
static void
error_body(const char *body, size_t n, struct buf *msg)
{
	cJSON *doc = json_parse(body, n);

	if (doc && json_obj(doc, "error") &&
		json_str(json_obj(doc, "error"), "message"))
		error_doc(doc, msg);
	else
		openai_error(body, n, msg);
	cJSON_Delete(doc);
}

/* GET {base}/v1/models: {"data":[{"type":"model","id":…},…]}. */
static enum llm_status
list_build(const struct provider *p, const char *api_key,
	struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT;

	(void)err;
	url_for(&url, p, "/models?limit=1000");
	http_request_set(h, "GET", url.ptr);
	http_request_header(h, "Accept", "application/json", false);
	auth_headers(h, p, api_key);
	buf_release(&url);
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

const struct provider_ops anthropic_ops = {
	.type = "anthropic",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = error_body,
	.list_build = list_build,
	.list_parse = list_parse,
	.required_max_tokens = DEFAULT_MAX_TOKENS,
};
