/* chain.c - llm-chain's job; see chain.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "cfg.h"
#include "chain.h"
#include "chainfile.h"
#include "guard.h"
#include "json.h"
#include "msg.h"
#include "out.h"
#include "prompt.h"
#include "registry.h"
#include "route.h"
#include "sig.h"
#include "store.h"
#include "xalloc.h"

struct chain {
	const struct chain_opts *o;
	struct cfg cfg;
	struct registry reg;
	struct chainfile cf;
	struct store *store;
	struct buf input;    /* the chain's input */
	struct buf system;   /* the default system prompt */
	struct buf prompt;   /* the prompt of the step being run */
	struct buf previous; /* the answer of the last step */
	struct buf id;       /* the chain's id, the log's group_id */
	struct buf logerr;
	struct out out;      /* stdout: the last step's answer */
	struct out show;     /* stderr: --show-steps */
	cJSON *json, *jsteps;
	double cost;         /* of the steps so far; < 0 when unknown */
	int64_t row_id;
	struct route_env env; /* groups' shared state (guard.h) */
};

void
chain_opts_add_model(struct chain_opts *o, const char *ref)
{
	o->steps = xgrowarray(o->steps, &o->steps_alloc, o->nsteps + 1,
		sizeof(*o->steps));
	o->steps[o->nsteps].model = ref;
	o->steps[o->nsteps].system = NULL;
	o->nsteps++;
}

void
chain_opts_set_system(struct chain_opts *o, const char *text)
{
	if (o->nsteps)
		o->steps[o->nsteps - 1].system = text;
	else
		o->gen.system = text;
}

void
chain_opts_release(struct chain_opts *o)
{
	free(o->steps);
	o->steps = NULL;
	o->nsteps = o->steps_alloc = 0;
	gen_opts_release(&o->gen);
}

/* The steps, from the chain file or from -m/-s. */
static enum llm_status
build_steps(struct chain *ch, struct buf *err)
{
	const struct chain_opts *o = ch->o;
	size_t i;

	if (o->file)
		return chainfile_load(&ch->cf, o->file, err);
	if (o->nsteps == 0) {
		buf_setf(err, "no steps: give -m MODEL for each step, or "
			      "-f FILE");
		return LLM_ERR_USAGE;
	}
	for (i = 0; i < o->nsteps; i++)
		chainfile_add_step(&ch->cf, o->steps[i].model)->system =
			xstrdup_or_null(o->steps[i].system);
	return LLM_OK;
}

/* Whether ref names something the registry has: an alias, a group, or
 * PROVIDER/MODEL of a defined provider. */
static bool
known_ref(const struct registry *reg, const char *ref)
{
	const char *slash = strchr(ref, '/');
	char *pname;
	bool known;

	if (registry_model(reg, ref) || registry_group(reg, ref))
		return true;
	if (slash == NULL || slash[1] == '\0')
		return false;
	pname = xstrndup(ref, (size_t)(slash - ref));
	known = registry_provider(reg, pname) != NULL;
	free(pname);
	return known;
}

/* Every step's model must resolve before anything is sent.  A chain
 * file's unknown model is bad data with its file and line. */
static enum llm_status
check_models(struct chain *ch, struct buf *err)
{
	struct buf e = BUF_INIT;
	enum llm_status st = LLM_OK;
	struct provider *p;
	struct model *m;
	size_t i;

	for (i = 0; i < ch->cf.nsteps && st == LLM_OK; i++) {
		const struct chain_step *s = &ch->cf.steps[i];

		if (registry_group(&ch->reg, s->model))
			continue;
		buf_reset(&e);
		st = registry_resolve(&ch->reg, s->model, &m, &p, &e);
		if (st == LLM_OK)
			continue;
		if (ch->cf.path == NULL) {
			buf_setf(err, "%s", e.ptr);
			break;
		}
		buf_setf(err, "%s:%d: %s", ch->cf.path, s->model_line, e.ptr);
		if (!known_ref(&ch->reg, s->model))
			st = LLM_ERR_DATA;
	}
	buf_release(&e);
	return st;
}

static enum llm_status
open_store(struct chain *ch, struct buf *err)
{
	if (ch->store)
		return LLM_OK;
	return store_open(&ch->store, ch->reg.database, err);
}

