/*
 * ollama.c - Ollama's native chat API (PROTOCOLS.md section 5):
 * POST {base}/api/chat, the system prompt as a system message, sampling
 * in "options", and NDJSON streaming: one JSON object per line, the last
 * one with "done":true, the reason and the token counts.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "provider.h"
#include "xalloc.h"

extern const struct provider_ops ollama_ops;

#define WHOLE 1 /* ps->state of a whole reply being parsed */

/* -o keys that are model options (the "options" object), not request
 * fields. */
static const char *const option_keys[] = {
	"frequency_penalty", "main_gpu", "min_p", "mirostat", "mirostat_eta",
	"mirostat_tau", "num_batch", "num_ctx", "num_gpu", "num_keep",
	"num_predict", "num_thread", "numa", "penalize_newline",
	"presence_penalty", "repeat_last_n", "repeat_penalty", "seed", "stop",
	"temperature", "tfs_z", "top_k", "top_p", "typical_p", "use_mmap",
};

static bool
is_option_key(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t i, n;

	if (eq == NULL)
		return false;
	n = (size_t)(eq - kv);
	for (i = 0; i < sizeof(option_keys) / sizeof(option_keys[0]); i++)
		if (strlen(option_keys[i]) == n &&
			memcmp(option_keys[i], kv, n) == 0)
			return true;
	return false;
}

static void
add_message(cJSON *msgs, const char *role, const char *content)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddStringToObject(m, "content", content);
	cJSON_AddItemToArray(msgs, m);
}

/* -o options={...} merges into the options object; other model options
 * go into it one by one; the rest are request fields. */
static void
add_option(cJSON *body, cJSON **opts, const char *kv)
{
	cJSON *tmp, *v, *next;

	if (strncmp(kv, "options=", 8) == 0) {
		tmp = cJSON_CreateObject();
		json_set_option(tmp, kv);
		v = cJSON_GetObjectItemCaseSensitive(tmp, "options");
		if (cJSON_IsObject(v)) {
			if (*opts == NULL)
				*opts = cJSON_AddObjectToObject(body,
					"options");
			for (v = v->child; v; v = next) {
				next = v->next;
				cJSON_DeleteItemFromObjectCaseSensitive(*opts,
					v->string);
				cJSON_AddItemToObject(*opts, v->string,
					cJSON_Duplicate(v, 1));
			}
			cJSON_Delete(tmp);
			return;
		}
		cJSON_Delete(tmp);
	} else if (is_option_key(kv)) {
		if (*opts == NULL)
			*opts = cJSON_AddObjectToObject(body, "options");
		json_set_option(*opts, kv);
		return;
	}
	json_set_option(body, kv);
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;
	cJSON *body = cJSON_CreateObject(), *msgs, *opts = NULL, *stop;
	size_t i;

	(void)err;
	provider_url(&url, rq->provider, "/api/chat");
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "application/x-ndjson" : "application/json",
		false);
	if (rq->api_key && *rq->api_key) {
		buf_addf(&auth, "Bearer %s", rq->api_key);
		http_request_header(h, "Authorization", auth.ptr, true);
	}

	cJSON_AddStringToObject(body, "model", rq->model->id);
	msgs = cJSON_AddArrayToObject(body, "messages");
	if (rq->system && *rq->system)
		add_message(msgs, "system", rq->system);
	for (i = 0; i < rq->nmessages; i++)
		add_message(msgs, rq->messages[i].role,
			rq->messages[i].content);
	/* the server streams unless told not to */
	cJSON_AddBoolToObject(body, "stream", rq->stream);
	if (rq->has_temperature || rq->has_top_p || rq->max_tokens > 0 ||
		rq->nstop) {
		opts = cJSON_AddObjectToObject(body, "options");
		if (rq->has_temperature)
			json_add_number(opts, "temperature", rq->temperature);
		if (rq->has_top_p)
			json_add_number(opts, "top_p", rq->top_p);
		if (rq->max_tokens > 0)
			json_add_number(opts, "num_predict",
				(double)rq->max_tokens);
		if (rq->nstop) {
			stop = cJSON_AddArrayToObject(opts, "stop");
			for (i = 0; i < rq->nstop; i++)
				cJSON_AddItemToArray(stop,
					cJSON_CreateString(rq->stop[i]));
		}
	}
	for (i = 0; i < rq->noptions; i++)
		add_option(body, &opts, rq->options[i]);
	json_print(body, &h->body);
	cJSON_Delete(body);
	buf_release(&url);
	buf_release(&auth);
	return LLM_OK;
}

/* The message of {"error":"…"} or {"error":{"message":"…"}}, or NULL. */
static const char *
error_text(const cJSON *doc)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const char *s = NULL;

	if (cJSON_IsString(e))
		s = e->valuestring;
	else if (cJSON_IsObject(e))
		s = json_str(e, "message");
	else if (e == NULL || cJSON_IsNull(e))
		return NULL;
	return s && *s ? s : "unknown error";
}

