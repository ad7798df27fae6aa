/* report.c - llm-compare's output formats; see report.h. */
#include <stdint.h>
#include <string.h>

#include "csv.h"
#include "json.h"
#include "report.h"

#define HEADING_CHARS 60

static const char *const verdict_name[2] = { "as given", "reversed" };

void
report_cost(struct buf *out, double usd)
{
	struct buf s = BUF_INIT;
	double scaled = usd;
	int d = 2, i;

	if (usd < 0) {
		buf_adds(out, "$?");
		return;
	}
	for (i = 0; i < d; i++)
		scaled *= 10;
	while (usd > 0 && scaled < 100 && d < 12) {
		scaled *= 10;
		d++;
	}
	buf_addf(&s, "%.*f", d, usd);
	while (s.len > 0 && s.ptr[s.len - 1] == '0' &&
		s.len - (size_t)(strchr(s.ptr, '.') - s.ptr) > 3)
		buf_truncate(&s, s.len - 1);
	buf_addf(out, "$%s", s.ptr);
	buf_release(&s);
}

static void
add_ms(struct buf *out, long ms)
{
	if (ms >= 0)
		buf_addf(out, "%ld ms", ms);
	else
		buf_adds(out, "? ms");
}

static void
add_count(struct buf *out, long n)
{
	if (n >= 0)
		buf_addf(out, "%ld", n);
	else
		buf_addch(out, '?');
}

/* Output tokens per second over the whole request. */
static double
rate(const struct call *c)
{
	if (c->output_tokens < 0 || c->latency_ms <= 0)
		return -1;
	return (double)c->output_tokens * 1000.0 / (double)c->latency_ms;
}

static void
add_rate(struct buf *out, double r)
{
	if (r < 0)
		buf_addch(out, '?');
	else
		buf_addf(out, r < 10 ? "%.1f" : "%.0f", r);
}

static bool
is_interrupted(const struct call *c)
{
	return c->st == LLM_ERR_INTERRUPTED || c->st == LLM_ERR_TERMINATED;
}

void
report_title(struct buf *out, const struct compare_cell *c)
{
	size_t i, j, n = 0;

	buf_adds(out, c->ref);
	if (c->group == NULL)
		return;
	for (i = 0; i < c->nruns; i++) {
		const char *m = c->runs[i].call.ref;

		if (m == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (c->runs[j].call.ref &&
				strcmp(c->runs[j].call.ref, m) == 0)
				break;
		if (j < i)
			continue;
		buf_addf(out, "%s%s", n++ ? ", " : " (", m);
	}
	if (n)
		buf_addch(out, ')');
}

static void
add_tokens(struct buf *out, long in, long outn, bool estimated)
{
	if (estimated)
		buf_addch(out, '~');
	add_count(out, in);
	buf_addch(out, '+');
	add_count(out, outn);
}

void
report_text_header(struct buf *out, const struct compare_cell *c)
{
	struct compare_stats s;
	const struct call *k = &c->runs[0].call;

	buf_adds(out, "== ");
	report_title(out, c);
	if (c->nruns == 1) {
		if (k->st != LLM_OK) {
			buf_addf(out, " | %s | ",
				is_interrupted(k) ? "interrupted" : "failed");
			add_ms(out, k->latency_ms);
		} else {
			buf_adds(out, " | ");
			add_ms(out, k->latency_ms);
			buf_adds(out, " | first token ");
			add_ms(out, k->ttft_ms);
			buf_adds(out, " | ");
			add_tokens(out, k->input_tokens, k->output_tokens,
				k->tokens_estimated);
			buf_adds(out, " tokens | ");
			add_rate(out, rate(k));
			buf_adds(out, " tok/s | ");
			report_cost(out, k->cost);
		}
		buf_adds(out, " ==\n");
		return;
	}
	compare_stats(c, &s);
	buf_addf(out, " | %zu runs", s.n);
	if (s.failed)
		buf_addf(out, ", %zu failed", s.failed);
	if (s.interrupted)
		buf_addf(out, ", %zu interrupted", s.interrupted);
	if (s.ok) {
		buf_adds(out, " | p50 ");
		add_ms(out, s.lat_p50);
		buf_adds(out, " | p95 ");
		add_ms(out, s.lat_p95);
		buf_adds(out, " | first token p50 ");
		add_ms(out, s.ttft_p50);
		buf_adds(out, ", p95 ");
		add_ms(out, s.ttft_p95);
		buf_adds(out, " | ");
		add_tokens(out, s.input_tokens, s.output_tokens, s.estimated);
		buf_addf(out, " tokens | %zu distinct of %zu | ", s.distinct,
			s.ok);
		report_cost(out, s.cost);
	}
	buf_adds(out, " ==\n");
}

/* Text that ends in one newline (nothing when empty). */
static void
add_body(struct buf *out, const char *s, size_t n)
{
	if (n == 0)
		return;
	buf_add(out, s, n);
	if (s[n - 1] != '\n')
		buf_addch(out, '\n');
}

/* The call whose text or error stands for the cell. */
static const struct call *
cell_call(const struct compare_cell *c, struct compare_stats *s)
{
	compare_stats(c, s);
	if (c->nruns == 1 || s->common == NULL)
		return s->common ? s->common :
				   s->first ? s->first : &c->runs[0].call;
	return s->common;
}

void
report_text_cell(struct buf *out, const struct compare_cell *c)
{
	struct compare_stats s;
	const struct call *k = cell_call(c, &s);

	report_text_header(out, c);
	if (k->st == LLM_OK || is_interrupted(k))
		add_body(out, k->res.text.ptr, k->res.text.len);
	else
		add_body(out, k->err.ptr, k->err.len);
}

void
report_text_heading(struct buf *out, size_t index, const char *prompt)
{
	size_t w = 0;
	const char *p;

	buf_addf(out, "# prompt %zu: ", index + 1);
	for (p = prompt; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80 && w++ == HEADING_CHARS)
			break;
		buf_addch(out, *p);
	}
	buf_adds(out, *p ? "...\n" : "\n");
}

