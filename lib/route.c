/* route.c - which models of a group serve a request; see route.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route.h"
#include "xalloc.h"

void
route_release(struct route *rt)
{
	free(rt->order);
	free(rt->shadows);
	memset(rt, 0, sizeof(*rt));
}

static void
push(const char ***v, size_t *n, const char *ref)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = ref;
}

/* Move member k to the front of v[0..n-1]. */
static void
to_front(const char **v, size_t k)
{
	const char *x = v[k];

	memmove(v + 1, v, k * sizeof(*v));
	v[0] = x;
}

/* A draw by weight among the candidates (their indexes into the group's
 * members in idx). */
static size_t
draw(const struct group *g, const size_t *idx, size_t n,
	const struct route_env *env)
{
	double total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		total += g->weights ? g->weights[idx[i]] : 1;
	if (total <= 0)
		return 0;
	r = (env && env->random ? env->random(env->ud) :
				  (double)rand() / ((double)RAND_MAX + 1)) *
		total;
	for (i = 0; i + 1 < n; i++) {
		r -= g->weights ? g->weights[idx[i]] : 1;
		if (r < 0)
			break;
	}
	return i;
}

/* Members whose provider cools down go after the healthy ones, keeping
 * the order within each part. */
static void
cooled_last(struct registry *reg, const char **v, size_t n,
	const struct route_env *env)
{
	const char **tmp;
	bool *cool;
	size_t i, k = 0;

	if (env == NULL || env->cooldown == NULL || n < 2)
		return;
	tmp = xcalloc(n, sizeof(*tmp));
	cool = xcalloc(n, sizeof(*cool));
	for (i = 0; i < n; i++) {
		struct model *m = NULL;
		struct provider *p = NULL;
		struct buf e = BUF_INIT;

		if (registry_resolve(reg, v[i], &m, &p, &e) == LLM_OK)
			cool[i] = env->cooldown(env->ud, p->name) > 0;
		buf_release(&e);
	}
	for (i = 0; i < n; i++)
		if (!cool[i])
			tmp[k++] = v[i];
	for (i = 0; i < n; i++)
		if (cool[i])
			tmp[k++] = v[i];
	memcpy(v, tmp, n * sizeof(*v));
	free(tmp);
	free(cool);
}

enum llm_status
route_plan(struct registry *reg, const char *ref, long prompt_tokens,
	long max_tokens, const struct route_env *env, struct route *rt,
	struct buf *err)
{
	struct group *g = registry_group(reg, ref);
	size_t *idx, i, k;
	long need = prompt_tokens + (max_tokens > 0 ? max_tokens : 0);
	long largest = 0;

	memset(rt, 0, sizeof(*rt));
	rt->group = g;
	if (g == NULL) {
		push(&rt->order, &rt->n, ref);
		return LLM_OK;
	}
	idx = xcalloc(g->nmodels ? g->nmodels : 1, sizeof(*idx));
	for (i = 0; i < g->nmodels; i++) {
		struct model *m = NULL;
		struct provider *p = NULL;
		struct buf e = BUF_INIT;

		if (registry_resolve(reg, g->models[i], &m, &p, &e) == LLM_OK &&
			m->context_window > 0) {
			if (m->context_window > largest)
				largest = m->context_window;
			if (need > m->context_window) {
				rt->skipped++;
				buf_release(&e);
				continue;
			}
		}
		buf_release(&e);
		idx[rt->n] = i;
		push(&rt->order, &rt->n, g->models[i]);
	}
	if (rt->n == 0) {
		buf_setf(err,
			"the prompt (about %ld tokens with the answer) fits no "
			"model of group '%s': the largest context window is %ld",
			need, g->name, largest);
		free(idx);
		route_release(rt);
		return LLM_ERR_USAGE;
	}
	if (strcmp(g->strategy, "shadow") == 0) {
		for (i = 1; i < rt->n; i++)
			push(&rt->shadows, &rt->nshadows, rt->order[i]);
		rt->n = 1;
		free(idx);
		return LLM_OK;
	}
	cooled_last(reg, rt->order, rt->n, env);
	if (strcmp(g->strategy, "weighted") == 0) {
		k = draw(g, idx, rt->n, env);
		/* draw() indexes the candidates in configured order. */
		for (i = 0; i < rt->n; i++)
			if (rt->order[i] == g->models[idx[k]])
				break;
		if (i < rt->n)
			to_front(rt->order, i);
	} else if (strcmp(g->strategy, "round-robin") == 0 && env &&
		env->next) {
		struct buf key = BUF_INIT;

		buf_setf(&key, "group.%s", g->name);
		k = (size_t)env->next(env->ud, key.ptr, (long)rt->n);
		buf_release(&key);
		for (i = 0; i < rt->n; i++)
			if (rt->order[i] == g->models[idx[k % rt->n]])
				break;
		if (i < rt->n)
			to_front(rt->order, i);
	}
	free(idx);
	return LLM_OK;
}

/* Whether a provider's message says the prompt was too long. */
static bool
too_long(const char *msg)
{
	static const char *const words[] = { "context_length_exceeded",
		"maximum context length", "context window", "prompt is too long",
		"input is too long", "too many tokens", "reduce the length",
		NULL };
	size_t i;

	for (i = 0; words[i]; i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

/* Whether it says a content policy refused the request. */
static bool
refused(const char *msg)
{
	static const char *const words[] = { "content_policy",
		"content_filter", "content management policy",
		"responsible ai", "safety", NULL };
	size_t i, k, n = strlen(msg);

	for (i = 0; words[i]; i++) {
		size_t w = strlen(words[i]);

		for (k = 0; k + w <= n; k++)
			if (strncasecmp(msg + k, words[i], w) == 0)
				return true;
	}
	return false;
}

bool
route_may_fall_back(const struct call *c, bool atomic)
{
	bool printed = c->started && !atomic;

	switch (c->st) {
	case LLM_OK:
		/* A refusal without text, or any refusal not yet printed. */
		return !printed && c->res.finish &&
			strcmp(c->res.finish, "content_filter") == 0 &&
			(atomic || c->res.text.len == 0);
	case LLM_ERR_UNAVAILABLE:
	case LLM_ERR_TEMP:
	case LLM_ERR_AUTH:
	case LLM_ERR_CONFIG:
		return !printed;
	case LLM_ERR_DATA:
		/* A broken answer not yet printed, or a 400 that says the
		 * prompt is too long or a policy refused it. */
		if (atomic)
			return true;
		return !printed && c->http_status >= 400 &&
			(too_long(c->err.ptr) || refused(c->err.ptr));
	default:
		return false;
	}
}
