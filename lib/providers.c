/* providers.c - llm-providers' job; see providers.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "http.h"
#include "json.h"
#include "msg.h"
#include "provider.h"
#include "providers.h"
#include "table.h"
#include "xalloc.h"

#define DEFAULT_PROBE_TIMEOUT 10.0

/* One selected provider and what was found out about it. */
struct entry {
	struct provider *p;
	const struct provider_ops *ops;
	const char *status; /* static */
	bool probe;         /* to be probed */
	struct buf key, msg, ids;
	struct http_request rq;
	struct http_call call;
	enum llm_status st;
	long ms;
	long cooldown; /* seconds left of a cooldown after a failure */
};

static bool
has_key(const struct provider *p)
{
	if (p->api_key || p->api_key_cmd)
		return true;
	if (strcmp(p->type, "bedrock") == 0)
		return p->access_key_id && *p->access_key_id &&
			p->secret_access_key && *p->secret_access_key;
	return !p->auth;
}

/* The status that needs no network. */
static const char *
static_status(const struct provider *p)
{
	if (!p->enabled)
		return "disabled";
	if (strcmp(p->type, "mock") != 0 && (p->base_url == NULL ||
						    *p->base_url == '\0'))
		return "no base_url";
	if (!has_key(p))
		return "no key";
	return "ready";
}

static size_t
model_count(const struct registry *r, const struct provider *p)
{
	size_t i, n = 0;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i]->alias &&
			strcmp(r->models[i]->provider, p->name) == 0)
			n++;
	return n;
}

static enum llm_status
select_entries(struct registry *r, const struct providers_opts *o,
	struct entry **ep, size_t *np, struct buf *err)
{
	struct entry *e;
	size_t n = 0, i;
	int k;

	e = xcalloc(r->nproviders + (size_t)o->nnames + 1, sizeof(*e));
	*ep = e;
	if (o->nnames == 0) {
		for (i = 0; i < r->nproviders; i++)
			e[n++].p = r->providers[i];
	}
	for (k = 0; k < o->nnames; k++) {
		struct provider *p = registry_provider(r, o->names[k]);

		if (p == NULL) {
			buf_setf(err, "unknown provider '%s'", o->names[k]);
			registry_suggest(r, o->names[k], err);
			*np = n;
			return LLM_ERR_CONFIG;
		}
		e[n++].p = p;
	}
	for (i = 0; i < n; i++) {
		e[i].ops = provider_ops_find(e[i].p->type);
		e[i].status = static_status(e[i].p);
		e[i].key.ptr = e[i].msg.ptr = e[i].ids.ptr = buf_empty;
		e[i].rq.body.ptr = buf_empty;
	}
	*np = n;
	return LLM_OK;
}

static void
release_entries(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].key.len)
			memset(e[i].key.ptr, 0, e[i].key.len);
		buf_release(&e[i].key);
		buf_release(&e[i].msg);
		buf_release(&e[i].ids);
		http_call_release(&e[i].call);
		http_request_release(&e[i].rq);
	}
	free(e);
}

