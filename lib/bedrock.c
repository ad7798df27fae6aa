/*
 * bedrock.c - AWS Bedrock Runtime's Converse and ConverseStream
 * (PROTOCOLS.md section 6): JSON requests signed with SigV4 (sigv4.h),
 * or sent with a Bedrock API key as Bearer token; whole JSON replies, and
 * streamed replies in the binary event-stream framing (eventstream.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "eventstream.h"
#include "json.h"
#include "provider.h"
#include "sigv4.h"
#include "xalloc.h"

/* ps->state bits */
#define GOT_STOP 1     /* messageStop arrived */
#define GOT_METADATA 2 /* metadata (usage) arrived */

enum llm_status bedrock_build_at(const struct llm_request *rq, time_t now,
	struct http_request *h, struct buf *err);

static void
build_body(const struct llm_request *rq, cJSON *doc)
{
	cJSON *msgs, *m, *content, *part, *sys, *cfg = NULL, *stop;
	size_t i;

	msgs = cJSON_AddArrayToObject(doc, "messages");
	for (i = 0; i < rq->nmessages; i++) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", rq->messages[i].role);
		content = cJSON_AddArrayToObject(m, "content");
		part = cJSON_CreateObject();
		cJSON_AddStringToObject(part, "text", rq->messages[i].content);
		cJSON_AddItemToArray(content, part);
		cJSON_AddItemToArray(msgs, m);
	}
	if (rq->system && *rq->system) {
		sys = cJSON_AddArrayToObject(doc, "system");
		part = cJSON_CreateObject();
		cJSON_AddStringToObject(part, "text", rq->system);
		cJSON_AddItemToArray(sys, part);
	}
	if (rq->max_tokens > 0 || rq->has_temperature || rq->has_top_p ||
		rq->nstop)
		cfg = cJSON_AddObjectToObject(doc, "inferenceConfig");
	if (rq->max_tokens > 0)
		json_add_number(cfg, "maxTokens", (double)rq->max_tokens);
	if (rq->has_temperature)
		json_add_number(cfg, "temperature", rq->temperature);
	if (rq->has_top_p)
		json_add_number(cfg, "topP", rq->top_p);
	if (rq->nstop) {
		stop = cJSON_AddArrayToObject(cfg, "stopSequences");
		for (i = 0; i < rq->nstop; i++)
			cJSON_AddItemToArray(stop,
				cJSON_CreateString(rq->stop[i]));
	}
	for (i = 0; i < rq->noptions; i++)
		json_set_option(doc, rq->options[i]);
}

static bool
set(const char *s)
{
	return s != NULL && *s != '\0';
}

static void
no_credentials(const struct provider *p, struct buf *err)
{
	buf_setf(err,
		"no AWS credentials for provider '%s': set AWS_ACCESS_KEY_ID "
		"and AWS_SECRET_ACCESS_KEY, or AWS_BEARER_TOKEN_BEDROCK",
		p->name);
}

/* Build the request at the signing time now (exported for tests). */
enum llm_status
bedrock_build_at(const struct llm_request *rq, time_t now,
	struct http_request *h, struct buf *err)
{
	const struct provider *p = rq->provider;
	struct buf url = BUF_INIT, auth = BUF_INIT;
	struct sigv4 sig;
	enum llm_status st = LLM_OK;
	cJSON *doc = NULL;

	if (!set(rq->api_key) &&
		(!set(p->access_key_id) || !set(p->secret_access_key))) {
		no_credentials(p, err);
		st = LLM_ERR_AUTH;
		goto out;
	}
	/* The model id is one path segment: ':' and '/' are escaped. */
	provider_url(&url, p, "/model/");
	http_escape(&url, rq->model->id);
	buf_adds(&url, rq->stream ? "/converse-stream" : "/converse");
	http_request_set(h, "POST", url.ptr);
	http_request_header(h, "Content-Type", "application/json", false);
	http_request_header(h, "Accept",
		rq->stream ? "application/vnd.amazon.eventstream" :
			     "application/json",
		false);
	doc = cJSON_CreateObject();
	build_body(rq, doc);
	json_print(doc, &h->body);
	if (set(rq->api_key)) {
		buf_addf(&auth, "Bearer %s", rq->api_key);
		http_request_header(h, "Authorization", auth.ptr, true);
		goto out;
	}
	memset(&sig, 0, sizeof(sig));
	sig.access_key_id = p->access_key_id;
	sig.secret_access_key = p->secret_access_key;
	sig.session_token = p->session_token;
	sig.region = set(p->region) ? p->region : "us-east-1";
	sig.service = "bedrock";
	sig.now = now;
	st = sigv4_sign(h, &sig, err);
out:
	cJSON_Delete(doc);
	if (auth.len)
		memset(auth.ptr, 0, auth.len);
	buf_release(&auth);
	buf_release(&url);
	return st;
}

