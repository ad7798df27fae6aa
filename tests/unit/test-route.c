/* test-route.c - unit tests of lib/route: the order in which a group's
 * members serve, and when the next one may take over. */
#include <string.h>

#include "cfg.h"
#include "registry.h"
#include "route.h"
#include "tap.h"

static const char config[] =
	"[provider.a]\ntype = mock\n"
	"[provider.b]\ntype = mock\n"
	"[model.small]\nprovider = a\ncontext_window = 100\n"
	"[model.big]\nprovider = b\ncontext_window = 1000\n"
	"[group.fb]\nmodels = small, big, a/x\n"
	"[group.w]\nmodels = small, big, a/x\nstrategy = weighted\n"
	"weights = 1, 2, 1\n"
	"[group.rr]\nmodels = small, big, a/x\nstrategy = round-robin\n"
	"[group.sh]\nmodels = big, small, a/x\nstrategy = shadow\n";

static double draw_value;
static long next_value;
static char next_key[64];
static const char *cool_provider;

static double
fake_cooldown(void *ud, const char *provider)
{
	(void)ud;
	return cool_provider && strcmp(provider, cool_provider) == 0 ? 12 : 0;
}

static long
fake_next(void *ud, const char *key, long n)
{
	(void)ud;
	snprintf(next_key, sizeof(next_key), "%s", key);
	return next_value % n;
}

static double
fake_random(void *ud)
{
	(void)ud;
	return draw_value;
}

static const struct route_env env = { fake_cooldown, fake_next, fake_random,
	NULL };

/* The route's order as "a b c", shadows after a '|'. */
static const char *
plan(struct registry *r, const char *ref, long tokens)
{
	static struct buf out = BUF_INIT;
	struct buf err = BUF_INIT;
	struct route rt;
	size_t i;

	buf_reset(&out);
	if (route_plan(r, ref, tokens, 0, &env, &rt, &err) != LLM_OK) {
		buf_setf(&out, "error: %s", err.ptr);
		buf_release(&err);
		return out.ptr;
	}
	for (i = 0; i < rt.n; i++)
		buf_addf(&out, "%s%s", i ? " " : "", rt.order[i]);
	if (rt.nshadows)
		buf_adds(&out, " |");
	for (i = 0; i < rt.nshadows; i++)
		buf_addf(&out, " %s", rt.shadows[i]);
	if (rt.skipped)
		buf_addf(&out, " (%zu skipped)", rt.skipped);
	route_release(&rt);
	buf_release(&err);
	return out.ptr;
}

static void
test_plan(void)
{
	struct registry r = REGISTRY_INIT;
	struct cfg c = CFG_INIT;
	struct buf err = BUF_INIT;

	ok(cfg_load_string(&c, config, "t.ini", &err) == LLM_OK &&
			registry_load(&r, &c, &err) == LLM_OK,
		"the configuration loads");
	is_str(plan(&r, "small", 5000), "small",
		"a plain model is a route of one, whatever its size");
	is_str(plan(&r, "fb", 10), "small big a/x", "fallback: in order");
	is_str(plan(&r, "fb", 500), "big a/x (1 skipped)",
		"a context window too small is left out");
	is_str(plan(&r, "fb", 5000), "a/x (2 skipped)",
		"an unknown context window is never left out");
	cool_provider = "a";
	is_str(plan(&r, "fb", 10), "big small a/x",
		"a provider that cools down goes last");
	cool_provider = NULL;
	draw_value = 0.1;
	is_str(plan(&r, "w", 10), "small big a/x", "weighted: 0.1 of 4");
	draw_value = 0.5;
	is_str(plan(&r, "w", 10), "big small a/x", "weighted: 0.5 of 4");
	draw_value = 0.9;
	is_str(plan(&r, "w", 10), "a/x small big", "weighted: 0.9 of 4");
	next_value = 1;
	is_str(plan(&r, "rr", 10), "big small a/x",
		"round-robin: the rotation's position first");
	is_str(next_key, "group.rr", "the rotation is named after the group");
	next_value = 5;
	is_str(plan(&r, "rr", 10), "a/x small big", "position modulo members");
	is_str(plan(&r, "sh", 10), "big | small a/x",
		"shadow: the first answers, the others shadow");
	registry_release(&r);
	cfg_release(&c);
	buf_release(&err);
}

static void
test_fall_back(void)
{
	struct call c;

	call_init(&c);
	c.st = LLM_ERR_UNAVAILABLE;
	ok(route_may_fall_back(&c, false), "unavailable: yes");
	c.st = LLM_ERR_TEMP;
	ok(route_may_fall_back(&c, false), "rate limited or timed out: yes");
	c.started = true;
	ok(!route_may_fall_back(&c, false), "not after text was printed");
	ok(route_may_fall_back(&c, true), "but yes when it was held back");
	c.started = false;
	c.st = LLM_ERR_DATA;
	ok(!route_may_fall_back(&c, false), "a malformed answer: no");
	ok(route_may_fall_back(&c, true), "unless --atomic");
	c.http_status = 400;
	buf_setf(&c.err, "p: HTTP 400: This model's maximum context length is "
			 "8192 tokens");
	ok(route_may_fall_back(&c, false), "a prompt too long for the model");
	buf_setf(&c.err, "p: HTTP 400: blocked by the Content Management "
			 "Policy");
	ok(route_may_fall_back(&c, false), "a content policy's refusal");
	buf_setf(&c.err, "p: HTTP 400: unknown field 'foo'");
	ok(!route_may_fall_back(&c, false), "other bad requests: no");
	c.st = LLM_OK;
	ok(!route_may_fall_back(&c, false), "success: no");
	provider_set_finish(&c.res, "content_filter");
	ok(route_may_fall_back(&c, false), "a refusal without text: yes");
	buf_adds(&c.res.text, "partial");
	ok(!route_may_fall_back(&c, false), "with text printed: no");
	c.st = LLM_ERR_INTERRUPTED;
	ok(!route_may_fall_back(&c, true), "interrupted: never");
	call_release(&c);
}

int
main(void)
{
	test_plan();
	test_fall_back();
	return tap_done();
}
