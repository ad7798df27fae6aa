/* compare.c - llm-compare's job; see compare.h. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "compare.h"
#include "msg.h"
#include "out.h"
#include "progress.h"
#include "prompt.h"
#include "report.h"
#include "sig.h"
#include "store.h"
#include "xalloc.h"

struct compare {
	const struct compare_opts *o;
	struct cfg cfg;
	struct registry reg;
	struct store *store;
	struct buf system, group_id, logerr;
	struct compare_result r;
	struct compare_run **runs; /* the answers' runs and their shadows */
	size_t nruns, runs_alloc;
	struct compare_run **shadows; /* owned */
	size_t nshadows, shadows_alloc;
	struct route_env env;
	struct progress prog;
	struct out out;
	/* how far the text report has been written */
	size_t tp, tc;   /* the prompt and cell next */
	int tstage;      /* 0 heading, 1 cells, 2 judge */
	bool tany;       /* a piece has been written */
};

/* ==== options ==== */

void
compare_opts_add_models(struct compare_opts *o, const char *arg)
{
	const char *p = arg, *e, *end;

	while (*p) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		e = end;
		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if (e > p) {
			o->models = xgrowarray(o->models, &o->models_alloc,
				o->nmodels + 1, sizeof(*o->models));
			o->models[o->nmodels++] = xstrndup(p, (size_t)(e - p));
		}
		p = *end ? end + 1 : end;
	}
}

void
compare_opts_release(struct compare_opts *o)
{
	size_t i;

	for (i = 0; i < o->nmodels; i++)
		free(o->models[i]);
	free(o->models);
	o->models = NULL;
	o->nmodels = o->models_alloc = 0;
	gen_opts_release(&o->gen);
}

bool
compare_format_parse(const char *name, enum compare_format *f)
{
	static const char *const names[] = { "text", "markdown", "json",
		"jsonl", "csv" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*f = (enum compare_format)i;
			return true;
		}
	return false;
}

/* ==== pure pieces ==== */

void
compare_prompts_parse(const char *text, size_t len, char ***prompts,
	size_t *n)
{
	const char *p = text, *end = text + len, *nl, *e;
	size_t alloc = 0;

	*prompts = NULL;
	*n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		e = nl;
		while (e > p && (e[-1] == '\r' || e[-1] == ' ' ||
				       e[-1] == '\t'))
			e--;
		if (e > p && *p != '#') {
			const char *q = p;

			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q < e) {
				*prompts = xgrowarray(*prompts, &alloc, *n + 1,
					sizeof(**prompts));
				(*prompts)[(*n)++] =
					xstrndup(p, (size_t)(e - p));
			}
		}
		p = nl + 1;
	}
}