/* The reference of candidate k of a judge. */
static const char *
cand_ref(const struct compare_prompt *pr, size_t k)
{
	return pr->cells[pr->judge.cands[k]].ref;
}

static void
add_ranking(struct buf *out, const struct compare_prompt *pr,
	const size_t *ranking, const char *sep)
{
	size_t i;

	for (i = 0; i < pr->judge.ncands; i++)
		buf_addf(out, "%s%s", i ? sep : "", cand_ref(pr, ranking[i]));
}

/* One verdict's line (and the verdict itself when it had no ranking). */
static void
add_verdict(struct buf *out, const struct compare_prompt *pr, size_t v,
	const char *indent)
{
	const struct compare_verdict *vd = &pr->judge.v[v];
	const struct call *c = &vd->run.call;
	const char *p, *e;

	buf_addf(out, "%s: ", verdict_name[v]);
	if (is_interrupted(c)) {
		buf_adds(out, "interrupted\n");
	} else if (c->st != LLM_OK) {
		buf_addf(out, "failed: %s\n", c->err.ptr);
	} else if (vd->ranking) {
		add_ranking(out, pr, vd->ranking, " > ");
		buf_addch(out, '\n');
	} else {
		buf_adds(out, "no ranking found in the verdict:\n");
		for (p = c->res.text.ptr; *p; p = *e ? e + 1 : e) {
			e = strchr(p, '\n');
			if (e == NULL)
				e = p + strlen(p);
			buf_addf(out, "%s%.*s\n", indent, (int)(e - p), p);
		}
	}
}

static void
add_mean(struct buf *out, const struct compare_prompt *pr)
{
	const struct compare_judge *j = &pr->judge;
	size_t i;

	if (j->best == NULL) {
		buf_adds(out, "none");
		return;
	}
	for (i = 0; i < j->ncands; i++)
		buf_addf(out, "%s%s %.1f", i ? ", " : "",
			cand_ref(pr, j->best[i]), j->avg[j->best[i]]);
}

static void
judge_title(struct buf *out, const struct compare_result *r,
	const struct compare_prompt *pr)
{
	const char *m = pr->judge.ran ? pr->judge.v[0].run.call.ref : NULL;

	buf_adds(out, r->judge);
	if (m && strcmp(m, r->judge) != 0)
		buf_addf(out, " (%s)", m);
}

void
report_text_judge(struct buf *out, const struct compare_result *r,
	const struct compare_prompt *pr)
{
	const struct compare_judge *j = &pr->judge;

	buf_adds(out, "== judge ");
	judge_title(out, r, pr);
	buf_adds(out, " ==\n");
	if (!j->ran) {
		buf_addf(out, "not run: %s\n", j->why);
		return;
	}
	add_verdict(out, pr, 0, "  ");
	add_verdict(out, pr, 1, "  ");
	buf_adds(out, "mean rank: ");
	add_mean(out, pr);
	buf_addch(out, '\n');
}

