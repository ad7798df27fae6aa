/*
 * route.h - which models of a group serve a request, and in what order
 * (DESIGN.md's [group.NAME] strategies).
 *
 *   fallback     the members in order;
 *   weighted     one member drawn by weight (the A/B arm), then the
 *                others in order as fallbacks;
 *   round-robin  the next member of a rotation that all processes share,
 *                then the others in order;
 *   shadow       the first member answers; the others get the same
 *                request at the same time, logged and never printed.
 *
 * Members whose context_window cannot hold the prompt are left out, and
 * members whose provider is cooling down after a failure go last.  A
 * plain model reference is a route of one.
 *
 * The shared state (cooldowns, the rotation) comes through struct
 * route_env, so that this module stays free of the database.
 */
#ifndef LLM_ROUTE_H
#define LLM_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "call.h"
#include "registry.h"

struct route_env {
	/* Seconds left of provider's cooldown, 0 when it is healthy. */
	double (*cooldown)(void *ud, const char *provider);
	/* The next position, 0..n-1, of the rotation named key. */
	long (*next)(void *ud, const char *key, long n);
	/* A number in [0, 1) for weighted draws. */
	double (*random)(void *ud);
	void *ud;
};

struct route {
	struct group *group;  /* NULL for a plain model */
	const char **order;   /* the references to try, in order */
	size_t n;
	const char **shadows; /* shadow strategy: the models that shadow */
	size_t nshadows;
	size_t skipped;       /* left out: their context is too small */
};

/*
 * Plan the route of ref for a prompt of prompt_tokens (estimated) plus
 * max_tokens to generate.  LLM_ERR_USAGE when no member can hold the
 * prompt (err names the largest context window); LLM_ERR_CONFIG for an
 * unknown reference.
 */
enum llm_status route_plan(struct registry *reg, const char *ref,
	long prompt_tokens, long max_tokens, const struct route_env *env,
	struct route *rt, struct buf *err);
void route_release(struct route *rt);

/* Whether a failed call lets the next member take over: call.h's rule,
 * plus a prompt too long for the model and a refusal by a content
 * policy; with atomic (nothing was printed yet) also a failure after
 * text arrived. */
bool route_may_fall_back(const struct call *c, bool atomic);

#endif