/* Probe the entries that can be probed, all at once. */
static void
probe(struct entry *e, size_t n, double timeout)
{
	struct http_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t i, nc = 0;

	for (i = 0; i < n; i++) {
		struct entry *x = &e[i];

		if (strcmp(x->status, "ready") != 0)
			continue;
		if (strcmp(x->p->type, "mock") == 0) {
			x->status = "ok";
			continue;
		}
		if (x->ops->list_build == NULL) {
			x->status = "unchecked";
			buf_setf(&x->msg, "type '%s' has no model listing",
				x->p->type);
			continue;
		}
		x->st = registry_api_key(x->p, &x->key, &x->msg);
		if (x->st == LLM_OK)
			x->st = x->ops->list_build(x->p, x->key.ptr, &x->rq,
				&x->msg);
		if (x->st != LLM_OK) {
			x->status = x->st == LLM_ERR_AUTH ? "no key" : "error";
			continue;
		}
		http_call_init(&x->call, &x->rq);
		x->call.timeout = timeout;
		x->call.connect_timeout = timeout;
		x->probe = true;
		calls[nc++] = &x->call;
	}
	if (nc)
		http_run(calls, nc);
	for (i = 0; i < n; i++) {
		struct entry *x = &e[i];
		long code = x->call.resp.status;

		if (!x->probe)
			continue;
		x->ms = (long)(x->call.elapsed * 1000);
		if (x->call.st != LLM_OK) {
			x->st = x->call.st;
			x->status = "unreachable";
			buf_setf(&x->msg, "%s", x->call.err.ptr);
		} else if (code == 401 || code == 403) {
			x->st = LLM_ERR_AUTH;
			x->status = "key refused";
			buf_setf(&x->msg, "HTTP %ld: ", code);
			provider_error(x->ops, &x->call.resp, &x->msg);
		} else if (code < 200 || code >= 300) {
			x->st = provider_http_status(code);
			x->status = code >= 500 ? "unreachable" : "error";
			buf_setf(&x->msg, "HTTP %ld: ", code);
			provider_error(x->ops, &x->call.resp, &x->msg);
		} else {
			x->st = x->ops->list_parse(x->call.resp.body.ptr,
				x->call.resp.body.len, &x->ids, &x->msg);
			x->status = x->st == LLM_OK ? "ok" : "error";
		}
	}
	free(calls);
}

/* The cooldowns of the providers that failed recently (guard.h), from
 * the database when there is one; a provider that is ready and cooling
 * down says so. */
static void
cooldowns(const struct registry *r, struct entry *e, size_t n)
{
	struct guard *g = NULL;
	struct buf why = BUF_INIT;
	double left;
	size_t i;

	if (r->database == NULL || access(r->database, F_OK) != 0)
		goto out;
	if (guard_open(&g, r->database, &why) != LLM_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (guard_cooldown(g, e[i].p->name, &left, &why) != LLM_OK)
			goto out;
		e[i].cooldown = (long)ceil(left);
		if (e[i].cooldown > 0 && strcmp(e[i].status, "ready") == 0)
			e[i].status = "cooling down";
	}
out:
	if (why.len)
		msg_debug(1, "cannot read the cooldowns: %s", why.ptr);
	buf_release(&why);
}

static void
render_providers(const struct registry *r, struct entry *e, size_t n,
	bool checked, struct buf *out)
{
	struct table t;
	size_t i;

	table_init(&t, checked ? 6 : 5);
	t.right[3] = true;
	table_add(&t, "PROVIDER");
	table_add(&t, "TYPE");
	table_add(&t, "STATUS");
	table_add(&t, "MODELS");
	if (checked)
		table_add(&t, "MS");
	table_add(&t, checked ? "DETAIL" : "BASE URL");
	if (checked)
		t.right[4] = true;
	for (i = 0; i < n; i++) {
		table_add(&t, e[i].p->name);
		table_add(&t, e[i].p->type);
		if (strcmp(e[i].status, "cooling down") == 0)
			table_addf(&t, "cooling down (%ld s)", e[i].cooldown);
		else
			table_add(&t, e[i].status);
		table_addf(&t, "%zu", model_count(r, e[i].p));
		if (checked) {
			if (e[i].probe)
				table_addf(&t, "%ld", e[i].ms);
			else
				table_add(&t, "-");
			table_add(&t, e[i].msg.len ? e[i].msg.ptr :
				      e[i].p->base_url ? e[i].p->base_url :
							 "");
		} else {
			table_add(&t, e[i].p->base_url ? e[i].p->base_url :
							 "-");
		}
	}
	table_render(&t, out);
	table_release(&t);
}

static bool
has_tag(const struct model *m, const char *tag)
{
	size_t i;

	for (i = 0; i < m->ntags; i++)
		if (strcmp(m->tags[i], tag) == 0)
			return true;
	return false;
}

static bool
selected(const struct entry *e, size_t n, const char *provider)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].p->name, provider) == 0)
			return true;
	return false;
}