static void
write_text(struct buf *out, const struct compare_result *r)
{
	size_t p, m;
	bool any = false;

	/* A blank line between pieces, as compare.c writes them. */
#define PIECE() (any ? buf_addch(out, '\n') : 0, any = true)
	for (p = 0; p < r->nprompts; p++) {
		const struct compare_prompt *pr = &r->prompts[p];

		if (r->multi) {
			PIECE();
			report_text_heading(out, p, pr->text);
		}
		for (m = 0; m < r->ncells; m++) {
			PIECE();
			report_text_cell(out, &pr->cells[m]);
		}
		if (pr->judge.asked) {
			PIECE();
			report_text_judge(out, r, pr);
		}
	}
#undef PIECE
}

/* ==== markdown ==== */

/* A table cell: '|' escaped, line ends as spaces. */
static void
md_cell(struct buf *out, const char *s)
{
	buf_adds(out, " ");
	for (; *s; s++) {
		if (*s == '|')
			buf_adds(out, "\\|");
		else if (*s == '\n' || *s == '\r')
			buf_addch(out, ' ');
		else
			buf_addch(out, *s);
	}
	buf_adds(out, " |");
}

static void
md_table(struct buf *out, const struct compare_result *r,
	const struct compare_prompt *pr)
{
	struct buf t = BUF_INIT;
	size_t m;

	if (r->repeat == 1)
		buf_adds(out, "| model | status | latency | first token | "
			      "tokens | tok/s | cost |\n"
			      "| --- | --- | ---: | ---: | ---: | ---: | "
			      "---: |\n");
	else
		buf_adds(out, "| model | runs | failed | p50 | p95 | "
			      "first token p50 | first token p95 | tokens | "
			      "distinct | cost |\n"
			      "| --- | ---: | ---: | ---: | ---: | ---: | "
			      "---: | ---: | ---: | ---: |\n");
	for (m = 0; m < r->ncells; m++) {
		const struct compare_cell *c = &pr->cells[m];
		const struct call *k = &c->runs[0].call;
		struct compare_stats s;

		compare_stats(c, &s);
		buf_addch(out, '|');
#define CELL(...) (buf_reset(&t), buf_addf(&t, __VA_ARGS__), md_cell(out, t.ptr))
#define CELL_MS(v) (buf_reset(&t), add_ms(&t, (v)), md_cell(out, t.ptr))
		buf_reset(&t);
		report_title(&t, c);
		md_cell(out, t.ptr);
		if (r->repeat == 1) {
			md_cell(out, k->st == LLM_OK ? "ok" :
				     is_interrupted(k) ? "interrupted" :
							 "failed");
			CELL_MS(k->latency_ms);
			CELL_MS(k->ttft_ms);
			buf_reset(&t);
			add_tokens(&t, k->input_tokens, k->output_tokens,
				k->tokens_estimated);
			md_cell(out, t.ptr);
			buf_reset(&t);
			add_rate(&t, k->st == LLM_OK ? rate(k) : -1);
			md_cell(out, t.ptr);
		} else {
			CELL("%zu", s.n);
			CELL("%zu", s.failed + s.interrupted);
			CELL_MS(s.lat_p50);
			CELL_MS(s.lat_p95);
			CELL_MS(s.ttft_p50);
			CELL_MS(s.ttft_p95);
			buf_reset(&t);
			add_tokens(&t, s.input_tokens, s.output_tokens,
				s.estimated);
			md_cell(out, t.ptr);
			CELL("%zu of %zu", s.distinct, s.ok);
		}
		buf_reset(&t);
		report_cost(&t, s.cost);
		md_cell(out, t.ptr);
#undef CELL
#undef CELL_MS
		buf_addch(out, '\n');
	}
	buf_release(&t);
}