/* Log the call of step k; a failure is kept in ch->logerr. */
static void
log_call(struct chain *ch, const struct call *c, size_t k)
{
	struct store_request row;
	struct buf e = BUF_INIT;

	ch->row_id = 0;
	if (ch->o->no_log)
		return;
	call_row(c, "llm-chain", ch->prompt.ptr, &row);
	row.group_id = ch->id.ptr;
	row.step = (long)k;
	if (open_store(ch, &e) == LLM_OK &&
		store_log(ch->store, &row, &ch->row_id, &e) == LLM_OK)
		msg_debug(1, "step %zu logged as request %lld in '%s'", k,
			(long long)ch->row_id, ch->reg.database);
	if (e.len && ch->logerr.len == 0)
		buf_addf(&ch->logerr, "%s", e.ptr);
	buf_release(&e);
}

/* Add step k's outcome to --json's steps. */
static void
json_step(struct chain *ch, const struct call *c, size_t k)
{
	cJSON *j = cJSON_CreateObject();

	json_add_number(j, "step", (double)k);
	call_json(c, j);
	if (c->rq.system && *c->rq.system)
		cJSON_AddStringToObject(j, "system", c->rq.system);
	else
		cJSON_AddNullToObject(j, "system");
	cJSON_AddStringToObject(j, "prompt", ch->prompt.ptr);
	if (ch->row_id > 0)
		json_add_number(j, "id", (double)ch->row_id);
	else
		cJSON_AddNullToObject(j, "id");
	cJSON_AddItemToArray(ch->jsteps, j);
	if (ch->cost >= 0 && c->cost >= 0)
		ch->cost += c->cost;
	else
		ch->cost = -1;
}

/* Put "step K (REF): " before the message in err. */
static void
step_error(struct buf *err, size_t k, const char *ref)
{
	char *m = buf_detach(err);

	buf_setf(err, "step %zu (%s): %s", k, ref, m);
	free(m);
}

/* --show-steps: stderr is a view, its failures never stop a step. */
static int
show_text(void *ud, const char *p, size_t n)
{
	out_write(ud, p, n);
	return 0;
}

static void
setup_call(struct chain *ch, struct call *c, const struct chain_step *s,
	bool last, struct llm_message *msg)
{
	const struct gen_opts *g = &ch->o->gen;
	const char *sys = s->system ? s->system : ch->system.ptr;

	c->rq.system = *sys ? sys : NULL;
	msg->role = "user";
	msg->content = ch->prompt.ptr;
	c->rq.messages = msg;
	c->rq.nmessages = 1;
	gen_opts_apply(g, &ch->reg, c);
	/* the step's values, under the command line's */
	if (!g->has_temperature && s->has_temperature) {
		c->rq.has_temperature = true;
		c->rq.temperature = s->temperature;
	}
	if (!g->has_top_p && s->has_top_p) {
		c->rq.has_top_p = true;
		c->rq.top_p = s->top_p;
	}
	if (g->max_tokens <= 0 && s->max_tokens > 0)
		c->rq.max_tokens = s->max_tokens;
	if (g->nstop == 0 && s->nstop > 0) {
		c->rq.stop = (const char *const *)s->stop;
		c->rq.nstop = s->nstop;
	}
	if (last && !ch->o->json) {
		c->on_text = out_text;
		c->ud = &ch->out;
	} else if (ch->o->show_steps) {
		c->on_text = show_text;
		c->ud = &ch->show;
	}
}

/* Run step k (from 1) with ref, a model or a group (route.h: its
 * strategy picks the order, the next member takes over on a failure
 * before any text was shown; a shadow group's shadows are not run);
 * its answer becomes ch->previous. */