static void
price(struct buf *b, double v)
{
	buf_reset(b);
	if (v < 0)
		buf_adds(b, "-");
	else
		buf_addf(b, "%.4g", v);
}

static void
render_models(const struct registry *r, const struct providers_opts *o,
	struct entry *e, size_t n, struct buf *out)
{
	struct buf in = BUF_INIT, outp = BUF_INIT, tags = BUF_INIT;
	cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
	struct table t;
	size_t i, k;

	table_init(&t, 6);
	t.right[2] = t.right[3] = t.right[4] = true;
	table_add(&t, "MODEL");
	table_add(&t, "PROVIDER");
	table_add(&t, "CONTEXT");
	table_add(&t, "IN $/M");
	table_add(&t, "OUT $/M");
	table_add(&t, "TAGS");
	for (i = 0; i < r->nmodels; i++) {
		const struct model *m = r->models[i];

		if (m->alias == NULL || !selected(e, n, m->provider) ||
			(o->tag && !has_tag(m, o->tag)))
			continue;
		buf_reset(&tags);
		for (k = 0; k < m->ntags; k++)
			buf_addf(&tags, "%s%s", k ? "," : "", m->tags[k]);
		if (arr) {
			cJSON *j = cJSON_CreateObject(), *ta;

			cJSON_AddStringToObject(j, "model", m->alias);
			cJSON_AddStringToObject(j, "provider", m->provider);
			cJSON_AddStringToObject(j, "id", m->id);
			if (m->context_window > 0)
				json_add_number(j, "context_window",
					(double)m->context_window);
			else
				cJSON_AddNullToObject(j, "context_window");
			if (m->max_output_tokens > 0)
				json_add_number(j, "max_output_tokens",
					(double)m->max_output_tokens);
			else
				cJSON_AddNullToObject(j, "max_output_tokens");
			if (m->has_cost) {
				json_add_number(j, "input_cost", m->input_cost);
				json_add_number(j, "output_cost",
					m->output_cost);
			} else {
				cJSON_AddNullToObject(j, "input_cost");
				cJSON_AddNullToObject(j, "output_cost");
			}
			ta = cJSON_AddArrayToObject(j, "tags");
			for (k = 0; k < m->ntags; k++)
				cJSON_AddItemToArray(ta,
					cJSON_CreateString(m->tags[k]));
			cJSON_AddItemToArray(arr, j);
			continue;
		}
		table_add(&t, m->alias);
		table_addf(&t, "%s/%s", m->provider, m->id);
		if (m->context_window > 0)
			table_addf(&t, "%ld", m->context_window);
		else
			table_add(&t, "-");
		price(&in, m->has_cost ? m->input_cost : -1);
		price(&outp, m->has_cost ? m->output_cost : -1);
		table_add(&t, in.ptr);
		table_add(&t, outp.ptr);
		table_add(&t, tags.ptr);
	}
	if (arr) {
		json_print(arr, out);
		buf_addch(out, '\n');
		cJSON_Delete(arr);
	} else {
		table_render(&t, out);
	}
	table_release(&t);
	buf_release(&in);
	buf_release(&outp);
	buf_release(&tags);
}

/* Whether the registry has PROVIDER/ID; "NAME:latest" (Ollama) also
 * matches a model named NAME. */
static bool
known(const struct registry *r, const char *ref)
{
	size_t n = strlen(ref);
	char *base;
	bool found;

	if (registry_model(r, ref))
		return true;
	if (n <= 7 || strcmp(ref + n - 7, ":latest") != 0)
		return false;
	base = xstrndup(ref, n - 7);
	found = registry_model(r, base) != NULL;
	free(base);
	return found;
}