static void
write_markdown(struct buf *out, const struct compare_result *r)
{
	const char *h = r->multi ? "###" : "##";
	size_t p, m;

	for (p = 0; p < r->nprompts; p++) {
		const struct compare_prompt *pr = &r->prompts[p];

		if (p)
			buf_addch(out, '\n');
		if (r->multi) {
			buf_addf(out, "## Prompt %zu\n\n", p + 1);
			buf_addf(out, "> %s\n\n", pr->text);
		}
		md_table(out, r, pr);
		for (m = 0; m < r->ncells; m++) {
			const struct compare_cell *c = &pr->cells[m];
			struct compare_stats s;
			const struct call *k = cell_call(c, &s);

			buf_addf(out, "\n%s ", h);
			report_title(out, c);
			buf_adds(out, "\n\n");
			if (k->st == LLM_OK) {
				add_body(out, k->res.text.ptr, k->res.text.len);
			} else if (is_interrupted(k)) {
				buf_adds(out, "*interrupted*\n");
				if (k->res.text.len)
					buf_addch(out, '\n');
				add_body(out, k->res.text.ptr, k->res.text.len);
			} else {
				buf_adds(out, "**failed:** ");
				add_body(out, k->err.ptr, k->err.len);
			}
		}
		if (pr->judge.asked) {
			buf_addf(out, "\n%s Judge: ", h);
			judge_title(out, r, pr);
			buf_adds(out, "\n\n");
			if (!pr->judge.ran) {
				buf_addf(out, "Not run: %s.\n", pr->judge.why);
				continue;
			}
			for (m = 0; m < 2; m++) {
				buf_adds(out, "- ");
				add_verdict(out, pr, m, "    > ");
			}
			buf_adds(out, "- mean rank: ");
			add_mean(out, pr);
			buf_addch(out, '\n');
		}
	}
}

/* ==== json, jsonl ==== */

static void
add_id(cJSON *j, int64_t id)
{
	if (id > 0)
		json_add_number(j, "id", (double)id);
	else
		cJSON_AddNullToObject(j, "id");
}

static void
add_str_or_null(cJSON *j, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(j, name, s);
	else
		cJSON_AddNullToObject(j, name);
}

static void
add_num_or_null(cJSON *j, const char *name, double v)
{
	if (v >= 0)
		json_add_number(j, name, v);
	else
		cJSON_AddNullToObject(j, name);
}

/* One run: call_json()'s fields, its reference, its group and its id. */
static cJSON *
json_run(const struct compare_cell *c, const struct compare_run *rn)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "ref", c->ref);
	add_str_or_null(j, "group", c->group ? c->group->name : NULL);
	call_json(&rn->call, j);
	add_id(j, rn->id);
	return j;
}

static cJSON *
json_cell(const struct compare_cell *c)
{
	struct compare_stats s;
	cJSON *j, *runs, *u;
	size_t i;

	if (c->nruns == 1)
		return json_run(c, &c->runs[0]);
	compare_stats(c, &s);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "ref", c->ref);
	add_str_or_null(j, "group", c->group ? c->group->name : NULL);
	json_add_number(j, "n", (double)s.n);
	json_add_number(j, "ok", (double)s.ok);
	json_add_number(j, "failed", (double)s.failed);
	json_add_number(j, "interrupted", (double)s.interrupted);
	add_num_or_null(j, "latency_p50_ms", (double)s.lat_p50);
	add_num_or_null(j, "latency_p95_ms", (double)s.lat_p95);
	add_num_or_null(j, "ttft_p50_ms", (double)s.ttft_p50);
	add_num_or_null(j, "ttft_p95_ms", (double)s.ttft_p95);
	json_add_number(j, "distinct", (double)s.distinct);
	add_str_or_null(j, "response",
		s.common ? s.common->res.text.ptr : NULL);
	u = cJSON_AddObjectToObject(j, "usage");
	add_num_or_null(u, "input_tokens", (double)s.input_tokens);
	add_num_or_null(u, "output_tokens", (double)s.output_tokens);
	cJSON_AddBoolToObject(u, "estimated", s.estimated);
	add_num_or_null(j, "cost_usd", s.cost);
	runs = cJSON_AddArrayToObject(j, "runs");
	for (i = 0; i < c->nruns; i++)
		cJSON_AddItemToArray(runs, json_run(c, &c->runs[i]));
	return j;
}

static cJSON *
json_refs(const struct compare_prompt *pr, const size_t *list)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < pr->judge.ncands; i++)
		cJSON_AddItemToArray(a,
			cJSON_CreateString(cand_ref(pr, list[i])));
	return a;
}

/* The judge's object: {"model", "status", "error", "verdicts",
 * "ranking"}. */
