/*
 * gemini.c - the Google Gemini API (PROTOCOLS.md section 4):
 * POST {base}/models/{id}:generateContent, or
 * :streamGenerateContent?alt=sse, with x-goog-api-key; roles user and
 * model, systemInstruction, generationConfig.  Every stream chunk is a
 * whole GenerateContentResponse, and the stream ends without a marker:
 * it is complete when a finishReason (or a prompt block) arrived.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "provider.h"
#include "xalloc.h"

extern const struct provider_ops gemini_ops;

#define WHOLE 1 /* ps->state of a whole reply being parsed */

/* -o keys that belong in generationConfig rather than at the top. */
static const char *const config_keys[] = {
	"candidateCount", "frequencyPenalty", "logprobs", "maxOutputTokens",
	"mediaResolution", "presencePenalty", "responseJsonSchema",
	"responseLogprobs", "responseMimeType", "responseModalities",
	"responseSchema", "seed", "speechConfig", "stopSequences",
	"temperature", "thinkingConfig", "topK", "topP",
};

static bool
is_config_key(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t i, n;

	if (eq == NULL)
		return false;
	n = (size_t)(eq - kv);
	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strlen(config_keys[i]) == n &&
			memcmp(config_keys[i], kv, n) == 0)
			return true;
	return false;
}

/* "models/ID": the id escaped as a path segment; an id that already
 * names its resource ("models/x", "tunedModels/x") keeps its prefix. */
static void
resource(struct buf *url, const char *id)
{
	static const char *const prefixes[] = { "models/", "tunedModels/" };
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(id, prefixes[i], n) == 0 && id[n]) {
			buf_adds(url, prefixes[i]);
			http_escape(url, id + n);
			return;
		}
	}
	buf_adds(url, "models/");
	http_escape(url, id);
}

static cJSON *
text_parts(const char *text)
{
	cJSON *parts = cJSON_CreateArray(), *part = cJSON_CreateObject();

	cJSON_AddStringToObject(part, "text", text);
	cJSON_AddItemToArray(parts, part);
	return parts;
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT;
	cJSON *body = cJSON_CreateObject(), *contents, *m, *o, *cfg = NULL;
	size_t i;

	(void)err;
	provider_url(&url, rq->provider, "/");
	resource(&url, rq->model->id);
	buf_adds(&url, rq->stream ? ":streamGenerateContent?alt=sse" :
				    ":generateContent");
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "text/event-stream" : "application/json", false);
	if (rq->api_key && *rq->api_key)
		http_request_header(h, "x-goog-api-key", rq->api_key, true);

	contents = cJSON_AddArrayToObject(body, "contents");
	for (i = 0; i < rq->nmessages; i++) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role",
			strcmp(rq->messages[i].role, "assistant") == 0 ?
				"model" :
				"user");
		cJSON_AddItemToObject(m, "parts",
			text_parts(rq->messages[i].content));
		cJSON_AddItemToArray(contents, m);
	}
	if (rq->system && *rq->system) {
		o = cJSON_AddObjectToObject(body, "systemInstruction");
		cJSON_AddItemToObject(o, "parts", text_parts(rq->system));
	}
	if (rq->has_temperature || rq->has_top_p || rq->max_tokens > 0 ||
		rq->nstop) {
		cfg = cJSON_AddObjectToObject(body, "generationConfig");
		if (rq->has_temperature)
			json_add_number(cfg, "temperature", rq->temperature);
		if (rq->has_top_p)
			json_add_number(cfg, "topP", rq->top_p);
		if (rq->max_tokens > 0)
			json_add_number(cfg, "maxOutputTokens",
				(double)rq->max_tokens);
		if (rq->nstop) {
			o = cJSON_AddArrayToObject(cfg, "stopSequences");
			for (i = 0; i < rq->nstop; i++)
				cJSON_AddItemToArray(o,
					cJSON_CreateString(rq->stop[i]));
		}
	}
	for (i = 0; i < rq->noptions; i++) {
		if (is_config_key(rq->options[i])) {
			if (cfg == NULL)
				cfg = cJSON_AddObjectToObject(body,
					"generationConfig");
			json_set_option(cfg, rq->options[i]);
		} else {
			json_set_option(body, rq->options[i]);
		}
	}
	json_print(body, &h->body);
	cJSON_Delete(body);
	buf_release(&url);
	return LLM_OK;
}