static enum llm_status
build(const struct llm_request *rq, struct http_request *h, struct buf *err)
{
	return bedrock_build_at(rq, time(NULL), h, err);
}

static void
take_usage(struct llm_result *res, const cJSON *u)
{
	if (!cJSON_IsObject(u))
		return;
	res->usage.input = json_long(u, "inputTokens", res->usage.input);
	res->usage.output = json_long(u, "outputTokens", res->usage.output);
	res->usage.cached = json_long(u, "cacheReadInputTokens",
		res->usage.cached);
}

/* The status for an exception's name (any case of its first letter). */
static enum llm_status
exception_status(const char *name, size_t n)
{
	static const struct {
		const char *name;
		enum llm_status st;
	} map[] = {
		{ "throttlingException", LLM_ERR_TEMP },
		{ "modelTimeoutException", LLM_ERR_TEMP },
		{ "modelNotReadyException", LLM_ERR_TEMP },
		{ "serviceQuotaExceededException", LLM_ERR_TEMP },
		{ "validationException", LLM_ERR_DATA },
		{ "accessDeniedException", LLM_ERR_AUTH },
		{ "resourceNotFoundException", LLM_ERR_CONFIG },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].name) == n &&
			strncasecmp(map[i].name, name, n) == 0)
			return map[i].st;
	/* modelStreamErrorException, internalServerException,
	 * serviceUnavailableException and the unknown */
	return LLM_ERR_UNAVAILABLE;
}

/* A failure inside the stream: an exception message (name in
 * :exception-type, {"message":…} payload) or an error message
 * (:error-code, :error-message). */
static enum llm_status
stream_failure(struct provider_stream *ps, const struct eventstream_message *m,
	bool exception)
{
	const struct eventstream_header *type, *text;
	cJSON *doc = NULL;
	const char *msg = NULL;
	enum llm_status st;

	type = eventstream_header(m, exception ? ":exception-type" :
						 ":error-code");
	if (type && type->type != EVENTSTREAM_STRING)
		type = NULL;
	buf_setf(&ps->err, "error in the stream: ");
	if (type)
		buf_addf(&ps->err, "%.*s: ", (int)type->n,
			(const char *)type->p);
	if (exception) {
		doc = json_parse((const char *)m->payload, m->payload_len);
		msg = json_str(doc, "message");
		if (msg == NULL)
			msg = json_str(doc, "Message");
		buf_adds(&ps->err, msg && *msg ? msg : "no error message");
	} else {
		text = eventstream_header(m, ":error-message");
		if (text && text->type == EVENTSTREAM_STRING)
			buf_add(&ps->err, text->p, text->n);
		else
			buf_adds(&ps->err, "no error message");
	}
	st = type ? exception_status((const char *)type->p, type->n) :
		    LLM_ERR_UNAVAILABLE;
	cJSON_Delete(doc);
	return st;
}