static enum llm_status
send_step(struct chain *ch, size_t k, struct buf *err)
{
	const struct chain_step *s = &ch->cf.steps[k - 1];
	const char *ref = s->model;
	const char *sys = s->system ? s->system : ch->system.ptr;
	bool last = k == ch->cf.nsteps;
	struct llm_message um = { "user", ch->prompt.ptr };
	struct route rt;
	enum llm_status st;
	size_t i;

	st = route_plan(&ch->reg, ref, call_input_tokens(sys, &um, 1),
		ch->o->gen.max_tokens > 0 ? ch->o->gen.max_tokens :
					    s->max_tokens,
		&ch->env, &rt, err);
	if (st != LLM_OK) {
		step_error(err, k, ref);
		return st;
	}
	if (rt.nshadows)
		msg_warn("step %zu: the shadows of '%s' are not run in a chain",
			k, ref);
	for (i = 0; i < rt.n; i++) {
		struct provider *p = NULL;
		struct model *m = NULL;
		struct llm_message msg;
		struct call c;
		bool next;

		buf_reset(err);
		st = registry_resolve(&ch->reg, rt.order[i], &m, &p, err);
		if (st != LLM_OK) {
			if (i + 1 < rt.n)
				continue;
			step_error(err, k, rt.order[i]);
			break;
		}
		call_init(&c);
		c.provider = p;
		c.model = m;
		c.ref = rt.order[i];
		c.route = rt.group ? rt.group->name : NULL;
		setup_call(ch, &c, s, last, &msg);
		msg_debug(1, "step %zu/%zu: model '%s': provider '%s' (%s), "
			     "id '%s'",
			k, ch->cf.nsteps, rt.order[i], p->name, p->type, m->id);
		st = call_run(&c);
		if (c.attempts > 0)
			msg_debug(1, "HTTP %ld, %d attempt(s), %ld ms, first "
				     "text at %ld ms, %ld+%ld tokens%s",
				c.http_status, c.attempts, c.latency_ms,
				c.ttft_ms, c.input_tokens, c.output_tokens,
				c.tokens_estimated ? " (estimated)" : "");
		/* Text shown only on stderr (--show-steps) cannot be taken
		 * back either. */
		next = i + 1 < rt.n && route_may_fall_back(&c, false);
		if (c.on_text == out_text && st != LLM_ERR_PIPE &&
			(c.started || (st == LLM_OK && !next)))
			out_finish(&ch->out);
		else if (c.on_text == show_text &&
			(c.started || (st == LLM_OK && !next)))
			out_finish(&ch->show);
		if (c.attempts > 0 || st == LLM_OK)
			log_call(ch, &c, k);
		else
			ch->row_id = 0;
		if (ch->o->json && !next)
			json_step(ch, &c, k);
		if ((st == LLM_OK || st == LLM_ERR_PIPE) && !next) {
			buf_reset(&ch->previous);
			buf_add(&ch->previous, c.res.text.ptr, c.res.text.len);
			while (ch->previous.len &&
				(ch->previous.ptr[ch->previous.len - 1] ==
						'\n' ||
					ch->previous.ptr[ch->previous.len - 1] ==
						'\r'))
				buf_truncate(&ch->previous,
					ch->previous.len - 1);
		} else {
			buf_setf(err, "step %zu (%s): %s", k, rt.order[i],
				c.err.len ? c.err.ptr :
					    "refused by a content policy");
		}
		if (!next) {
			call_release(&c);
			break;
		}
		msg_warn("step %zu: %s failed, trying the next model of '%s': "
			 "%s",
			k, rt.order[i], ref, err->ptr);
		st = st == LLM_OK ? LLM_ERR_DATA : st;
		call_release(&c);
	}
	route_release(&rt);
	return st;
}

/* Whether s holds only blanks and line ends. */
static bool
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Run the steps in order; stop at the first that fails. */
static enum llm_status
run_steps(struct chain *ch, struct buf *err)
{
	size_t k, n = ch->cf.nsteps;
	enum llm_status st = LLM_OK;
	const char *t;
	int sig;

	for (k = 1; k <= n && st == LLM_OK; k++) {
		const struct chain_step *s = &ch->cf.steps[k - 1];

		if ((sig = sig_caught()) != 0) {
			st = sig == SIGTERM ? LLM_ERR_TERMINATED :
					      LLM_ERR_INTERRUPTED;
			buf_setf(err, "%s before step %zu", status_str(st), k);
			break;
		}
		buf_reset(&ch->prompt);
		t = chainfile_template(s, k, ch->o->carry_input);
		st = chainfile_expand(t, ch->input.ptr,
			k > 1 ? ch->previous.ptr : NULL, &ch->prompt, NULL,
			err);
		if (st != LLM_OK) {
			step_error(err, k, s->model);
			break;
		}
		if (blank(ch->prompt.ptr)) {
			buf_setf(err, "step %zu (%s): nothing to send: the "
				      "answer of step %zu is empty",
				k, s->model, k - 1);
			st = LLM_ERR_DATA;
			break;
		}
		if (ch->o->show_steps) {
			fprintf(stderr, "== step %zu/%zu: %s ==\n", k, n,
				s->model);
			fflush(stderr);
			ch->show.any = false; /* the answer starts here */
		}
		st = send_step(ch, k, err);
	}
	return st;
}