/* One NDJSON line (without its line end). */
static enum llm_status
take_line(struct provider_stream *ps, const char *p, size_t n)
{
	struct llm_result *res = ps->res;
	cJSON *doc, *m;
	const char *s;
	enum llm_status st = LLM_OK;

	while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	if (n == 0 || res->done)
		return LLM_OK;
	doc = json_parse(p, n);
	if (doc == NULL || !cJSON_IsObject(doc)) {
		buf_setf(&ps->err, "malformed %s: '%.*s'",
			ps->state == WHOLE ? "reply" : "line in the stream",
			n > 60 ? 60 : (int)n, p);
		cJSON_Delete(doc);
		return ps->st = LLM_ERR_DATA;
	}
	if ((s = error_text(doc)) != NULL) {
		buf_addf(&ps->err, "error in the %s: %s",
			ps->state == WHOLE ? "reply" : "stream", s);
		st = LLM_ERR_UNAVAILABLE;
		goto out;
	}
	m = json_obj(doc, "message");
	/* "thinking" is not the answer */
	if (m && (s = json_str(m, "content")) != NULL &&
		(st = provider_text(ps, s, strlen(s))) != LLM_OK)
		goto out;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "done"))) {
		provider_set_finish(res, json_str(doc, "done_reason"));
		res->usage.input = json_long(doc, "prompt_eval_count",
			res->usage.input);
		res->usage.output = json_long(doc, "eval_count",
			res->usage.output);
		res->done = true;
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
	const char *nl, *start;
	size_t used = 0;

	if (ps->st)
		return ps->st;
	buf_add(&ps->line, p, n);
	start = ps->line.ptr;
	while ((nl = memchr(start + used, '\n', ps->line.len - used))) {
		if (take_line(ps, start + used, (size_t)(nl - start) - used))
			break;
		used = (size_t)(nl - start) + 1;
	}
	if (ps->st == LLM_OK)
		buf_consume(&ps->line, used);
	return ps->st;
}

static enum llm_status
end(struct provider_stream *ps)
{
	if (ps->st)
		return ps->st;
	/* a last line without its newline */
	if (ps->line.len && take_line(ps, ps->line.ptr, ps->line.len))
		return ps->st;
	buf_reset(&ps->line);
	if (!ps->res->done) {
		buf_setf(&ps->err, "the stream ended without \"done\":true");
		return ps->st = LLM_ERR_DATA;
	}
	return LLM_OK;
}

/* One object; a server that streamed anyway gives NDJSON, which is
 * taken too. */
static enum llm_status
parse(const char *body, size_t n, struct llm_result *res, struct buf *err)
{
	struct provider_stream ps;
	enum llm_status st;

	provider_stream_init(&ps, &ollama_ops, res, NULL, NULL);
	ps.state = WHOLE;
	st = feed(&ps, body, n);
	if (st == LLM_OK)
		st = end(&ps);
	if (st == LLM_ERR_DATA && res->text.len == 0 && !res->done &&
		strncmp(ps.err.ptr, "malformed", 9) != 0)
		buf_setf(&ps.err, "malformed reply: no \"done\":true");
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	return st;
}

/* The model named in "model 'x' not found" (or "model \"x\" ..."). */
static bool
missing_model(const char *msg, const char **name, size_t *len)
{
	const char *p = strstr(msg, "model "), *q;

	if (p == NULL || strstr(msg, "not found") == NULL)
		return false;
	p += 6;
	if (*p != '\'' && *p != '"')
		return false;
	q = strchr(p + 1, *p);
	if (q == NULL || q == p + 1)
		return false;
	*name = p + 1;
	*len = (size_t)(q - p - 1);
	return true;
}

/* {"error":"…"}; a missing model says how to get it. */
static void
error_body(const char *body, size_t n, struct buf *msg)
{
	cJSON *doc = json_parse(body, n);
	const char *s = doc ? error_text(doc) : NULL, *name;
	size_t len;

	if (s == NULL) {
		openai_error(body, n, msg);
		cJSON_Delete(doc);
		return;
	}
	buf_adds(msg, s);
	if (missing_model(s, &name, &len))
		buf_addf(msg, "; run 'ollama pull %.*s'", (int)len, name);
	cJSON_Delete(doc);
}

/* GET {base}/api/tags: {"models":[{"name":…},…]}. */
static enum llm_status
list_build(const struct provider *p, const char *api_key,
	struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;

	(void)err;
	provider_url(&url, p, "/api/tags");
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
		if ((name = json_str(m, "name")) != NULL && *name)
			buf_addf(ids, "%s\n", name);
	}
	cJSON_Delete(doc);
	return LLM_OK;
}

const struct provider_ops ollama_ops = {
	.type = "ollama",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = error_body,
	.list_build = list_build,
	.list_parse = list_parse,
};
