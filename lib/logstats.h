/*
 * logstats.h - llm-log stats: requests summed up per model, provider or
 * day, with percentiles of latency and time to first token, and the
 * requests (or cost) per day as a bar chart.
 *
 * Feed every selected row to logstats_add(), then logstats_finish(), then
 * render.  Percentiles are by nearest rank over the rows that have the
 * value: p50 of 1, 2, 3, 4 is 2, p95 is 4.  Errors are the rows whose
 * status is "error".  struct logstats owns copies of the keys.
 */
#ifndef LLM_LOGSTATS_H
#define LLM_LOGSTATS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct logstats_vec {
	long *v;
	size_t n, alloc;
};

struct logstats_group {
	char *key; /* NULL: the rows without one */
	long requests, errors;
	struct logstats_vec latency, ttft;
	long long input_tokens, output_tokens;
	double cost;
	long ncost; /* rows with a cost */
	long latency_p50, latency_p95, ttft_p50, ttft_p95; /* -1: none */
};

/* Groups by key, with a hash for finding them. */
struct logstats_set {
	struct logstats_group **v;
	size_t n, alloc;
	size_t *slots; /* index + 1; 0 = empty */
	size_t nslots;
	struct logstats_group *last; /* the last one found */
};

struct logstats {
	const char *by; /* "model", "provider" or "day" (borrowed) */
	struct logstats_set groups;
	struct logstats_set days; /* requests and cost per day, for the chart */
	struct logstats_group total;
};

void logstats_init(struct logstats *s, const char *by);
/* One row: its key and day ("YYYY-MM-DD", or NULL), its status; negative
 * numbers are unknown (NULL). */
void logstats_add(struct logstats *s, const char *key, const char *day,
	const char *status, long latency_ms, long ttft_ms, long input_tokens,
	long output_tokens, double cost_usd);
/* Sort the groups (day: by day; else most requests first, then by key)
 * and compute the percentiles. */
void logstats_finish(struct logstats *s);
/* A table: the groups, then a "total" row. */
void logstats_text(const struct logstats *s, struct buf *out);
/* One JSON object: {"by": ..., "groups": [...], "total": {...}}. */
void logstats_json(const struct logstats *s, struct buf *out);
/*
 * A bar chart of the requests (or, with cost, the cost) per day, from the
 * first day to the last with a row (at most the last max_days of them),
 * after a title line; nothing when no row has a day.
 */
void logstats_chart(const struct logstats *s, bool cost, size_t max_days,
	struct buf *out);
void logstats_release(struct logstats *s);

/* The p-th percentile (nearest rank) of v, which it reorders; -1 if n is
 * 0. */
long logstats_percentile(long *v, size_t n, int p);

#endif
