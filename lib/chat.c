/* chat.c - llm-chat's job; see chat.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "cfg.h"
#include "chat.h"
#include "guard.h"
#include "json.h"
#include "msg.h"
#include "out.h"
#include "prompt.h"
#include "registry.h"
#include "route.h"
#include "store.h"
#include "xalloc.h"

struct chat {
	const struct chat_opts *o;
	struct cfg cfg;
	struct registry reg;
	struct store *store;
	struct buf prompt, system, logerr;
	struct store_session sess;
	bool have_sess;
	char *session_name;
	struct store_message *hist;
	size_t nhist;
	struct llm_message *msgs;
	size_t nmsgs;
	struct out out;
	struct buf held; /* --atomic: the answer until it is complete */
	struct route_env env;
	int64_t row_id;
};

static enum llm_status
open_store(struct chat *ch, struct buf *err)
{
	if (ch->store)
		return LLM_OK;
	return store_open(&ch->store, ch->reg.database, err);
}

/* call.h's on_wait: open the log while the provider thinks. */
static void
warm_log(void *ud)
{
	struct chat *ch = ud;

	store_warm_at(&ch->store, ch->reg.database);
}

/* Load the session named by -S or -c, and its history. */
static enum llm_status
load_session(struct chat *ch, struct buf *err)
{
	const struct chat_opts *o = ch->o;
	enum llm_status st;
	bool found = false;

	if (!o->session && !o->cont)
		return LLM_OK;
	if ((st = open_store(ch, err)) != LLM_OK)
		return st;
	if (o->session)
		st = store_session_find(ch->store, o->session, &ch->sess, &found,
			err);
	else
		st = store_session_last(ch->store, &ch->sess, &found, err);
	if (st != LLM_OK)
		return st;
	if (!found && o->cont) {
		buf_setf(err, "no session to continue: start one with -S NAME");
		return LLM_ERR_USAGE;
	}
	ch->have_sess = found;
	ch->session_name = xstrdup(o->session ? o->session : ch->sess.name);
	if (found)
		st = store_session_messages(ch->store, ch->sess.id, &ch->hist,
			&ch->nhist, err);
	return st;
}

static void
build_messages(struct chat *ch)
{
	size_t i;

	ch->msgs = xcalloc(ch->nhist + 1, sizeof(*ch->msgs));
	for (i = 0; i < ch->nhist; i++) {
		ch->msgs[i].role = ch->hist[i].role;
		ch->msgs[i].content = ch->hist[i].content;
	}
	ch->msgs[i].role = "user";
	ch->msgs[i].content = ch->prompt.ptr;
	ch->nmsgs = ch->nhist + 1;
}

/* --atomic: keep the text until the answer is complete. */
static int
hold_text(void *ud, const char *p, size_t n)
{
	buf_add(ud, p, n);
	return 0;
}

/* The primary of a shadow group is done: the reader gets the end of the
 * answer now, not when the shadows are.  (Not a failure that printed
 * nothing: no stray newline, and another model may still answer.) */
static void
primary_done(void *ud, struct call *c)
{
	struct out *o = ud;

	if (c->st == LLM_OK || o->any)
		out_close(o);
}

static void
setup_call(struct chat *ch, struct call *c, struct provider *p,
	struct model *m, const char *ref)
{
	c->provider = p;
	c->model = m;
	c->ref = ref;
	c->rq.system = ch->system.len ? ch->system.ptr : NULL;
	c->rq.messages = ch->msgs;
	c->rq.nmessages = ch->nmsgs;
	gen_opts_apply(&ch->o->gen, &ch->reg, c);
	if (!ch->o->no_log) {
		c->on_wait = warm_log;
		c->wait_ud = ch;
	}
	if (ch->o->atomic) {
		c->on_text = hold_text;
		c->ud = &ch->held;
	} else if (!ch->o->json) {
		c->on_text = out_text;
		c->ud = &ch->out;
	}
}