static cJSON *
json_judge(const struct compare_result *r, const struct compare_prompt *pr)
{
	const struct compare_judge *j = &pr->judge;
	cJSON *o = cJSON_CreateObject(), *vs, *rk;
	size_t v, i, found = 0;

	cJSON_AddStringToObject(o, "model", r->judge);
	if (!j->ran) {
		cJSON_AddStringToObject(o, "status", "skipped");
		cJSON_AddStringToObject(o, "error", j->why);
		cJSON_AddArrayToObject(o, "verdicts");
		cJSON_AddArrayToObject(o, "ranking");
		return o;
	}
	for (v = 0; v < 2; v++)
		found += j->v[v].ranking != NULL;
	cJSON_AddStringToObject(o, "status",
		found == 2 ? "ok" : found ? "partial" : "failed");
	vs = cJSON_AddArrayToObject(o, "verdicts");
	for (v = 0; v < 2; v++) {
		const struct compare_verdict *vd = &j->v[v];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "order_name", verdict_name[v]);
		cJSON_AddItemToObject(x, "order", json_refs(pr, vd->order));
		if (vd->ranking)
			cJSON_AddItemToObject(x, "ranking",
				json_refs(pr, vd->ranking));
		else
			cJSON_AddNullToObject(x, "ranking");
		call_json(&vd->run.call, x);
		add_id(x, vd->run.id);
		cJSON_AddItemToArray(vs, x);
	}
	rk = cJSON_AddArrayToObject(o, "ranking");
	for (i = 0; j->best && i < j->ncands; i++) {
		size_t k = j->best[i];
		cJSON *x = cJSON_CreateObject(), *ranks;

		cJSON_AddStringToObject(x, "model", cand_ref(pr, k));
		json_add_number(x, "mean_rank", j->avg[k]);
		ranks = cJSON_AddArrayToObject(x, "ranks");
		for (v = 0; v < 2; v++) {
			size_t pos;

			if (j->v[v].ranking == NULL) {
				cJSON_AddItemToArray(ranks, cJSON_CreateNull());
				continue;
			}
			for (pos = 0; j->v[v].ranking[pos] != k; pos++)
				;
			cJSON_AddItemToArray(ranks,
				cJSON_CreateNumber((double)(pos + 1)));
		}
		cJSON_AddItemToArray(rk, x);
	}
	return o;
}

static void
add_results(cJSON *o, const struct compare_result *r,
	const struct compare_prompt *pr)
{
	cJSON *a = cJSON_AddArrayToObject(o, "results");
	size_t m;

	for (m = 0; m < r->ncells; m++)
		cJSON_AddItemToArray(a, json_cell(&pr->cells[m]));
	if (pr->judge.asked)
		cJSON_AddItemToObject(o, "judge", json_judge(r, pr));
}

static void
write_json(struct buf *out, const struct compare_result *r)
{
	cJSON *o = cJSON_CreateObject(), *ps;
	size_t p;

	add_str_or_null(o, "group_id", r->group_id);
	add_str_or_null(o, "system", r->system);
	if (!r->multi) {
		cJSON_AddStringToObject(o, "prompt", r->prompts[0].text);
		add_results(o, r, &r->prompts[0]);
	} else {
		ps = cJSON_AddArrayToObject(o, "prompts");
		for (p = 0; p < r->nprompts; p++) {
			cJSON *x = cJSON_CreateObject();

			json_add_number(x, "index", (double)(p + 1));
			cJSON_AddStringToObject(x, "prompt",
				r->prompts[p].text);
			add_results(x, r, &r->prompts[p]);
			cJSON_AddItemToArray(ps, x);
		}
	}
	json_print(o, out);
	buf_addch(out, '\n');
	cJSON_Delete(o);
}

/* The fields every jsonl line starts with. */
static cJSON *
jsonl_line(const struct compare_result *r, const char *type, size_t p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", type);
	add_str_or_null(o, "group_id", r->group_id);
	json_add_number(o, "prompt_index", (double)(p + 1));
	cJSON_AddStringToObject(o, "prompt", r->prompts[p].text);
	return o;
}

static void
write_jsonl(struct buf *out, const struct compare_result *r)
{
	size_t p, m, k;
	cJSON *o, *x, *it;

	for (p = 0; p < r->nprompts; p++) {
		const struct compare_prompt *pr = &r->prompts[p];

		for (m = 0; m < r->ncells; m++)
			for (k = 0; k < pr->cells[m].nruns; k++) {
				o = jsonl_line(r, "answer", p);
				json_add_number(o, "run", (double)(k + 1));
				x = json_run(&pr->cells[m],
					&pr->cells[m].runs[k]);
				/* Move the run's fields into the line. */
				while ((it = x->child) != NULL) {
					cJSON_DetachItemViaPointer(x, it);
					cJSON_AddItemToObject(o, it->string,
						it);
				}
				cJSON_Delete(x);
				json_print(o, out);
				buf_addch(out, '\n');
				cJSON_Delete(o);
			}
		if (pr->judge.asked) {
			o = jsonl_line(r, "judge", p);
			x = json_judge(r, pr);
			while ((it = x->child) != NULL) {
				cJSON_DetachItemViaPointer(x, it);
				cJSON_AddItemToObject(o, it->string, it);
			}
			cJSON_Delete(x);
			json_print(o, out);
			buf_addch(out, '\n');
			cJSON_Delete(o);
		}
	}
}