/* The status of an error object {"code":N,"message","status":S}. */
static enum llm_status
error_obj_status(const cJSON *e)
{
	static const struct {
		const char *name;
		enum llm_status st;
	} map[] = {
		{ "RESOURCE_EXHAUSTED", LLM_ERR_TEMP },
		{ "DEADLINE_EXCEEDED", LLM_ERR_TEMP },
		{ "UNAUTHENTICATED", LLM_ERR_AUTH },
		{ "PERMISSION_DENIED", LLM_ERR_AUTH },
		{ "NOT_FOUND", LLM_ERR_CONFIG },
		{ "INVALID_ARGUMENT", LLM_ERR_DATA },
		{ "FAILED_PRECONDITION", LLM_ERR_DATA },
	};
	const cJSON *d, *item;
	const char *s;
	size_t i;
	long code;

	/* A bad key is 400 INVALID_ARGUMENT with reason API_KEY_INVALID. */
	d = json_arr(e, "details");
	cJSON_ArrayForEach(item, d)
	{
		s = json_str(item, "reason");
		if (s && strncmp(s, "API_KEY_", 8) == 0)
			return LLM_ERR_AUTH;
	}
	code = json_long(e, "code", 0);
	if (code >= 400 && code <= 599)
		return provider_http_status(code);
	s = json_str(e, "status");
	for (i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, s) == 0)
			return map[i].st;
	return LLM_ERR_UNAVAILABLE;
}

/* {"error":{"message":M,"status":S}} as "M (S)"; returns its status. */
static enum llm_status
error_doc(const cJSON *doc, struct buf *msg)
{
	const cJSON *e = json_obj(doc, "error");
	const char *m = e ? json_str(e, "message") : NULL;
	const char *s = e ? json_str(e, "status") : NULL;

	buf_adds(msg, m && *m ? m : "unknown error");
	if (s && *s)
		buf_addf(msg, " (%s)", s);
	return e ? error_obj_status(e) : LLM_ERR_UNAVAILABLE;
}

static void
take_usage(struct llm_result *res, const cJSON *u)
{
	long cand, thoughts;

	if (!cJSON_IsObject(u))
		return;
	res->usage.input = json_long(u, "promptTokenCount", res->usage.input);
	/* thinking is billed as output */
	cand = json_long(u, "candidatesTokenCount", -1);
	thoughts = json_long(u, "thoughtsTokenCount", -1);
	if (cand >= 0 || thoughts >= 0)
		res->usage.output = (cand > 0 ? cand : 0) +
			(thoughts > 0 ? thoughts : 0);
	res->usage.cached = json_long(u, "cachedContentTokenCount",
		res->usage.cached);
}

/* A complete answer whose usage left out its output count: protobuf's
 * JSON omits zeros. */
static void
settle_output(struct llm_result *res)
{
	if (res->usage.input >= 0 && res->usage.output < 0)
		res->usage.output = 0;
}

/* One GenerateContentResponse, streamed or whole. */
static enum llm_status
take(struct provider_stream *ps, const cJSON *doc)
{
	struct llm_result *res = ps->res;
	const cJSON *c, *parts, *part, *fb;
	const char *s, *block;
	enum llm_status st;

	if (cJSON_GetObjectItemCaseSensitive(doc, "error")) {
		buf_adds(&ps->err, ps->state == WHOLE ? "error in the reply: " :
							"error in the stream: ");
		return ps->st = error_doc(doc, &ps->err);
	}
	s = json_str(doc, "responseId");
	if (s && *s && res->id == NULL)
		res->id = xstrdup(s);
	take_usage(res, json_obj(doc, "usageMetadata"));
	fb = json_obj(doc, "promptFeedback");
	block = fb ? json_str(fb, "blockReason") : NULL;
	if (block && *block) {
		/* the prompt was refused: no candidates, no text */
		free(res->finish_raw);
		res->finish_raw = xstrdup(block);
		res->finish = "content_filter";
		return LLM_OK;
	}
	c = cJSON_GetArrayItem(json_arr(doc, "candidates"), 0);
	if (c == NULL)
		return LLM_OK;
	parts = json_arr(json_obj(c, "content"), "parts");
	cJSON_ArrayForEach(part, parts)
	{
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part,
			    "thought")))
			continue;
		s = json_str(part, "text");
		if (s && (st = provider_text(ps, s, strlen(s))) != LLM_OK)
			return ps->st = st;
	}
	provider_set_finish(res, json_str(c, "finishReason"));
	return LLM_OK;
}

static int
on_event(void *ud, const char *event, const char *data, size_t n)
{
	struct provider_stream *ps = ud;
	cJSON *doc;
	enum llm_status st;

	(void)event;
	doc = json_parse(data, n);
	if (doc == NULL) {
		buf_setf(&ps->err, "malformed event in the stream: '%.60s'",
			data);
		return ps->st = LLM_ERR_DATA;
	}
	st = take(ps, doc);
	cJSON_Delete(doc);
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
	/* no end marker in this protocol: the last chunk has a reason */
	if (ps->res->finish == NULL) {
		buf_setf(&ps->err, "the stream ended without a finishReason");
		return ps->st = LLM_ERR_DATA;
	}
	ps->res->done = true;
	settle_output(ps->res);
	return LLM_OK;
}