/* Log c; a failure is kept in ch->logerr, never loses the answer. */
static void
log_call(struct chat *ch, const struct call *c, bool shadow)
{
	struct store_request row;
	struct buf e = BUF_INIT;

	if (ch->o->no_log)
		return;
	call_row(c, "llm-chat", ch->prompt.ptr, &row);
	if (ch->session_name && !shadow) {
		row.session = ch->session_name;
		row.session_model = c->ref;
		row.session_user = ch->prompt.ptr;
	}
	if (open_store(ch, &e) == LLM_OK &&
		store_log(ch->store, &row, &ch->row_id, &e) == LLM_OK)
		msg_debug(1, "logged as request %lld in '%s'",
			(long long)ch->row_id, ch->reg.database);
	if (e.len && ch->logerr.len == 0)
		buf_addf(&ch->logerr, "%s", e.ptr);
	buf_release(&e);
}

static void
print_json(struct chat *ch, const struct call *c)
{
	cJSON *j = cJSON_CreateObject();
	struct buf s = BUF_INIT;

	call_json(c, j);
	if (ch->row_id > 0)
		json_add_number(j, "id", (double)ch->row_id);
	else
		cJSON_AddNullToObject(j, "id");
	if (ch->session_name)
		cJSON_AddStringToObject(j, "session", ch->session_name);
	else
		cJSON_AddNullToObject(j, "session");
	json_print(j, &s);
	buf_addch(&s, '\n');
	out_write(&ch->out, s.ptr, s.len);
	cJSON_Delete(j);
	buf_release(&s);
}

/* The model reference: -m, else the session's model, else the default. */
static const char *
model_ref(struct chat *ch)
{
	if (ch->o->model)
		return ch->o->model;
	if (ch->have_sess && ch->sess.model && *ch->sess.model)
		return ch->sess.model;
	return ch->reg.default_model ? ch->reg.default_model : "";
}

/* Run c, and the shadows of its group beside it. */
static void
run_with_shadows(struct chat *ch, struct call *c, const struct route *rt,
	const char *ref)
{
	struct call *all, **cs;
	size_t n = 1, i;

	all = xcalloc(rt->nshadows, sizeof(*all));
	cs = xcalloc(rt->nshadows + 1, sizeof(*cs));
	cs[0] = c;
	for (i = 0; i < rt->nshadows; i++) {
		struct provider *p = NULL;
		struct model *m = NULL;
		struct buf e = BUF_INIT;

		if (registry_resolve(&ch->reg, rt->shadows[i], &m, &p, &e)) {
			msg_warn("shadow of '%s': %s", ref, e.ptr);
			buf_release(&e);
			continue;
		}
		call_init(&all[i]);
		setup_call(ch, &all[i], p, m, rt->shadows[i]);
		all[i].route = ref;
		all[i].on_text = NULL;
		cs[n++] = &all[i];
	}
	if (!ch->o->json && !ch->o->atomic && n > 1)
		c->on_done = primary_done;
	call_run_many(cs, n);
	for (i = 1; i < n; i++) {
		msg_debug(1, "shadow '%s': %s, %ld ms", cs[i]->ref,
			status_str(cs[i]->st), cs[i]->latency_ms);
		log_call(ch, cs[i], true);
		call_release(cs[i]);
	}
	free(all);
	free(cs);
}