static bool
same_text(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

long
compare_percentile(long *v, size_t n, unsigned p)
{
	size_t rank;

	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_long);
	rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

void
compare_stats(const struct compare_cell *c, struct compare_stats *s)
{
	long *lat = xcalloc(c->nruns + 1, sizeof(*lat));
	long *ttft = xcalloc(c->nruns + 1, sizeof(*ttft));
	size_t i, j, nt = 0, best = 0, count;
	bool any_cost = false;

	memset(s, 0, sizeof(*s));
	s->n = c->nruns;
	s->input_tokens = s->output_tokens = -1;
	s->cost = -1;
	for (i = 0; i < c->nruns; i++) {
		const struct call *k = &c->runs[i].call;

		if (k->input_tokens >= 0)
			s->input_tokens = (s->input_tokens > 0 ?
						  s->input_tokens : 0) +
				k->input_tokens;
		if (k->output_tokens >= 0)
			s->output_tokens = (s->output_tokens > 0 ?
						   s->output_tokens : 0) +
				k->output_tokens;
		if (k->tokens_estimated)
			s->estimated = true;
		if (k->cost >= 0) {
			s->cost = (any_cost ? s->cost : 0) + k->cost;
			any_cost = true;
		}
		if (k->st != LLM_OK) {
			if (k->st == LLM_ERR_INTERRUPTED ||
				k->st == LLM_ERR_TERMINATED)
				s->interrupted++;
			else
				s->failed++;
			if (s->first == NULL)
				s->first = k;
			continue;
		}
		lat[s->ok++] = k->latency_ms;
		if (k->ttft_ms >= 0)
			ttft[nt++] = k->ttft_ms;
		/* Is this answer new?  Then count its copies. */
		for (j = 0; j < i; j++)
			if (c->runs[j].call.st == LLM_OK &&
				same_text(&c->runs[j].call.res.text, &k->res.text))
				break;
		if (j < i)
			continue;
		s->distinct++;
		for (count = 0, j = i; j < c->nruns; j++)
			if (c->runs[j].call.st == LLM_OK &&
				same_text(&c->runs[j].call.res.text, &k->res.text))
				count++;
		if (count > best) {
			best = count;
			s->common = k;
		}
	}
	s->lat_p50 = compare_percentile(lat, s->ok, 50);
	s->lat_p95 = compare_percentile(lat, s->ok, 95);
	s->ttft_p50 = compare_percentile(ttft, nt, 50);
	s->ttft_p95 = compare_percentile(ttft, nt, 95);
	free(lat);
	free(ttft);
}

void
compare_judge_prompt(struct buf *out, const char *system, const char *prompt,
	const char *const *answers, size_t n)
{
	size_t i;

	buf_addf(out, "Rank the following %zu answers to the question below "
		      "from best to worst, for correctness, helpfulness and "
		      "clarity. Judge them by their content only, not by "
		      "their order or their length.\n\n", n);
	if (system && *system)
		buf_addf(out, "The answers were given under this system "
			      "prompt:\n<system>\n%s\n</system>\n\n", system);
	buf_addf(out, "<question>\n%s\n</question>\n", prompt);
	for (i = 0; i < n; i++) {
		buf_addf(out, "\n<answer label=\"%c\">\n", (int)('A' + i));
		buf_adds(out, answers[i]);
		if (answers[i][0] && answers[i][strlen(answers[i]) - 1] != '\n')
			buf_addch(out, '\n');
		buf_adds(out, "</answer>\n");
	}
	buf_adds(out, "\nExplain your judgement briefly if you wish. Then end "
		      "your reply with one line in exactly this form, naming "
		      "each of the letters ");
	for (i = 0; i < n; i++)
		buf_addf(out, "%s%c", i == 0 ? "" : i + 1 == n ? " and " : ", ",
			(int)('A' + i));
	buf_adds(out, " once, best first:\nRANKING:");
	for (i = 0; i < n; i++)
		buf_adds(out, i ? " > <letter>" : " <letter>");
	buf_addch(out, '\n');
}

static bool
junk(int c)
{
	return c == ' ' || c == '\t' || c == '*' || c == '_' || c == '`' ||
		c == '"' || c == '\'' || c == '[' || c == ']' || c == '(' ||
		c == ')' || c == '.' || c == '#';
}

/* Parse the labels after "RANKING:" up to the end of the line. */
static int
parse_labels(const char *p, const char *end, size_t n, size_t *order)
{
	bool seen[COMPARE_JUDGE_MAX] = { false };
	size_t k = 0;
	const char *tok, *te;
	int c;

	if (n > COMPARE_JUDGE_MAX)
		return -1;
	while (p <= end) {
		tok = p;
		while (p < end && *p != '>' && *p != ',')
			p++;
		te = p++;
		while (tok < te && junk((unsigned char)*tok))
			tok++;
		if (te - tok >= 6 && strncasecmp(tok, "answer", 6) == 0 &&
			!isalpha((unsigned char)tok[6])) {
			tok += 6;
			while (tok < te && junk((unsigned char)*tok))
				tok++;
		}
		if (tok == te)
			continue; /* "B > A >", an empty piece */
		c = toupper((unsigned char)*tok);
		if (c < 'A' || c >= 'A' + (int)n ||
			(tok + 1 < te && isalpha((unsigned char)tok[1])))
			return -1;
		if (seen[c - 'A'] || k == n)
			return -1;
		seen[c - 'A'] = true;
		order[k++] = (size_t)(c - 'A');
	}
	return k == n ? 0 : -1;
}

int
compare_parse_ranking(const char *verdict, size_t n, size_t *order)
{
	const char *start = verdict, *end = verdict + strlen(verdict);
	const char *ls, *le, *p;

	/* The lines from the last to the first. */
	le = end;
	while (le > start) {
		ls = le;
		while (ls > start && ls[-1] != '\n')
			ls--;
		for (p = ls; p + 7 <= le; p++) {
			const char *q;

			if (strncasecmp(p, "ranking", 7) != 0)
				continue;
			q = p + 7;
			while (q < le && (*q == '*' || *q == '_' || *q == ' '))
				q++;
			if (q < le && *q == ':' &&
				parse_labels(q + 1, le, n, order) == 0)
				return 0;
		}
		le = ls > start ? ls - 1 : start;
	}
	return -1;
}

/* ==== requests ==== */

static enum llm_status
open_store(struct compare *cmp, struct buf *err)
{
	if (cmp->store)
		return LLM_OK;
	return store_open(&cmp->store, cmp->reg.database, err);
}

/* call.h's on_wait: open the log while the provider thinks. */
static void
warm_log(void *ud)
{
	struct compare *cmp = ud;

	store_warm_at(&cmp->store, cmp->reg.database);
}

/* Point rn at the first model of its route from rt.order[i] on that
 * resolves: false when there is none, with the reason in err. */
static bool
pick(struct compare *cmp, struct compare_run *rn, size_t i, struct buf *err)
{
	for (; i < rn->rt.n; i++) {
		buf_reset(err);
		if (registry_resolve(&cmp->reg, rn->rt.order[i], &rn->m,
			    &rn->p, err) == LLM_OK) {
			rn->member = i;
			return true;
		}
	}
	return false;
}

/* The model pick() would choose from i on, without changing rn. */
static bool
next_member(struct compare *cmp, struct compare_run *rn, size_t i,
	size_t *next)
{
	struct compare_run probe = *rn;
	struct buf e = BUF_INIT;
	bool found;

	found = pick(cmp, &probe, i, &e);
	buf_release(&e);
	if (found)
		*next = probe.member;
	return found;
}

static const char *
member_ref(const struct compare_run *rn)
{
	return rn->rt.group ? rn->rt.order[rn->member] : rn->ref;
}

/* Plan rn's route (the models of its group that can hold the prompt, in
 * the order of the group's strategy) and point it at the first one. */
static enum llm_status
plan(struct compare *cmp, struct compare_run *rn, struct buf *err)
{
	enum llm_status st;

	st = route_plan(&cmp->reg, rn->ref,
		call_input_tokens(rn->system, &rn->msg, 1),
		rn->judge ? 0 : cmp->o->gen.max_tokens, &cmp->env, &rn->rt,
		err);
	if (st != LLM_OK)
		return st;
	if (pick(cmp, rn, 0, err))
		return LLM_OK;
	if (rn->rt.group)
		buf_setf(err, "no model of group '%s' can be used: %s",
			rn->ref, err->ptr);
	return LLM_ERR_CONFIG;
}

static void write_ready(struct compare *cmp);

static int
run_text(void *ud, const char *p, size_t n)
{
	struct compare_run *rn = ud;
	struct compare *cmp = rn->cmp;

	(void)p;
	rn->bytes += n;
	progress_set(&cmp->prog, rn->slot, PROGRESS_STREAMING, rn->bytes, 0,
		NULL);
	progress_draw(&cmp->prog, call_now_ms(), false);
	return 0;
}

/* A call has ended: is it the last of its chain? */
static void
run_done(void *ud, struct call *c)
{
	struct compare_run *rn = ud;
	struct compare *cmp = rn->cmp;
	bool final = true;

	/* Nothing of the answer has been printed yet: a failure after
	 * text arrived may fall back too. */
	if (rn->rt.group && !sig_caught() && route_may_fall_back(c, true) &&
		next_member(cmp, rn, rn->member + 1, &rn->next))
		final = false;
	if (c->st == LLM_OK)
		progress_set(&cmp->prog, rn->slot, PROGRESS_DONE, rn->bytes,
			c->latency_ms, NULL);
	else
		progress_set(&cmp->prog, rn->slot, PROGRESS_FAILED, rn->bytes,
			c->latency_ms,
			final ? c->err.ptr : "trying the next model");
	rn->final = final;
	progress_draw(&cmp->prog, call_now_ms(), false);
	if (final && !rn->judge)
		write_ready(cmp);
}

static void
setup_run(struct compare *cmp, struct compare_run *rn)
{
	struct call *c = &rn->call;

	if (rn->used)
		call_release(c);
	call_init(c);
	rn->used = true;
	rn->bytes = 0;
	c->provider = rn->p;
	c->model = rn->m;
	c->ref = member_ref(rn);
	c->rq.system = rn->system;
	c->rq.messages = &rn->msg;
	c->rq.nmessages = 1;
	gen_opts_apply(&cmp->o->gen, &cmp->reg, c);
	if (!cmp->o->no_log) {
		c->on_wait = warm_log;
		c->wait_ud = cmp;
	}
	if (rn->judge) {
		/* The judge gets its own sampling: only the time limits,
		 * retries and streaming apply. */
		c->rq.has_temperature = c->rq.has_top_p = false;
		c->rq.max_tokens = 0;
		c->rq.stop = NULL;
		c->rq.nstop = 0;
		c->rq.options = NULL;
		c->rq.noptions = 0;
	}
	c->on_text = run_text;
	c->on_done = run_done;
	c->ud = rn;
}

/* Log the call of rn; a failure is kept in cmp->logerr. */
static void
log_run(struct compare *cmp, struct compare_run *rn)
{
	struct store_request row;
	struct buf e = BUF_INIT;
	const struct call *c = &rn->call;

	if (cmp->o->no_log || (c->attempts == 0 && c->st != LLM_OK))
		return;
	call_row(c, "llm-compare", rn->msg.content, &row);
	row.group_id = cmp->group_id.ptr;
	if (open_store(cmp, &e) == LLM_OK &&
		store_log(cmp->store, &row, &rn->id, &e) == LLM_OK)
		msg_debug(1, "%s: logged as request %lld", c->ref,
			(long long)rn->id);
	if (e.len && cmp->logerr.len == 0)
		buf_addf(&cmp->logerr, "%s", e.ptr);
	buf_release(&e);
}

static void
progress_label_run(struct compare *cmp, struct compare_run *rn,
	const char *what)
{
	struct buf l = BUF_INIT;

	buf_adds(&l, what);
	if (rn->shadow)
		buf_addf(&l, "shadow %s", rn->ref);
	else if (rn->rt.group)
		buf_addf(&l, "%s (%s)", rn->ref, member_ref(rn));
	else
		buf_adds(&l, rn->ref);
	if (rn->judge)
		buf_adds(&l, rn == &rn->cmp->r.prompts[rn->pi].judge.v[0].run ?
				     ", as given" : ", reversed");
	else if (cmp->r.repeat > 1)
		buf_addf(&l, " #%zu", rn->ri + 1);
	if (cmp->r.multi)
		buf_addf(&l, ", prompt %zu", rn->pi + 1);
	progress_label(&cmp->prog, rn->slot, l.ptr);
	buf_release(&l);
}

/*
 * Run the runs until each has a final call: all at once, then, for the
 * runs whose model failed in a way that lets a group's next member take
 * over, another round with those members; and so on.  Every call is
 * logged when its round has ended.
 */
static void
run_rounds(struct compare *cmp, struct compare_run **runs, size_t n,
	const char *what)
{
	struct call **calls = xcalloc(n ? n : 1, sizeof(*calls));
	struct buf e = BUF_INIT;
	size_t i, k;

	for (;;) {
		if (sig_caught())
			break;
		for (i = k = 0; i < n; i++) {
			struct compare_run *rn = runs[i];

			if (rn->final)
				continue;
			if (rn->used)
				pick(cmp, rn, rn->next, &e);
			setup_run(cmp, rn);
			progress_label_run(cmp, rn, what);
			progress_set(&cmp->prog, rn->slot, PROGRESS_WAITING, 0,
				0, NULL);
			if (msg_verbosity() >= 1) {
				progress_clear(&cmp->prog);
				msg_debug(1, "%s: provider '%s' (%s), id '%s'",
					rn->call.ref, rn->p->name, rn->p->type,
					rn->m->id);
			}
			calls[k++] = &rn->call;
		}
		if (k == 0)
			break;
		progress_draw(&cmp->prog, call_now_ms(), true);
		call_run_many(calls, k);
		for (i = 0; i < k; i++) {
			struct compare_run *rn = calls[i]->ud;

			log_run(cmp, rn);
			if (rn->final)
				continue;
			progress_clear(&cmp->prog);
			msg_warn("%s failed, trying the next model of '%s': %s",
				rn->call.ref, rn->ref,
				rn->call.err.len ? rn->call.err.ptr :
						   "refused by a content policy");
		}
	}
	/* A signal between rounds: the last call of each chain stands; a
	 * run that never started ends as interrupted. */
	for (i = 0; i < n; i++) {
		struct compare_run *rn = runs[i];

		if (!rn->used) {
			setup_run(cmp, rn);
			rn->call.st = sig_caught() == SIGTERM ?
					      LLM_ERR_TERMINATED :
					      LLM_ERR_INTERRUPTED;
			buf_setf(&rn->call.err, "%s",
				status_str(rn->call.st));
			rn->call.latency_ms = 0;
		}
		rn->final = true;
	}
	free(calls);
	buf_release(&e);
}

/* ==== the judge ==== */

/* The answer that stands for a cell: its run's, or with -n the most
 * common one; NULL when none is ok. */
static const struct call *
cell_answer(const struct compare_cell *c)
{
	struct compare_stats s;

	if (c->nruns == 1)
		return c->runs[0].call.st == LLM_OK ? &c->runs[0].call : NULL;
	compare_stats(c, &s);
	return s.common;
}

static void
judge_setup(struct compare *cmp, struct compare_prompt *pr,
	struct compare_run **jr, size_t *nj)
{
	struct compare_judge *j = &pr->judge;
	const char **answers;
	struct buf text = BUF_INIT, e = BUF_INIT;
	size_t i, v;

	j->cands = xcalloc(cmp->r.ncells, sizeof(*j->cands));
	for (i = 0; i < cmp->r.ncells; i++)
		if (cell_answer(&pr->cells[i]))
			j->cands[j->ncands++] = i;
	if (j->ncands < 2) {
		j->why = "fewer than two answers to judge";
		j->done = true;
		return;
	}
	answers = xcalloc(j->ncands, sizeof(*answers));
	for (v = 0; v < 2; v++) {
		struct compare_run *rn = &j->v[v].run;

		j->v[v].order = xcalloc(j->ncands, sizeof(size_t));
		for (i = 0; i < j->ncands; i++) {
			size_t k = v == 0 ? i : j->ncands - 1 - i;

			j->v[v].order[i] = k;
			answers[i] = cell_answer(&pr->cells[j->cands[k]])
					     ->res.text.ptr;
		}
		buf_reset(&text);
		compare_judge_prompt(&text, cmp->r.system, pr->text, answers,
			j->ncands);
		rn->cmp = cmp;
		rn->ref = cmp->o->judge;
		rn->judge = true;
		rn->pi = (size_t)(pr - cmp->r.prompts);
		rn->msg.role = "user";
		rn->msg.content = buf_detach(&text);
		if (plan(cmp, rn, &e) != LLM_OK) {
			/* No model of the judge's group can hold them. */
			j->err = buf_detach(&e);
			j->why = j->err;
			j->done = true;
			*nj -= v;
			goto out;
		}
		rn->slot = *nj;
		jr[(*nj)++] = rn;
	}
	j->ran = true;
out:
	free(answers);
	buf_release(&text);
	buf_release(&e);
}

/* Parse the verdicts and rank the candidates by their mean rank. */
static void
judge_settle(struct compare_judge *j)
{
	double *sum = xcalloc(j->ncands, sizeof(*sum));
	size_t *rank = xcalloc(j->ncands, sizeof(*rank));
	size_t v, i, k, found = 0;

	j->avg = xcalloc(j->ncands, sizeof(*j->avg));
	for (v = 0; v < 2; v++) {
		struct compare_verdict *vd = &j->v[v];

		if (vd->run.call.st != LLM_OK ||
			compare_parse_ranking(vd->run.call.res.text.ptr,
				j->ncands, rank) != 0)
			continue;
		vd->ranking = xcalloc(j->ncands, sizeof(*vd->ranking));
		for (i = 0; i < j->ncands; i++) {
			vd->ranking[i] = vd->order[rank[i]];
			sum[vd->ranking[i]] += (double)(i + 1);
		}
		found++;
	}
	for (i = 0; i < j->ncands; i++)
		j->avg[i] = found ? sum[i] / (double)found : -1;
	if (found) {
		/* Insertion sort: stable, so ties keep the -m order. */
		j->best = xcalloc(j->ncands, sizeof(*j->best));
		for (i = 0; i < j->ncands; i++) {
			for (k = i; k > 0 && j->avg[j->best[k - 1]] > j->avg[i];
				k--)
				j->best[k] = j->best[k - 1];
			j->best[k] = i;
		}
	}
	j->done = true;
	free(sum);
	free(rank);
}

static void
judge_all(struct compare *cmp)
{
	struct compare_run **jr;
	size_t i, nj = 0;

	jr = xcalloc(2 * cmp->r.nprompts, sizeof(*jr));
	for (i = 0; i < cmp->r.nprompts; i++)
		judge_setup(cmp, &cmp->r.prompts[i], jr, &nj);
	if (nj) {
		progress_init(&cmp->prog, cmp->prog.fp, nj);
		run_rounds(cmp, jr, nj, "judge ");
	}
	for (i = 0; i < cmp->r.nprompts; i++) {
		struct compare_judge *j = &cmp->r.prompts[i].judge;

		if (j->ran)
			judge_settle(j);
	}
	free(jr);
}

/* ==== output ==== */

static bool
cell_final(const struct compare_cell *c)
{
	size_t i;

	for (i = 0; i < c->nruns; i++)
		if (!c->runs[i].final)
			return false;
	return true;
}

static void
emit(struct compare *cmp, struct buf *piece)
{
	progress_clear(&cmp->prog);
	if (cmp->tany)
		out_write(&cmp->out, "\n", 1);
	out_write(&cmp->out, piece->ptr, piece->len);
	cmp->tany = true;
	buf_reset(piece);
}

/* Write the pieces of the text report that are ready, in order: for
 * each prompt its heading (--prompts), its cells, its judge. */
static void
write_ready(struct compare *cmp)
{
	struct compare_result *r = &cmp->r;
	struct buf piece = BUF_INIT;

	if (cmp->o->format != COMPARE_TEXT)
		return;
	while (cmp->tp < r->nprompts) {
		struct compare_prompt *pr = &r->prompts[cmp->tp];

		if (cmp->tstage == 0) {
			if (r->multi) {
				report_text_heading(&piece, cmp->tp, pr->text);
				emit(cmp, &piece);
			}
			cmp->tstage = 1;
		}
		if (cmp->tstage == 1) {
			for (; cmp->tc < r->ncells; cmp->tc++) {
				if (!cell_final(&pr->cells[cmp->tc]))
					goto out;
				report_text_cell(&piece, &pr->cells[cmp->tc]);
				emit(cmp, &piece);
			}
			cmp->tstage = 2;
		}
		if (pr->judge.asked) {
			if (!pr->judge.done)
				goto out;
			report_text_judge(&piece, r, pr);
			emit(cmp, &piece);
		}
		cmp->tp++;
		cmp->tc = 0;
		cmp->tstage = 0;
	}
out:
	buf_release(&piece);
}

/* ==== the run ==== */

static enum llm_status
read_prompts(struct compare *cmp, struct buf *err)
{
	const struct compare_opts *o = cmp->o;
	struct buf text = BUF_INIT;
	char **list = NULL;
	size_t n = 0, i;
	enum llm_status st;

	if (o->prompts == NULL) {
		st = prompt_read(o->argc, o->argv, &text, err);
		if (st == LLM_OK) {
			list = xcalloc(1, sizeof(*list));
			list[n++] = buf_detach(&text);
		}
	} else if (o->argc > 0) {
		buf_setf(err, "--prompts and a prompt on the command line "
			      "cannot be used together");
		st = LLM_ERR_USAGE;
	} else {
		st = prompt_read_file(o->prompts, &text, err);
		if (st == LLM_OK)
			compare_prompts_parse(text.ptr, text.len, &list, &n);
		if (st == LLM_OK && n == 0) {
			buf_setf(err, "no prompts in '%s': write one per line",
				o->prompts);
			st = LLM_ERR_USAGE;
		}
	}
	cmp->r.prompts = xcalloc(n ? n : 1, sizeof(*cmp->r.prompts));
	cmp->r.nprompts = n;
	for (i = 0; i < n; i++)
		cmp->r.prompts[i].text = list[i];
	free(list);
	buf_release(&text);
	return st;
}

/* Every reference must name something usable before anything is sent. */
static enum llm_status
check_refs(struct compare *cmp, struct buf *err)
{
	const struct compare_opts *o = cmp->o;
	struct compare_run probe;
	enum llm_status st = LLM_OK;
	size_t i;

	for (i = 0; i <= o->nmodels && st == LLM_OK; i++) {
		memset(&probe, 0, sizeof(probe));
		probe.ref = i < o->nmodels ? o->models[i] : o->judge;
		if (probe.ref == NULL)
			continue;
		probe.msg.content = "";
		st = plan(cmp, &probe, err);
		route_release(&probe.rt);
	}
	return st;
}

/* Add a run to those the rounds send. */
static void
add_run(struct compare *cmp, struct compare_run *rn)
{
	cmp->runs = xgrowarray(cmp->runs, &cmp->runs_alloc, cmp->nruns + 1,
		sizeof(*cmp->runs));
	rn->slot = cmp->nruns;
	cmp->runs[cmp->nruns++] = rn;
}

/* The shadows of rn's group: the same request, logged, never reported. */
static enum llm_status
add_shadows(struct compare *cmp, struct compare_run *rn, struct buf *err)
{
	struct compare_run *sh;
	enum llm_status st;
	size_t i;

	for (i = 0; i < rn->rt.nshadows; i++) {
		sh = xcalloc(1, sizeof(*sh));
		sh->cmp = cmp;
		sh->ref = rn->rt.shadows[i];
		sh->shadow = true;
		sh->system = rn->system;
		sh->msg = rn->msg;
		sh->pi = rn->pi;
		sh->ri = rn->ri;
		cmp->shadows = xgrowarray(cmp->shadows, &cmp->shadows_alloc,
			cmp->nshadows + 1, sizeof(*cmp->shadows));
		cmp->shadows[cmp->nshadows++] = sh;
		if ((st = plan(cmp, sh, err)) != LLM_OK)
			return st;
		add_run(cmp, sh);
	}
	return LLM_OK;
}

/* The runs of the prompts x models x -n matrix, each with its route. */
static enum llm_status
build_runs(struct compare *cmp, struct buf *err)
{
	const struct compare_opts *o = cmp->o;
	struct compare_result *r = &cmp->r;
	enum llm_status st;
	size_t p, m, k;

	r->ncells = o->nmodels;
	r->repeat = (size_t)o->repeat;
	for (p = 0; p < r->nprompts; p++) {
		struct compare_prompt *pr = &r->prompts[p];

		pr->cells = xcalloc(r->ncells, sizeof(*pr->cells));
		pr->judge.asked = o->judge != NULL;
		for (m = 0; m < r->ncells; m++) {
			struct compare_cell *c = &pr->cells[m];

			c->ref = o->models[m];
			c->group = registry_group(&cmp->reg, c->ref);
			c->nruns = r->repeat;
			c->runs = xcalloc(c->nruns, sizeof(*c->runs));
		}
	}
	for (p = 0; p < r->nprompts; p++)
		for (m = 0; m < r->ncells; m++)
			for (k = 0; k < r->repeat; k++) {
				struct compare_run *rn =
					&r->prompts[p].cells[m].runs[k];

				rn->cmp = cmp;
				rn->ref = o->models[m];
				rn->system = r->system;
				rn->msg.role = "user";
				rn->msg.content = r->prompts[p].text;
				rn->pi = p;
				rn->ri = k;
				if ((st = plan(cmp, rn, err)) != LLM_OK)
					return st;
				add_run(cmp, rn);
				if ((st = add_shadows(cmp, rn, err)) != LLM_OK)
					return st;
			}
	return LLM_OK;
}

static void
free_run(struct compare_run *rn)
{
	if (rn->used)
		call_release(&rn->call);
	route_release(&rn->rt);
	if (rn->judge)
		free((char *)rn->msg.content);
}

static void
free_result(struct compare_result *r)
{
	size_t p, m, k, v;

	for (p = 0; p < r->nprompts; p++) {
		struct compare_prompt *pr = &r->prompts[p];
		struct compare_judge *j = &pr->judge;

		for (m = 0; pr->cells && m < r->ncells; m++) {
			for (k = 0; k < pr->cells[m].nruns; k++)
				free_run(&pr->cells[m].runs[k]);
			free(pr->cells[m].runs);
		}
		free(pr->cells);
		for (v = 0; v < 2; v++) {
			free_run(&j->v[v].run);
			free(j->v[v].order);
			free(j->v[v].ranking);
		}
		free(j->cands);
		free(j->err);
		free(j->avg);
		free(j->best);
		free(pr->text);
	}
	free(r->prompts);
}

/* Report what went wrong with the judge of prompt p; its status: the
 * failure of its requests, or LLM_ERR_DATA when neither verdict held a
 * ranking. */
static enum llm_status
judge_outcome(struct compare *cmp, size_t p)
{
	const struct compare_result *r = &cmp->r;
	const struct compare_judge *j = &r->prompts[p].judge;
	enum llm_status vst[2] = { LLM_OK, LLM_OK };
	struct buf where = BUF_INIT;
	size_t v;

	if (r->multi)
		buf_addf(&where, " on prompt %zu", p + 1);
	if (!j->ran && j->asked && !sig_caught())
		msg_warn("judge %s not asked%s: %s", r->judge, where.ptr,
			j->why);
	for (v = 0; j->ran && v < 2; v++) {
		const struct call *c = &j->v[v].run.call;

		vst[v] = c->st;
		if (c->st == LLM_OK && j->v[v].ranking == NULL) {
			vst[v] = LLM_ERR_DATA;
			msg_warn("judge %s: no ranking in its verdict%s (%s "
				 "order)", c->ref, where.ptr,
				v ? "reversed" : "given");
		} else if (c->st != LLM_OK && c->st != LLM_ERR_INTERRUPTED &&
			c->st != LLM_ERR_TERMINATED) {
			msg_error("judge %s: %s", c->ref, c->err.ptr);
		}
	}
	buf_release(&where);
	if (!j->ran || vst[0] == LLM_OK || vst[1] == LLM_OK)
		return LLM_OK;
	if (vst[0] == LLM_ERR_DATA && vst[1] == LLM_ERR_DATA)
		msg_error("judge %s: no ranking in either verdict", r->judge);
	return vst[0] != LLM_ERR_DATA ? vst[0] : vst[1];
}

/* Report the failures on stderr and work out the status. */
static enum llm_status
outcome(struct compare *cmp)
{
	struct compare_result *r = &cmp->r;
	enum llm_status st = LLM_OK, jst = LLM_OK, s;
	size_t p, m, k;

	progress_clear(&cmp->prog);
	for (p = 0; p < r->nprompts; p++) {
		struct compare_prompt *pr = &r->prompts[p];

		for (m = 0; m < r->ncells; m++)
			for (k = 0; k < pr->cells[m].nruns; k++) {
				const struct call *c = &pr->cells[m].runs[k].call;

				if (c->st == LLM_OK || c->st == LLM_ERR_PIPE)
					continue;
				if (st == LLM_OK)
					st = c->st;
				if (c->st != LLM_ERR_INTERRUPTED &&
					c->st != LLM_ERR_TERMINATED)
					msg_error("%s: %s", c->ref, c->err.ptr);
			}
		if ((s = judge_outcome(cmp, p)) != LLM_OK && jst == LLM_OK)
			jst = s;
	}
	if (sig_caught())
		return sig_caught() == SIGTERM ? LLM_ERR_TERMINATED :
						 LLM_ERR_INTERRUPTED;
	return st != LLM_OK ? st : jst;
}

enum llm_status
compare_run(const struct compare_opts *o, struct buf *err)
{
	struct compare cmp;
	struct buf rep = BUF_INIT;
	enum llm_status st;
	size_t i;

	memset(&cmp, 0, sizeof(cmp));
	cmp.o = o;
	cmp.system.ptr = cmp.group_id.ptr = cmp.logerr.ptr = buf_empty;
	if (o->nmodels == 0) {
		buf_setf(err, "no models to compare: give them with -m");
		st = LLM_ERR_USAGE;
		goto out;
	}
	if (o->judge && (o->nmodels < 2 || o->nmodels > COMPARE_JUDGE_MAX)) {
		buf_setf(err, "--judge ranks from 2 to %d models, not %zu",
			COMPARE_JUDGE_MAX, o->nmodels);
		st = LLM_ERR_USAGE;
		goto out;
	}
	if ((st = cfg_load(&cmp.cfg, o->config, err)) != LLM_OK)
		goto out;
	if ((st = registry_load(&cmp.reg, &cmp.cfg, err)) != LLM_OK)
		goto out;
	guard_route_env(&cmp.env, cmp.reg.database);
	if ((st = check_refs(&cmp, err)) != LLM_OK)
		goto out;
	if ((st = gen_opts_system(&o->gen, &cmp.system, err)) != LLM_OK)
		goto out;
	if ((st = read_prompts(&cmp, err)) != LLM_OK)
		goto out;
	cmp.r.multi = o->prompts != NULL;
	cmp.r.system = cmp.system.len ? cmp.system.ptr : NULL;
	cmp.r.judge = o->judge;
	call_group_id(&cmp.group_id);
	cmp.r.group_id = o->no_log ? NULL : cmp.group_id.ptr;
	if ((st = build_runs(&cmp, err)) != LLM_OK)
		goto out;
	msg_debug(1, "%zu request(s), group id %s", cmp.nruns,
		cmp.group_id.ptr);

	progress_init(&cmp.prog, o->progress ? stderr : NULL, cmp.nruns);
	run_rounds(&cmp, cmp.runs, cmp.nruns, "");
	if (o->judge && !sig_caught())
		judge_all(&cmp);
	for (i = 0; i < cmp.r.nprompts; i++) {
		struct compare_judge *j = &cmp.r.prompts[i].judge;

		if (j->asked && !j->done) {
			j->why = "interrupted";
			j->done = true;
		}
	}
	progress_clear(&cmp.prog);
	if (o->format == COMPARE_TEXT) {
		write_ready(&cmp);
	} else {
		report_write(&rep, &cmp.r, o->format);
		out_write(&cmp.out, rep.ptr, rep.len);
	}
	st = outcome(&cmp);
	if (cmp.out.error && (st == LLM_OK || st == LLM_ERR_IO)) {
		buf_setf(err, "cannot write standard output: %s",
			strerror(cmp.out.error));
		st = LLM_ERR_IO;
	}
	if (cmp.logerr.len) {
		if (st == LLM_OK) {
			buf_setf(err, "%s", cmp.logerr.ptr);
			st = LLM_ERR_IO;
		} else {
			msg_error("%s", cmp.logerr.ptr);
		}
	}
	if ((st == LLM_ERR_INTERRUPTED || st == LLM_ERR_TERMINATED) &&
		err->len == 0)
		buf_setf(err, "%s", status_str(st));
out:
	free_result(&cmp.r);
	for (i = 0; i < cmp.nshadows; i++) {
		free_run(cmp.shadows[i]);
		free(cmp.shadows[i]);
	}
	free(cmp.shadows);
	free(cmp.runs);
	progress_release(&cmp.prog);
	store_close(cmp.store);
	registry_release(&cmp.reg);
	cfg_release(&cmp.cfg);
	buf_release(&cmp.system);
	buf_release(&cmp.group_id);
	buf_release(&cmp.logerr);
	buf_release(&rep);
	return st;
}