static enum llm_status
parse(const char *body, size_t n, struct llm_result *res, struct buf *err)
{
	struct provider_stream ps;
	cJSON *doc = json_parse(body, n);
	enum llm_status st;

	if (doc == NULL) {
		buf_setf(err, "malformed reply: not JSON: '%.60s'", body);
		return LLM_ERR_DATA;
	}
	provider_stream_init(&ps, &gemini_ops, res, NULL, NULL);
	ps.state = WHOLE;
	st = take(&ps, doc);
	if (st == LLM_OK && res->finish == NULL &&
		!json_arr(doc, "candidates")) {
		buf_setf(&ps.err, "malformed reply: no candidates");
		st = LLM_ERR_DATA;
	}
	if (st == LLM_OK) {
		res->done = true;
		settle_output(res);
	}
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	cJSON_Delete(doc);
	return st;
}

static void
error_body(const char *body, size_t n, struct buf *msg)
{
	cJSON *doc = json_parse(body, n);

	if (doc && json_obj(doc, "error"))
		error_doc(doc, msg);
	else
		openai_error(body, n, msg);
	cJSON_Delete(doc);
}

/* The retryDelay of a google.rpc.RetryInfo in error.details ("37s", a
 * protobuf Duration), or -1. */
static double
error_wait(const struct http_response *r)
{
	cJSON *doc = json_parse(r->body.ptr, r->body.len);
	const cJSON *e = doc ? json_obj(doc, "error") : NULL;
	const cJSON *list = e ? json_arr(e, "details") : NULL, *d;
	const char *type, *delay;
	double secs = -1;

	cJSON_ArrayForEach(d, list)
	{
		type = json_str(d, "@type");
		delay = json_str(d, "retryDelay");
		if (type && delay && strstr(type, "google.rpc.RetryInfo") &&
			http_parse_duration(delay, strlen(delay), &secs))
			break;
	}
	cJSON_Delete(doc);
	return secs;
}

static enum llm_status
error_status(long code, const char *body, size_t n)
{
	cJSON *doc = json_parse(body, n);
	const cJSON *e = doc ? json_obj(doc, "error") : NULL;
	enum llm_status st = provider_http_status(code);

	if (e && code == 400 && error_obj_status(e) == LLM_ERR_AUTH)
		st = LLM_ERR_AUTH;
	cJSON_Delete(doc);
	return st;
}

/* GET {base}/models: {"models":[{"name":"models/…",…}]}. */
static enum llm_status
list_build(const struct provider *p, const char *api_key,
	struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT;

	(void)err;
	provider_url(&url, p, "/models?pageSize=1000");
	http_request_set(h, "GET", url.ptr);
	http_request_header(h, "Accept", "application/json", false);
	if (api_key && *api_key)
		http_request_header(h, "x-goog-api-key", api_key, true);
	buf_release(&url);
	return LLM_OK;
}

/* Whether a model can chat: supportedGenerationMethods, when given,
 * holds generateContent. */
static bool
can_generate(const cJSON *m)
{
	const cJSON *methods = json_arr(m, "supportedGenerationMethods"), *x;

	if (methods == NULL)
		return true;
	cJSON_ArrayForEach(x, methods)
	{
		if (cJSON_IsString(x) &&
			strcmp(x->valuestring, "generateContent") == 0)
			return true;
	}
	return false;
}

static enum llm_status
list_parse(const char *body, size_t n, struct buf *ids, struct buf *err)
{
	cJSON *doc = json_parse(body, n), *models, *m;
	const char *name;

	models = doc ? json_arr(doc, "models") : NULL;
	if (models == NULL) {
		buf_setf(err, "malformed model list: no models[]");
		cJSON_Delete(doc);
		return LLM_ERR_DATA;
	}
	cJSON_ArrayForEach(m, models)
	{
		name = json_str(m, "name");
		if (name == NULL || !can_generate(m))
			continue;
		if (strncmp(name, "models/", 7) == 0)
			name += 7;
		if (*name)
			buf_addf(ids, "%s\n", name);
	}
	cJSON_Delete(doc);
	return LLM_OK;
}

const struct provider_ops gemini_ops = {
	.type = "gemini",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = error_body,
	.error_wait = error_wait,
	.error_status = error_status,
	.list_build = list_build,
	.list_parse = list_parse,
};