/* Send to ref: a model, or a group's route with fallback. */
static enum llm_status
send_ref(struct chat *ch, const char *ref, struct buf *dry, struct buf *err)
{
	const struct chat_opts *o = ch->o;
	struct route rt;
	enum llm_status st;
	size_t i;

	st = route_plan(&ch->reg, ref,
		call_input_tokens(ch->system.ptr, ch->msgs, ch->nmsgs),
		o->gen.max_tokens, &ch->env, &rt, err);
	if (st != LLM_OK)
		return st;
	if (rt.skipped)
		msg_debug(1, "%zu model(s) of '%s' cannot hold the prompt",
			rt.skipped, ref);
	for (i = 0; i < rt.n; i++) {
		struct provider *p = NULL;
		struct model *m = NULL;
		struct call c;
		bool last = i + 1 == rt.n, next;

		buf_reset(err);
		st = registry_resolve(&ch->reg, rt.order[i], &m, &p, err);
		if (st != LLM_OK) {
			if (!last)
				continue;
			break;
		}
		call_init(&c);
		setup_call(ch, &c, p, m, rt.group ? rt.order[i] : ref);
		c.route = rt.group ? rt.group->name : NULL;
		if (o->dry_run) {
			st = call_dry_run(&c, dry);
			if (st)
				buf_setf(err, "%s", c.err.ptr);
			call_release(&c);
			break;
		}
		msg_debug(1, "model '%s': provider '%s' (%s), id '%s', %s",
			rt.order[i], p->name, p->type, m->id,
			p->base_url ? p->base_url : "no base_url");
		buf_reset(&ch->held);
		if (i == 0 && rt.nshadows)
			run_with_shadows(ch, &c, &rt, ref);
		else
			call_run(&c);
		st = c.st;
		if (c.attempts > 0)
			msg_debug(1, "HTTP %ld, %d attempt(s), %ld ms, first "
				     "text at %ld ms, %ld+%ld tokens%s",
				c.http_status, c.attempts, c.latency_ms,
				c.ttft_ms, c.input_tokens, c.output_tokens,
				c.tokens_estimated ? " (estimated)" : "");
		next = !last && rt.group && route_may_fall_back(&c, o->atomic);
		if (o->atomic && st == LLM_OK && !next)
			out_write(&ch->out, ch->held.ptr, ch->held.len);
		if (st != LLM_ERR_PIPE && !o->json &&
			((c.started && !o->atomic) || (st == LLM_OK && !next)))
			out_finish(&ch->out);
		if (c.attempts > 0 || st == LLM_OK)
			log_call(ch, &c, false);
		if (o->json && !next)
			print_json(ch, &c);
		if (st != LLM_OK || next)
			buf_setf(err, "%s", c.err.len ? c.err.ptr :
						      "refused by a content policy");
		if (!next) {
			call_release(&c);
			break;
		}
		msg_warn("%s failed, trying the next model of '%s': %s",
			rt.order[i], ref, err->ptr);
		st = st == LLM_OK ? LLM_ERR_DATA : st;
		call_release(&c);
	}
	if (st == LLM_OK)
		buf_reset(err);
	route_release(&rt);
	return st;
}

enum llm_status
chat_run(const struct chat_opts *o, struct buf *err)
{
	struct chat ch;
	struct buf dry = BUF_INIT;
	enum llm_status st;

	memset(&ch, 0, sizeof(ch));
	ch.o = o;
	/* weighted groups draw their arm with rand() */
	srand((unsigned)time(NULL) ^ ((unsigned)getpid() << 8));
	ch.prompt.ptr = ch.system.ptr = ch.logerr.ptr = buf_empty;
	ch.held.ptr = buf_empty;
	if ((st = cfg_load(&ch.cfg, o->config, err)) != LLM_OK)
		goto out;
	if ((st = registry_load(&ch.reg, &ch.cfg, err)) != LLM_OK)
		goto out;
	guard_route_env(&ch.env, ch.reg.database);
	if ((st = gen_opts_system(&o->gen, &ch.system, err)) != LLM_OK)
		goto out;
	if ((st = prompt_read(o->argc, o->argv, &ch.prompt, err)) != LLM_OK)
		goto out;
	if ((st = load_session(&ch, err)) != LLM_OK)
		goto out;
	if (!o->gen.system && !o->gen.system_file && ch.have_sess &&
		ch.sess.system)
		buf_adds(&ch.system, ch.sess.system);
	build_messages(&ch);
	st = send_ref(&ch, model_ref(&ch), &dry, err);
	if (o->dry_run && st == LLM_OK)
		out_write(&ch.out, dry.ptr, dry.len);
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
	free(ch.msgs);
	store_messages_free(ch.hist, ch.nhist);
	store_session_release(&ch.sess);
	free(ch.session_name);
	store_close(ch.store);
	registry_release(&ch.reg);
	cfg_release(&ch.cfg);
	buf_release(&ch.prompt);
	buf_release(&ch.system);
	buf_release(&ch.logerr);
	buf_release(&ch.held);
	buf_release(&dry);
	return st;
}