static const char *
status_word(enum llm_status st)
{
	if (st == LLM_OK || st == LLM_ERR_PIPE)
		return "ok";
	if (st == LLM_ERR_INTERRUPTED || st == LLM_ERR_TERMINATED)
		return "interrupted";
	return "error";
}

static void
print_json(struct chain *ch, enum llm_status st, const struct buf *err,
	double t0)
{
	struct buf s = BUF_INIT;
	cJSON *j = ch->json, *last;

	cJSON_AddStringToObject(j, "status", status_word(st));
	if (st != LLM_OK && st != LLM_ERR_PIPE)
		cJSON_AddStringToObject(j, "error", err->ptr);
	last = cJSON_GetArrayItem(ch->jsteps,
		cJSON_GetArraySize(ch->jsteps) - 1);
	if (st == LLM_OK && last)
		cJSON_AddStringToObject(j, "output", json_str(last, "response"));
	else
		cJSON_AddNullToObject(j, "output");
	json_add_number(j, "latency_ms", (double)(long)(call_now_ms() - t0));
	if (ch->cost >= 0 && cJSON_GetArraySize(ch->jsteps) > 0)
		json_add_number(j, "cost_usd", ch->cost);
	else
		cJSON_AddNullToObject(j, "cost_usd");
	json_print(j, &s);
	buf_addch(&s, '\n');
	out_write(&ch->out, s.ptr, s.len);
	buf_release(&s);
}

static void
json_start(struct chain *ch)
{
	cJSON *j = ch->json = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "chain_id", ch->id.ptr);
	if (ch->cf.name)
		cJSON_AddStringToObject(j, "name", ch->cf.name);
	else
		cJSON_AddNullToObject(j, "name");
	cJSON_AddStringToObject(j, "input", ch->input.ptr);
	ch->jsteps = cJSON_AddArrayToObject(j, "steps");
}

enum llm_status
chain_run(const struct chain_opts *o, struct buf *err)
{
	struct chain ch;
	enum llm_status st;
	double t0;

	memset(&ch, 0, sizeof(ch));
	ch.o = o;
	ch.input.ptr = ch.system.ptr = ch.prompt.ptr = buf_empty;
	ch.previous.ptr = ch.id.ptr = ch.logerr.ptr = buf_empty;
	ch.show.fp = stderr;
	if ((st = cfg_load(&ch.cfg, o->config, err)) != LLM_OK)
		goto out;
	if ((st = registry_load(&ch.reg, &ch.cfg, err)) != LLM_OK)
		goto out;
	guard_route_env(&ch.env, ch.reg.database);
	/* weighted groups draw their arm with rand() */
	srand((unsigned)time(NULL) ^ ((unsigned)getpid() << 8));
	if ((st = build_steps(&ch, err)) != LLM_OK)
		goto out;
	if ((st = check_models(&ch, err)) != LLM_OK)
		goto out;
	if ((st = gen_opts_system(&o->gen, &ch.system, err)) != LLM_OK)
		goto out;
	if (o->check)
		goto out;
	if ((st = prompt_read(o->argc, o->argv, &ch.input, err)) != LLM_OK)
		goto out;
	call_group_id(&ch.id);
	msg_debug(1, "chain %s: %zu step(s)", ch.id.ptr, ch.cf.nsteps);
	if (o->json)
		json_start(&ch);
	t0 = call_now_ms();
	st = run_steps(&ch, err);
	if (o->json)
		print_json(&ch, st, err, t0);
	if (ch.out.error && (st == LLM_OK || st == LLM_ERR_IO)) {
		buf_setf(err, "cannot write standard output: %s",
			strerror(ch.out.error));
		st = LLM_ERR_IO;
	}
	if (st == LLM_ERR_PIPE)
		buf_reset(err);
	if (ch.logerr.len) {
		if (st == LLM_OK || st == LLM_ERR_PIPE) {
			buf_setf(err, "%s", ch.logerr.ptr);
			st = LLM_ERR_IO;
		} else {
			msg_error("%s", ch.logerr.ptr);
		}
	}
out:
	cJSON_Delete(ch.json);
	store_close(ch.store);
	chainfile_release(&ch.cf);
	registry_release(&ch.reg);
	cfg_release(&ch.cfg);
	buf_release(&ch.input);
	buf_release(&ch.system);
	buf_release(&ch.prompt);
	buf_release(&ch.previous);
	buf_release(&ch.id);
	buf_release(&ch.logerr);
	return st;
}
