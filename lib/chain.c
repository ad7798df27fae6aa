/* chain.c - llm-chain's job; see chain.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
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
	/* The processes running the shadows of shadow groups; whether a
	 * signal caught was passed on to them. */
	struct shadow_proc *procs;
	size_t nprocs, procs_alloc;
	bool passed_on;
};

/* A process that runs the shadows of one step (see start_shadows). */
struct shadow_proc {
	pid_t pid;
	int fd; /* read end of a pipe: what it could not log; -1 once reaped */
	size_t step;
};

/* The shadow calls of one step, before they go to their process. */
struct shadows {
	struct call *calls;
	struct call **cs;
	struct llm_message *msgs;
	size_t n;
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

/* call.h's on_wait: open the log while the provider thinks. */
static void
warm_log(void *ud)
{
	struct chain *ch = ud;

	store_warm_at(&ch->store, ch->reg.database);
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

/* Where a step's answer is shown: stdout for the last step (unless
 * --json), stderr with --show-steps, else nowhere (NULL). */
static struct out *
step_out(struct chain *ch, bool last)
{
	if (last && !ch->o->json)
		return &ch->out;
	if (ch->o->show_steps)
		return &ch->show;
	return NULL;
}

/* Set c up for step s.  Its text streams to where the step is shown,
 * unless --atomic holds it in c->res.text until the answer is complete
 * (send_step shows it then). */
static void
setup_call(struct chain *ch, struct call *c, const struct chain_step *s,
	bool last, struct llm_message *msg)
{
	struct out *shown = step_out(ch, last);
	const struct gen_opts *g = &ch->o->gen;
	const char *sys = s->system ? s->system : ch->system.ptr;

	c->rq.system = *sys ? sys : NULL;
	msg->role = "user";
	msg->content = ch->prompt.ptr;
	c->rq.messages = msg;
	c->rq.nmessages = 1;
	gen_opts_apply(g, &ch->reg, c);
	if (!ch->o->no_log) {
		c->on_wait = warm_log;
		c->wait_ud = ch;
	}
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
	if (shown && !ch->o->atomic) {
		c->on_text = shown == &ch->out ? out_text : show_text;
		c->ud = shown;
	}
}

/* ==== shadows ==== */

static void
shadows_release(struct shadows *sh)
{
	size_t i;

	for (i = 0; i < sh->n; i++)
		call_release(sh->cs[i]);
	free(sh->calls);
	free(sh->cs);
	free(sh->msgs);
	memset(sh, 0, sizeof(*sh));
}

/* The calls of step k's shadows, set up as the step (never shown); a
 * shadow that does not resolve is left out with a warning. */
static void
shadows_build(struct chain *ch, size_t k, const struct route *rt,
	struct shadows *sh)
{
	const struct chain_step *s = &ch->cf.steps[k - 1];
	size_t i;

	sh->calls = xcalloc(rt->nshadows, sizeof(*sh->calls));
	sh->cs = xcalloc(rt->nshadows, sizeof(*sh->cs));
	sh->msgs = xcalloc(rt->nshadows, sizeof(*sh->msgs));
	sh->n = 0;
	for (i = 0; i < rt->nshadows; i++) {
		struct call *c = &sh->calls[sh->n];
		struct provider *p = NULL;
		struct model *m = NULL;
		struct buf e = BUF_INIT;

		if (registry_resolve(&ch->reg, rt->shadows[i], &m, &p, &e)) {
			msg_warn("step %zu: shadow of '%s': %s", k,
				rt->group->name, e.ptr);
			buf_release(&e);
			continue;
		}
		call_init(c);
		c->provider = p;
		c->model = m;
		c->ref = rt->shadows[i];
		c->route = rt->group->name;
		setup_call(ch, c, s, false, &sh->msgs[sh->n]);
		c->on_text = NULL;
		c->ud = NULL;
		sh->cs[sh->n++] = c;
	}
}

/*
 * The shadows' process: run the calls, log them under step k, write to
 * fd what could not be logged, and end.  Standard output stays the
 * parent's: a reader must see its end when the parent is done.  The
 * parent's atexit handlers are not run (_exit): its connections are not
 * this process's to close.
 */
static _Noreturn void
shadow_child(struct chain *ch, size_t k, struct shadows *sh, int fd)
{
	int null = open("/dev/null", O_WRONLY);
	size_t i;

	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	buf_reset(&ch->logerr);
	call_run_many(sh->cs, sh->n);
	for (i = 0; i < sh->n; i++) {
		msg_debug(1, "step %zu: shadow '%s': %s, %ld ms", k,
			sh->cs[i]->ref, status_str(sh->cs[i]->st),
			sh->cs[i]->latency_ms);
		log_call(ch, sh->cs[i], k);
	}
	if (ch->logerr.len && write(fd, ch->logerr.ptr, ch->logerr.len) < 0) {
		/* The parent then sees nothing amiss: there is no one else
		 * to tell. */
	}
	close(fd);
	shadows_release(sh);
	store_close(ch->store);
	ch->store = NULL;
	guard_close_all();
	_exit(0);
}

/*
 * Start the shadows of step k in a process of their own, just before
 * the caller runs the step's primary: they get the same request at the
 * same time, are logged with the chain's id, step k and route = the
 * group, and are never shown nor passed on.  The chain goes on when the
 * primary is done; wait_shadows() waits for them before the chain ends.
 * A process of its own because a call cannot outlive call_run_many():
 * the next step need not wait for them.  SQLite's connections must not
 * cross a fork, so the parent's are closed first (they reopen when next
 * needed).  When no process can be made, a warning, and no shadows.
 */
static void
start_shadows(struct chain *ch, size_t k, const struct route *rt)
{
	struct shadows sh;
	struct shadow_proc *sp;
	sigset_t block, old;
	int fds[2], i;
	size_t j;
	pid_t pid;

	memset(&sh, 0, sizeof(sh));
	shadows_build(ch, k, rt, &sh);
	if (sh.n == 0)
		goto out;
	store_close(ch->store);
	ch->store = NULL;
	guard_close_all();
	cache_close_all();
	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) < 0) {
		msg_warn("step %zu: cannot run the shadows of '%s': %s", k,
			rt->group->name, strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++)
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	/* (No signal in between: the child's would wake the parent.) */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if ((pid = fork()) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		msg_warn("step %zu: cannot run the shadows of '%s': %s", k,
			rt->group->name, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0) {
		sig_forked();
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		for (j = 0; j < ch->nprocs; j++)
			close(ch->procs[j].fd);
		shadow_child(ch, k, &sh, fds[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	ch->procs = xgrowarray(ch->procs, &ch->procs_alloc, ch->nprocs + 1,
		sizeof(*ch->procs));
	sp = &ch->procs[ch->nprocs++];
	sp->pid = pid;
	sp->fd = fds[0];
	sp->step = k;
	msg_debug(1, "step %zu: %zu shadow(s) of '%s' in process %ld", k,
		sh.n, rt->group->name, (long)pid);
out:
	shadows_release(&sh);
}

/* A signal caught goes on to the shadows' processes, once: they end
 * their calls as interrupted, and log them so. */
static void
pass_signal(struct chain *ch)
{
	int sig = sig_caught();
	size_t i;

	if (sig == 0 || ch->passed_on)
		return;
	for (i = 0; i < ch->nprocs; i++)
		if (ch->procs[i].fd >= 0)
			kill(ch->procs[i].pid, sig);
	ch->passed_on = true;
}

/* Read what process sp could not log, to its end. */
static void
read_report(struct chain *ch, struct shadow_proc *sp, struct buf *msg)
{
	struct pollfd pfd[2];
	bool watch = sig_fd() >= 0;
	char chunk[512];
	ssize_t n;

	for (;;) {
		pass_signal(ch);
		if (ch->passed_on)
			watch = false;
		pfd[0].fd = sp->fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = sig_fd();
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, watch ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* (A byte that a shadow's own signal left in the shared
		 * self-pipe stays there: stop watching it.) */
		if (watch && pfd[1].revents && !sig_caught())
			watch = false;
		if (pfd[0].revents == 0)
			continue;
		n = read(sp->fd, chunk, sizeof(chunk));
		if (n > 0)
			buf_add(msg, chunk, (size_t)n);
		else if (n == 0 || errno != EINTR)
			break;
	}
}

/* Wait for every shadows' process; what one could not log, or its
 * abnormal end, is kept in ch->logerr. */
static void
wait_shadows(struct chain *ch)
{
	struct buf msg = BUF_INIT;
	size_t i;

	for (i = 0; i < ch->nprocs; i++) {
		struct shadow_proc *sp = &ch->procs[i];
		int status = 0;
		pid_t r;

		buf_reset(&msg);
		read_report(ch, sp, &msg);
		close(sp->fd);
		while ((r = waitpid(sp->pid, &status, 0)) < 0 &&
			errno == EINTR)
			pass_signal(ch);
		sp->fd = -1; /* reaped: no more signals for its pid */
		msg_debug(1, "step %zu: the shadows' process %ld ended",
			sp->step, (long)sp->pid);
		if (ch->logerr.len)
			continue;
		if (msg.len)
			buf_add(&ch->logerr, msg.ptr, msg.len);
		else if (r < 0)
			buf_setf(&ch->logerr, "step %zu: cannot wait for the "
					      "shadows: %s",
				sp->step, strerror(errno));
		else if (WIFSIGNALED(status))
			buf_setf(&ch->logerr, "step %zu: the shadows' process "
					      "was killed by signal %d",
				sp->step, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			buf_setf(&ch->logerr, "step %zu: the shadows' process "
					      "exited with status %d",
				sp->step, WEXITSTATUS(status));
	}
	buf_release(&msg);
}

/* ==== steps ==== */

/* Run step k (from 1) with ref, a model or a group (route.h: its
 * strategy picks the order; the next member takes over after a failure
 * when none of the answer was shown, or at any point of a held answer;
 * a shadow group's shadows run beside its primary, see start_shadows);
 * its answer becomes ch->previous. */
static enum llm_status
send_step(struct chain *ch, size_t k, struct buf *err)
{
	const struct chain_step *s = &ch->cf.steps[k - 1];
	const char *ref = s->model;
	const char *sys = s->system ? s->system : ch->system.ptr;
	bool last = k == ch->cf.nsteps;
	struct out *shown = step_out(ch, last);
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
	for (i = 0; i < rt.n; i++) {
		struct provider *p = NULL;
		struct model *m = NULL;
		struct llm_message msg;
		struct call c;
		bool next, streamed;

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
		if (i == 0 && rt.nshadows)
			start_shadows(ch, k, &rt);
		st = call_run(&c);
		if (c.attempts > 0)
			msg_debug(1, "HTTP %ld, %d attempt(s), %ld ms, first "
				     "text at %ld ms, %ld+%ld tokens%s",
				c.http_status, c.attempts, c.latency_ms,
				c.ttft_ms, c.input_tokens, c.output_tokens,
				c.tokens_estimated ? " (estimated)" : "");
		/* Text shown as it arrived, even only on stderr
		 * (--show-steps), cannot be taken back; a held answer
		 * (--atomic, or a step shown nowhere) can fall back after a
		 * failure at any point, and is shown once complete. */
		streamed = c.on_text != NULL;
		next = i + 1 < rt.n && route_may_fall_back(&c, !streamed);
		if (shown && !streamed && st == LLM_OK && !next)
			out_write(shown, c.res.text.ptr, c.res.text.len);
		if (shown && st != LLM_ERR_PIPE &&
			((streamed && c.started) || (st == LLM_OK && !next)))
			out_finish(shown);
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
	if (ch.nprocs) {
		/* The reader sees the end of the output now, not when the
		 * shadows are done (the steps finished what they printed). */
		out_detach(&ch.out);
		wait_shadows(&ch);
	}
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
	free(ch.procs);
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
