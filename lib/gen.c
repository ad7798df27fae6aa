/* gen.c - the generation options the programs share; see gen.h. */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "opt.h"
#include "prompt.h"
#include "xalloc.h"

void
gen_opts_add_stop(struct gen_opts *g, const char *s)
{
	g->stop = xgrowarray(g->stop, &g->stop_alloc, g->nstop + 1,
		sizeof(*g->stop));
	g->stop[g->nstop++] = s;
}

void
gen_opts_add_option(struct gen_opts *g, const char *kv)
{
	g->options = xgrowarray(g->options, &g->options_alloc,
		g->noptions + 1, sizeof(*g->options));
	g->options[g->noptions++] = kv;
}

void
gen_opts_release(struct gen_opts *g)
{
	free(g->stop);
	free(g->options);
	g->stop = NULL;
	g->options = NULL;
	g->nstop = g->noptions = 0;
	g->stop_alloc = g->options_alloc = 0;
}

static int
bad(struct buf *err, const char *name, const char *errstr, const char *arg)
{
	buf_setf(err, "%s is %s: '%s'", name, errstr, arg);
	return -1;
}

int
gen_opts_parse(struct gen_opts *g, int ch, const char *arg, struct buf *err)
{
	const char *errstr;
	long n;

	switch (ch) {
	case 'o':
		if (strchr(arg, '=') == NULL || *arg == '=') {
			buf_setf(err, "option must be KEY=VALUE: '%s'", arg);
			return -1;
		}
		gen_opts_add_option(g, arg);
		break;
	case 's':
		g->system = arg;
		break;
	case 't':
		if (!opt_double(arg, 0, 2, &g->temperature, &errstr))
			return bad(err, "temperature", errstr, arg);
		g->has_temperature = true;
		break;
	case GEN_OPT_MAX_TOKENS:
		if (!opt_long(arg, 1, 100000000, &g->max_tokens, &errstr))
			return bad(err, "max-tokens", errstr, arg);
		break;
	case GEN_OPT_NO_STREAM:
		g->no_stream = true;
		break;
	case GEN_OPT_RETRIES:
		if (!opt_long(arg, 0, 100, &n, &errstr))
			return bad(err, "retries", errstr, arg);
		g->retries = (int)n;
		break;
	case GEN_OPT_STOP:
		gen_opts_add_stop(g, arg);
		break;
	case GEN_OPT_SYSTEM_FILE:
		g->system_file = arg;
		break;
	case GEN_OPT_TIMEOUT:
		if (!opt_double(arg, 0.001, 86400, &g->timeout, &errstr))
			return bad(err, "timeout", errstr, arg);
		break;
	case GEN_OPT_CONNECT_TIMEOUT:
		if (!opt_double(arg, 0.001, 86400, &g->connect_timeout,
			    &errstr))
			return bad(err, "connect-timeout", errstr, arg);
		break;
	case GEN_OPT_FIRST_BYTE_TIMEOUT:
		if (!opt_double(arg, 0.001, 86400, &g->first_byte_timeout,
			    &errstr))
			return bad(err, "first-byte-timeout", errstr, arg);
		break;
	case GEN_OPT_IDLE_TIMEOUT:
		if (!opt_double(arg, 0.001, 86400, &g->idle_timeout, &errstr))
			return bad(err, "idle-timeout", errstr, arg);
		break;
	case GEN_OPT_NO_WAIT:
		g->no_wait = true;
		break;
	case GEN_OPT_CACHE:
	case GEN_OPT_NO_CACHE:
		g->cache = ch == GEN_OPT_CACHE;
		break;
	case GEN_OPT_TOP_P:
		if (!opt_double(arg, 0, 1, &g->top_p, &errstr))
			return bad(err, "top-p", errstr, arg);
		g->has_top_p = true;
		break;
	default:
		return 0;
	}
	return 1;
}

enum llm_status
gen_opts_system(const struct gen_opts *g, struct buf *out, struct buf *err)
{
	enum llm_status st;

	buf_reset(out);
	if (g->system) {
		buf_adds(out, g->system);
		return LLM_OK;
	}
	if (g->system_file &&
		(st = prompt_read_file(g->system_file, out, err)) != LLM_OK)
		return st;
	return LLM_OK;
}

/* The first value that is set (> 0). */
static double
pick(double a, double b, double c)
{
	return a > 0 ? a : b > 0 ? b : c;
}

void
gen_opts_apply(const struct gen_opts *g, const struct registry *reg,
	struct call *c)
{
	const struct provider *p = c->provider;

	c->rq.has_temperature = g->has_temperature;
	c->rq.temperature = g->temperature;
	c->rq.has_top_p = g->has_top_p;
	c->rq.top_p = g->top_p;
	c->rq.max_tokens = g->max_tokens;
	c->rq.stop = g->stop;
	c->rq.nstop = g->nstop;
	c->rq.options = g->options;
	c->rq.noptions = g->noptions;
	c->rq.stream = !g->no_stream;
	c->timeout = g->timeout > 0 ? g->timeout :
		     p->timeout > 0 ? p->timeout :
				      reg->timeout;
	c->connect_timeout = pick(g->connect_timeout,
		p->policy.connect_timeout, reg->policy.connect_timeout);
	c->first_byte_timeout = pick(g->first_byte_timeout,
		p->policy.first_byte_timeout, reg->policy.first_byte_timeout);
	c->idle_timeout = pick(g->idle_timeout, p->policy.idle_timeout,
		reg->policy.idle_timeout);
	c->database = reg->database;
	c->defaults = &reg->policy;
	c->no_wait = g->no_wait;
	c->cache = g->cache >= 0 ? g->cache :
		   c->model->policy.cache >= 0 ? c->model->policy.cache :
						 reg->policy.cache > 0;
	c->cache_ttl = c->model->policy.cache_ttl >= 0 ?
			       c->model->policy.cache_ttl :
			       reg->policy.cache_ttl;
	c->retries = g->retries >= 0 ? g->retries :
		     p->retries >= 0 ? p->retries :
				       reg->retries;
}