static void
render_json(const struct registry *r, struct entry *e, size_t n,
	const struct providers_opts *o, struct buf *out)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "provider", e[i].p->name);
		cJSON_AddStringToObject(j, "type", e[i].p->type);
		cJSON_AddStringToObject(j, "status", e[i].status);
		if (e[i].p->base_url)
			cJSON_AddStringToObject(j, "base_url",
				e[i].p->base_url);
		else
			cJSON_AddNullToObject(j, "base_url");
		json_add_number(j, "models", (double)model_count(r, e[i].p));
		cJSON_AddBoolToObject(j, "enabled", e[i].p->enabled);
		json_add_number(j, "cooldown_s", (double)e[i].cooldown);
		if (o->check || o->discover) {
			if (e[i].probe)
				json_add_number(j, "latency_ms",
					(double)e[i].ms);
			else
				cJSON_AddNullToObject(j, "latency_ms");
			if (e[i].msg.len)
				cJSON_AddStringToObject(j, "error",
					e[i].msg.ptr);
			else
				cJSON_AddNullToObject(j, "error");
		}
		if (o->discover) {
			cJSON *served = cJSON_AddArrayToObject(j, "served");
			cJSON *missing = cJSON_AddArrayToObject(j, "missing");
			const char *p = e[i].ids.ptr, *nl;
			struct buf ref = BUF_INIT;

			for (; *p; p = nl + 1) {
				nl = strchr(p, '\n');
				if (nl == NULL)
					break;
				buf_reset(&ref);
				buf_addf(&ref, "%s/%.*s", e[i].p->name,
					(int)(nl - p), p);
				cJSON_AddItemToArray(served,
					cJSON_CreateString(ref.ptr + strlen(
						e[i].p->name) + 1));
				if (!known(r, ref.ptr))
					cJSON_AddItemToArray(missing,
						cJSON_CreateString(ref.ptr));
			}
			buf_release(&ref);
		}
		cJSON_AddItemToArray(arr, j);
	}
	json_print(arr, out);
	buf_addch(out, '\n');
	cJSON_Delete(arr);
}

/* PROVIDER/ID of every served model the registry lacks, one a line. */
static void
render_discover(const struct registry *r, struct entry *e, size_t n,
	struct buf *out)
{
	struct buf ref = BUF_INIT;
	const char *p, *nl;
	size_t i;

	for (i = 0; i < n; i++) {
		for (p = e[i].ids.ptr; (nl = strchr(p, '\n')) != NULL;
			p = nl + 1) {
			buf_reset(&ref);
			buf_addf(&ref, "%s/%.*s", e[i].p->name, (int)(nl - p),
				p);
			if (!known(r, ref.ptr))
				buf_addf(out, "%s\n", ref.ptr);
		}
	}
	buf_release(&ref);
}

enum llm_status
providers_run(struct registry *r, const struct providers_opts *o,
	struct buf *out, struct buf *err)
{
	struct entry *e = NULL;
	enum llm_status st;
	size_t n = 0, i;

	st = select_entries(r, o, &e, &n, err);
	if (st != LLM_OK)
		goto out;
	if (o->models) {
		render_models(r, o, e, n, out);
		goto out;
	}
	if (o->check || o->discover)
		probe(e, n, o->timeout > 0 ? o->timeout :
					     DEFAULT_PROBE_TIMEOUT);
	if (!o->discover || o->json)
		cooldowns(r, e, n);
	if (o->json)
		render_json(r, e, n, o, out);
	else if (o->discover)
		render_discover(r, e, n, out);
	else
		render_providers(r, e, n, o->check, out);
	/* Down: a probe that failed, or a provider named on the command
	 * line that could not even be probed. */
	for (i = 0; (o->check || o->discover) && i < n; i++) {
		const char *s = e[i].status;

		if (strcmp(s, "ok") == 0 || strcmp(s, "unchecked") == 0)
			continue;
		if (!e[i].probe && o->nnames == 0)
			continue;
		st = e[i].probe ? e[i].st :
		     strcmp(s, "no key") == 0 ? LLM_ERR_AUTH :
						LLM_ERR_CONFIG;
		buf_setf(err, "provider '%s': %s%s%s", e[i].p->name, s,
			e[i].msg.len ? ": " : "", e[i].msg.ptr);
		break;
	}
out:
	release_entries(e, n);
	return st;
}