static int
on_message(void *ud, const struct eventstream_message *m)
{
	struct provider_stream *ps = ud;
	struct llm_result *res = ps->res;
	const struct eventstream_header *type;
	cJSON *doc = NULL, *delta, *text;
	enum llm_status st = LLM_OK;
	bool delta_ev, stop_ev, meta_ev;

	if (eventstream_header_is(m, ":message-type", "exception")) {
		st = stream_failure(ps, m, true);
		goto out;
	}
	if (eventstream_header_is(m, ":message-type", "error")) {
		st = stream_failure(ps, m, false);
		goto out;
	}
	type = eventstream_header(m, ":message-type");
	if (type && !eventstream_header_is(m, ":message-type", "event"))
		goto out; /* a kind of message this client does not know */
	delta_ev = eventstream_header_is(m, ":event-type",
		"contentBlockDelta");
	stop_ev = eventstream_header_is(m, ":event-type", "messageStop");
	meta_ev = eventstream_header_is(m, ":event-type", "metadata");
	if (!delta_ev && !stop_ev && !meta_ev)
		goto out; /* messageStart, contentBlockStart/Stop, others */
	doc = json_parse((const char *)m->payload, m->payload_len);
	if (doc == NULL) {
		buf_setf(&ps->err, "malformed event in the stream: '%.*s'",
			(int)(m->payload_len < 60 ? m->payload_len : 60),
			(const char *)m->payload);
		st = LLM_ERR_DATA;
		goto out;
	}
	if (delta_ev) {
		delta = json_obj(doc, "delta");
		text = delta ? cJSON_GetObjectItemCaseSensitive(delta, "text") :
			       NULL;
		if (cJSON_IsString(text))
			st = provider_text(ps, text->valuestring,
				strlen(text->valuestring));
	} else if (stop_ev) {
		provider_set_finish(res, json_str(doc, "stopReason"));
		res->done = true;
		ps->state |= GOT_STOP;
	} else {
		take_usage(res, cJSON_GetObjectItemCaseSensitive(doc, "usage"));
		ps->state |= GOT_METADATA;
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
	if (ps->st)
		return ps->st;
	/* ps->line keeps the bytes of an incomplete message. */
	ps->st = eventstream_push(&ps->line, p, n, on_message, ps, &ps->err);
	return ps->st;
}

static enum llm_status
end(struct provider_stream *ps)
{
	if (ps->st)
		return ps->st;
	if (ps->line.len) {
		buf_setf(&ps->err,
			"the stream ended inside an event-stream message "
			"(%zu bytes left)",
			ps->line.len);
		return ps->st = LLM_ERR_DATA;
	}
	if (!(ps->state & GOT_STOP)) {
		buf_setf(&ps->err, "the stream ended without messageStop");
		return ps->st = LLM_ERR_DATA;
	}
	return LLM_OK;
}

static enum llm_status
parse(const char *b, size_t n, struct llm_result *res, struct buf *err)
{
	cJSON *doc = json_parse(b, n), *out, *msg, *content, *c;
	enum llm_status st = LLM_OK;
	const char *s;

	if (doc == NULL) {
		buf_setf(err, "malformed reply: not JSON: '%.60s'", b);
		return LLM_ERR_DATA;
	}
	out = json_obj(doc, "output");
	msg = out ? json_obj(out, "message") : NULL;
	if (msg == NULL) {
		s = json_str(doc, "message");
		if (s == NULL)
			s = json_str(doc, "Message");
		if (s) {
			buf_setf(err, "error in the reply: %s", s);
			st = LLM_ERR_UNAVAILABLE;
		} else {
			buf_setf(err, "malformed reply: no output.message");
			st = LLM_ERR_DATA;
		}
		goto out;
	}
	content = json_arr(msg, "content");
	cJSON_ArrayForEach(c, content)
	{
		s = json_str(c, "text");
		if (s)
			buf_adds(&res->text, s);
	}
	provider_set_finish(res, json_str(doc, "stopReason"));
	take_usage(res, cJSON_GetObjectItemCaseSensitive(doc, "usage"));
	res->done = true;
out:
	cJSON_Delete(doc);
	return st;
}

/* {"message":…} (or "Message"); else the body's first line. */
static void
errmsg(const char *b, size_t n, struct buf *msg)
{
	cJSON *doc = json_parse(b, n);
	const char *s = json_str(doc, "message"), *p, *e;

	if (s == NULL)
		s = json_str(doc, "Message");
	if (s && *s) {
		buf_adds(msg, s);
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(doc);
	for (p = b; p < b + n && (*p == ' ' || *p == '\n' || *p == '\r' ||
			       *p == '\t');
		p++)
		;
	for (e = p; e < b + n && *e != '\n' && *e != '\r' && e - p < 200;
		e++)
		;
	if (e > p)
		buf_add(msg, p, (size_t)(e - p));
	else
		buf_adds(msg, "no error message");
}

/* "NAME: message", as an exception in the stream reads, NAME being the
 * body's "__type" ("com.amazon.coral.service#ThrottlingException"),
 * else the x-amzn-ErrorType header's ("ThrottlingException:http://..."). */
static void
error_response(const struct http_response *r, struct buf *msg)
{
	cJSON *doc = json_parse(r->body.ptr, r->body.len);
	const char *type = json_str(doc, "__type"), *p;
	size_t n = 0;

	if (type) {
		n = strcspn(type, ":");
		for (p = type + n; p > type && p[-1] != '#'; p--)
			;
		n -= (size_t)(p - type);
		type = p;
	}
	if (n == 0 && r->error_type) {
		type = r->error_type;
		n = strlen(type);
	}
	if (n)
		buf_addf(msg, "%.*s: ", (int)n, type);
	errmsg(r->body.ptr, r->body.len, msg);
	cJSON_Delete(doc);
}

/* The status of a non-2xx answer.  Bedrock refuses a model id that it
 * does not know with 400 ValidationException "The provided model
 * identifier is invalid.": a configuration error, as an unknown model is
 * with the other providers, not bad data. */
static enum llm_status
error_status(long code, const char *b, size_t n)
{
	struct buf msg = BUF_INIT;
	enum llm_status st = provider_http_status(code);

	if (code == 400) {
		errmsg(b, n, &msg);
		if (strstr(msg.ptr, "model identifier is invalid") != NULL)
			st = LLM_ERR_CONFIG;
		buf_release(&msg);
	}
	return st;
}

/* The control plane's URL for path: https://bedrock.REGION.amazonaws.com
 * beside the default bedrock-runtime endpoint; under base_url for any
 * other (a VPC endpoint, a proxy, the test provider). */
static void
control_url(struct buf *url, const struct provider *p, const char *region,
	const char *path)
{
	static const char rt[] = "://bedrock-runtime.";
	const char *b = p->base_url ? p->base_url : "", *s = strstr(b, rt);

	if (*b == '\0' || (s && strstr(s, ".amazonaws.com") != NULL)) {
		buf_addf(url, "https://bedrock.%s.amazonaws.com%s", region,
			path);
		return;
	}
	provider_url(url, p, path);
}

enum llm_status bedrock_list_build_at(const struct provider *p,
	const char *api_key, time_t now, struct http_request *h,
	struct buf *err);

/* The foundation-model listing at the signing time now (exported for
 * tests). */
enum llm_status
bedrock_list_build_at(const struct provider *p, const char *api_key,
	time_t now, struct http_request *h, struct buf *err)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;
	const char *region = set(p->region) ? p->region : "us-east-1";
	enum llm_status st = LLM_OK;
	struct sigv4 sig;

	if (!set(api_key) &&
		(!set(p->access_key_id) || !set(p->secret_access_key))) {
		no_credentials(p, err);
		st = LLM_ERR_AUTH;
		goto out;
	}
	control_url(&url, p, region, "/foundation-models");
	http_request_set(h, "GET", url.ptr);
	http_request_header(h, "Accept", "application/json", false);
	if (set(api_key)) {
		buf_addf(&auth, "Bearer %s", api_key);
		http_request_header(h, "Authorization", auth.ptr, true);
		goto out;
	}
	memset(&sig, 0, sizeof(sig));
	sig.access_key_id = p->access_key_id;
	sig.secret_access_key = p->secret_access_key;
	sig.session_token = p->session_token;
	sig.region = region;
	sig.service = "bedrock";
	sig.now = now;
	st = sigv4_sign(h, &sig, err);
out:
	if (auth.len)
		memset(auth.ptr, 0, auth.len);
	buf_release(&auth);
	buf_release(&url);
	return st;
}

static enum llm_status
list_build(const struct provider *p, const char *api_key,
	struct http_request *h, struct buf *err)
{
	return bedrock_list_build_at(p, api_key, time(NULL), h, err);
}

/* modelSummaries[].modelId, one per line. */
static enum llm_status
list_parse(const char *b, size_t n, struct buf *ids, struct buf *err)
{
	cJSON *doc = json_parse(b, n), *list, *m;
	const char *id;

	list = doc ? json_arr(doc, "modelSummaries") : NULL;
	if (!cJSON_IsArray(list)) {
		buf_setf(err, "malformed model list: no modelSummaries[]");
		cJSON_Delete(doc);
		return LLM_ERR_DATA;
	}
	cJSON_ArrayForEach(m, list)
	{
		if ((id = json_str(m, "modelId")) != NULL && *id)
			buf_addf(ids, "%s\n", id);
	}
	cJSON_Delete(doc);
	return LLM_OK;
}

const struct provider_ops bedrock_ops = {
	.type = "bedrock",
	.build = build,
	.parse = parse,
	.feed = feed,
	.end = end,
	.error = errmsg,
	.error_response = error_response,
	.error_status = error_status,
	.list_build = list_build,
	.list_parse = list_parse,
};