/* ==== csv ==== */

static void
csv_long(struct buf *out, long v)
{
	if (v >= 0)
		csv_fieldf(out, "%ld", v);
	else
		csv_field(out, NULL, 0);
}

/* A number without trailing zeros, "0.0000115". */
static void
csv_double(struct buf *out, double v, int prec)
{
	struct buf s = BUF_INIT;

	if (v < 0) {
		csv_field(out, NULL, 0);
		return;
	}
	buf_addf(&s, "%.*f", prec, v);
	while (strchr(s.ptr, '.') && (s.ptr[s.len - 1] == '0' ||
					     s.ptr[s.len - 1] == '.'))
		buf_truncate(&s, s.len - 1);
	csv_field(out, s.ptr, s.len);
	buf_release(&s);
}

static void
write_csv(struct buf *out, const struct compare_result *r)
{
	static const char *const cols[] = { "prompt_index", "prompt", "run",
		"ref", "model", "provider", "provider_model", "status",
		"latency_ms", "ttft_ms", "input_tokens", "output_tokens",
		"tokens_estimated", "cost_usd", "finish_reason", "response",
		"error" };
	size_t p, m, k, i, v;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		csv_str(out, cols[i]);
	if (r->judge) {
		csv_str(out, "judge_rank_1");
		csv_str(out, "judge_rank_2");
		csv_str(out, "judge_mean_rank");
	}
	csv_end_row(out);
	for (p = 0; p < r->nprompts; p++) {
		const struct compare_prompt *pr = &r->prompts[p];
		const struct compare_judge *j = &pr->judge;

		for (m = 0; m < r->ncells; m++) {
			const struct compare_cell *cell = &pr->cells[m];
			size_t cand = SIZE_MAX;

			for (i = 0; i < j->ncands; i++)
				if (j->cands[i] == m)
					cand = i;
			for (k = 0; k < cell->nruns; k++) {
				const struct call *c = &cell->runs[k].call;

				csv_fieldf(out, "%zu", p + 1);
				csv_str(out, pr->text);
				csv_fieldf(out, "%zu", k + 1);
				csv_str(out, cell->ref);
				csv_str(out, c->ref);
				csv_str(out, c->provider->name);
				csv_str(out, c->model->id);
				csv_str(out, call_status_word(c));
				csv_long(out, c->latency_ms);
				csv_long(out, c->ttft_ms);
				csv_long(out, c->input_tokens);
				csv_long(out, c->output_tokens);
				csv_str(out, c->tokens_estimated ? "1" : "0");
				csv_double(out, c->cost, 10);
				csv_str(out, c->res.finish);
				csv_field(out, c->res.text.ptr,
					c->res.text.len);
				csv_str(out, c->st == LLM_OK ? NULL :
							       c->err.ptr);
				if (!r->judge) {
					csv_end_row(out);
					continue;
				}
				for (v = 0; v < 2; v++) {
					size_t pos;
					const size_t *rk = cand != SIZE_MAX ?
						j->v[v].ranking : NULL;

					for (pos = 0; rk && rk[pos] != cand;
						pos++)
						;
					if (rk)
						csv_fieldf(out, "%zu", pos + 1);
					else
						csv_field(out, NULL, 0);
				}
				csv_double(out, cand != SIZE_MAX && j->avg ?
							j->avg[cand] : -1,
					2);
				csv_end_row(out);
			}
		}
	}
}

void
report_write(struct buf *out, const struct compare_result *r,
	enum compare_format f)
{
	switch (f) {
	case COMPARE_TEXT:
		write_text(out, r);
		break;
	case COMPARE_MARKDOWN:
		write_markdown(out, r);
		break;
	case COMPARE_JSON:
		write_json(out, r);
		break;
	case COMPARE_JSONL:
		write_jsonl(out, r);
		break;
	case COMPARE_CSV:
		write_csv(out, r);
		break;
	}
}
