/* logstats.c - llm-log stats; see logstats.h. */
#include <stdlib.h>
#include <string.h>

#include "logq.h"
#include "logstats.h"
#include "logview.h"
#include "table.h"
#include "xalloc.h"

/* ==== groups by key ==== */

static size_t
hash(const char *key)
{
	size_t h = 2166136261u;

	if (key == NULL)
		return 0;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

static bool
same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
set_rehash(struct logstats_set *set)
{
	size_t i, j;

	free(set->slots);
	set->nslots = set->nslots ? set->nslots * 2 : 64;
	set->slots = xcalloc(set->nslots, sizeof(*set->slots));
	for (i = 0; i < set->n; i++) {
		j = hash(set->v[i]->key) & (set->nslots - 1);
		while (set->slots[j])
			j = (j + 1) & (set->nslots - 1);
		set->slots[j] = i + 1;
	}
}

static struct logstats_group *
set_get(struct logstats_set *set, const char *key)
{
	struct logstats_group *g;
	size_t j;

	if (set->last && same(set->last->key, key))
		return set->last;
	if (set->nslots == 0)
		set_rehash(set);
	j = hash(key) & (set->nslots - 1);
	for (; set->slots[j]; j = (j + 1) & (set->nslots - 1)) {
		g = set->v[set->slots[j] - 1];
		if (same(g->key, key))
			return set->last = g;
	}
	g = xcalloc(1, sizeof(*g));
	g->key = xstrdup_or_null(key);
	set->v = xgrowarray(set->v, &set->alloc, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = g;
	set->slots[j] = set->n;
	if (set->n * 2 > set->nslots)
		set_rehash(set);
	return set->last = g;
}

static void
group_release(struct logstats_group *g)
{
	free(g->key);
	free(g->latency.v);
	free(g->ttft.v);
	memset(g, 0, sizeof(*g));
}

static void
set_release(struct logstats_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		group_release(set->v[i]);
		free(set->v[i]);
	}
	free(set->v);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* ==== adding up ==== */

static void
vec_add(struct logstats_vec *v, long x)
{
	if (x < 0)
		return;
	v->v = xgrowarray(v->v, &v->alloc, v->n + 1, sizeof(*v->v));
	v->v[v->n++] = x;
}

static void
count(struct logstats_group *g, const char *status, long latency, long ttft,
	long in, long out, double cost, bool times)
{
	g->requests++;
	if (status && status[0] == 'e' && strcmp(status, "error") == 0)
		g->errors++;
	if (times) {
		vec_add(&g->latency, latency);
		vec_add(&g->ttft, ttft);
	}
	if (in > 0)
		g->input_tokens += in;
	if (out > 0)
		g->output_tokens += out;
	if (cost >= 0) {
		g->cost += cost;
		g->ncost++;
	}
}

void
logstats_init(struct logstats *s, const char *by)
{
	memset(s, 0, sizeof(*s));
	s->by = by;
}

void
logstats_add(struct logstats *s, const char *key, const char *day,
	const char *status, long latency_ms, long ttft_ms, long input_tokens,
	long output_tokens, double cost_usd)
{
	count(set_get(&s->groups, key), status, latency_ms, ttft_ms,
		input_tokens, output_tokens, cost_usd, true);
	/* the total's times are the groups', gathered at the end */
	count(&s->total, status, -1, -1, input_tokens, output_tokens,
		cost_usd, false);
	if (day)
		count(set_get(&s->days, day), status, -1, -1, -1, -1,
			cost_usd, false);
}

static void
swap(long *v, long i, long j)
{
	long t = v[i];

	v[i] = v[j];
	v[j] = t;
}

/* The k-th smallest of v[0..n) (from 0), reordering v: quickselect with
 * a median-of-three pivot, linear on the average, and at ease with
 * duplicates. */
static long
select_nth(long *v, long n, long k)
{
	long lo = 0, hi = n - 1, i, j, mid, pivot;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap(v, mid, lo);
		if (v[hi] < v[lo])
			swap(v, hi, lo);
		if (v[hi] < v[mid])
			swap(v, hi, mid);
		pivot = v[mid];
		i = lo;
		j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				swap(v, i++, j--);
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

long
logstats_percentile(long *v, size_t n, int p)
{
	size_t rank;

	if (n == 0)
		return -1;
	rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return select_nth(v, (long)n, (long)rank - 1);
}

static void
percentiles(struct logstats_group *g)
{
	g->latency_p50 = logstats_percentile(g->latency.v, g->latency.n, 50);
	g->latency_p95 = logstats_percentile(g->latency.v, g->latency.n, 95);
	g->ttft_p50 = logstats_percentile(g->ttft.v, g->ttft.n, 50);
	g->ttft_p95 = logstats_percentile(g->ttft.v, g->ttft.n, 95);
}

/* NULL keys last. */
static int
cmp_key(const struct logstats_group *a, const struct logstats_group *b)
{
	if (a->key == NULL || b->key == NULL)
		return (a->key == NULL) - (b->key == NULL);
	return strcmp(a->key, b->key);
}

static int
cmp_by_key(const void *a, const void *b)
{
	return cmp_key(*(struct logstats_group *const *)a,
		*(struct logstats_group *const *)b);
}

static int
cmp_by_requests(const void *a, const void *b)
{
	const struct logstats_group *x = *(struct logstats_group *const *)a;
	const struct logstats_group *y = *(struct logstats_group *const *)b;

	if ((x->key == NULL) != (y->key == NULL) ||
		x->requests == y->requests)
		return cmp_key(x, y);
	return x->requests > y->requests ? -1 : 1;
}

/* Append the values of v to all. */
static void
gather(struct logstats_vec *all, const struct logstats_vec *v)
{
	if (v->n == 0)
		return;
	all->v = xgrowarray(all->v, &all->alloc, all->n + v->n,
		sizeof(*all->v));
	memcpy(all->v + all->n, v->v, v->n * sizeof(*v->v));
	all->n += v->n;
}

void
logstats_finish(struct logstats *s)
{
	size_t i;

	if (s->groups.n)
		qsort(s->groups.v, s->groups.n, sizeof(*s->groups.v),
			strcmp(s->by, "day") == 0 ? cmp_by_key :
						    cmp_by_requests);
	if (s->days.n)
		qsort(s->days.v, s->days.n, sizeof(*s->days.v), cmp_by_key);
	s->groups.last = s->days.last = NULL;
	free(s->groups.slots); /* the order changed */
	free(s->days.slots);
	s->groups.slots = s->days.slots = NULL;
	s->groups.nslots = s->days.nslots = 0;
	for (i = 0; i < s->groups.n; i++) {
		gather(&s->total.latency, &s->groups.v[i]->latency);
		gather(&s->total.ttft, &s->groups.v[i]->ttft);
		percentiles(s->groups.v[i]);
	}
	percentiles(&s->total);
}

/* ==== output ==== */

static void
row_cells(struct table *t, const struct logstats_group *g, const char *key)
{
	struct buf b = BUF_INIT;

	table_add(t, key);
	table_addf(t, "%ld", g->requests);
	table_addf(t, "%ld", g->errors);
	logview_ms(&b, g->latency_p50);
	table_add(t, b.ptr);
	buf_reset(&b);
	logview_ms(&b, g->latency_p95);
	table_add(t, b.ptr);
	buf_reset(&b);
	logview_ms(&b, g->ttft_p50);
	table_add(t, b.ptr);
	buf_reset(&b);
	logview_ms(&b, g->ttft_p95);
	table_add(t, b.ptr);
	buf_reset(&b);
	table_addf(t, "%lld", g->input_tokens);
	table_addf(t, "%lld", g->output_tokens);
	logview_cost(&b, g->ncost ? g->cost : -1);
	table_add(t, b.ptr);
	buf_release(&b);
}

void
logstats_text(const struct logstats *s, struct buf *out)
{
	static const char *const head[] = { "REQUESTS", "ERRORS", "P50", "P95",
		"TTFT_P50", "TTFT_P95", "IN", "OUT", "COST" };
	struct table t;
	size_t i;

	table_init(&t, 10);
	for (i = 1; i < 10; i++)
		t.right[i] = true;
	table_add(&t, strcmp(s->by, "model") == 0 ? "MODEL" :
		      strcmp(s->by, "provider") == 0 ? "PROVIDER" :
						       "DAY");
	for (i = 0; i < 9; i++)
		table_add(&t, head[i]);
	for (i = 0; i < s->groups.n; i++)
		row_cells(&t, s->groups.v[i],
			s->groups.v[i]->key ? s->groups.v[i]->key : "-");
	row_cells(&t, &s->total, "total");
	table_render(&t, out);
	table_release(&t);
}

static void
json_num(struct buf *out, const char *name, long v)
{
	buf_addf(out, ",\"%s\":", name);
	if (v < 0)
		buf_adds(out, "null");
	else
		buf_addf(out, "%ld", v);
}

static void
group_json(struct buf *out, const struct logstats_group *g, const char *by)
{
	buf_addch(out, '{');
	if (by) {
		buf_addf(out, "\"%s\":", by);
		logview_json_str(out, g->key, g->key ? strlen(g->key) : 0);
		buf_addch(out, ',');
	}
	buf_addf(out, "\"requests\":%ld,\"errors\":%ld", g->requests,
		g->errors);
	json_num(out, "latency_p50_ms", g->latency_p50);
	json_num(out, "latency_p95_ms", g->latency_p95);
	json_num(out, "ttft_p50_ms", g->ttft_p50);
	json_num(out, "ttft_p95_ms", g->ttft_p95);
	buf_addf(out, ",\"input_tokens\":%lld,\"output_tokens\":%lld",
		g->input_tokens, g->output_tokens);
	if (g->ncost)
		buf_addf(out, ",\"cost_usd\":%.10g}", g->cost);
	else
		buf_adds(out, ",\"cost_usd\":null}");
}

void
logstats_json(const struct logstats *s, struct buf *out)
{
	size_t i;

	buf_addf(out, "{\"by\":\"%s\",\"groups\":[", s->by);
	for (i = 0; i < s->groups.n; i++) {
		if (i)
			buf_addch(out, ',');
		group_json(out, s->groups.v[i], s->by);
	}
	buf_adds(out, "],\"total\":");
	group_json(out, &s->total, NULL);
	buf_adds(out, "}\n");
}

void
logstats_chart(const struct logstats *s, bool cost, size_t max_days,
	struct buf *out)
{
	const struct logstats_set *d = &s->days;
	long first, last, day, k;
	double *v = NULL, max = 0;
	char a[11], b[11];
	size_t i, n;

	if (d->n == 0 || max_days == 0 ||
		!logq_day_number(d->v[0]->key, &first) ||
		!logq_day_number(d->v[d->n - 1]->key, &last))
		return;
	if (last - first + 1 > (long)max_days)
		first = last - (long)max_days + 1;
	n = (size_t)(last - first + 1);
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < d->n; i++) {
		if (!logq_day_number(d->v[i]->key, &day) || day < first)
			continue;
		k = day - first;
		v[k] = cost ? d->v[i]->cost : (double)d->v[i]->requests;
		if (v[k] > max)
			max = v[k];
	}
	logq_day_string(first, a);
	logq_day_string(last, b);
	buf_addf(out, "%s per day, %s to %s, max ", cost ? "cost" : "requests",
		a, b);
	if (cost)
		logview_cost(out, max);
	else
		buf_addf(out, "%.0f", max);
	buf_addch(out, '\n');
	logview_bars(out, v, n);
	buf_addch(out, '\n');
	free(v);
}

void
logstats_release(struct logstats *s)
{
	set_release(&s->groups);
	set_release(&s->days);
	group_release(&s->total);
}
