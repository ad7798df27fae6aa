/*
 * compare.h - llm-compare: one prompt to many models at once, the
 * answers side by side.
 *
 * compare_run() does the whole job of the program: reads the
 * configuration, resolves every -m reference (and --judge) before any
 * request is sent, reads the prompt (arguments and stdin, or --prompts),
 * sends every request of the prompts x models x -n matrix concurrently
 * (call_run_many), routes each request of a group by its strategy
 * (route.h; the runs whose model failed get their next member in another
 * concurrent round; shadows run beside, logged and never reported), has
 * the judge rank the answers in two orders, logs every request under one
 * group id and writes the report to stdout in the chosen format.
 * Progress goes to stderr when asked (the caller knows whether it is a
 * terminal).
 *
 * The text format is written as it becomes ready: each block as soon as
 * it and all blocks before it are complete.  The other formats are
 * written when everything has ended.  The writers are in report.h.
 *
 * struct compare_opts owns the model references it split (see
 * compare_opts_add_models) and borrows its other strings (argv).
 * The result structures below belong to compare_run(); the writers
 * borrow them.
 */
#ifndef LLM_COMPARE_H
#define LLM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "call.h"
#include "gen.h"
#include "registry.h"
#include "route.h"
#include "status.h"

enum compare_format {
	COMPARE_TEXT,
	COMPARE_MARKDOWN,
	COMPARE_JSON,
	COMPARE_JSONL,
	COMPARE_CSV,
};

struct compare_opts {
	const char *config;
	char **models; /* the -m references, in order (owned) */
	size_t nmodels, models_alloc;
	struct gen_opts gen;
	enum compare_format format;
	const char *judge;   /* --judge REF, or NULL */
	const char *prompts; /* --prompts FILE ("-": stdin), or NULL */
	long repeat;         /* -n: runs of each model, 1 or more */
	bool no_log;
	bool progress; /* draw the progress of the requests on stderr */
	int argc;      /* the prompt's words */
	char **argv;
};

/* clang-format off */
#define COMPARE_OPTS_INIT { .gen = GEN_OPTS_INIT, .repeat = 1 }
/* clang-format on */

/* The most models --judge can label (A to Z). */
#define COMPARE_JUDGE_MAX 26

/* Add the references of one -m argument: split at commas, blanks around
 * each trimmed, empty ones skipped. */
void compare_opts_add_models(struct compare_opts *o, const char *arg);
void compare_opts_release(struct compare_opts *o);
/* "text", "markdown", "json", "jsonl" or "csv"; false for others. */
bool compare_format_parse(const char *name, enum compare_format *f);

/* Run llm-compare.  Every failed request has been reported on stderr
 * ("llm-compare: error: MODEL: message"); the status is that of the
 * first failed model in -m order (prompts first, then models, then
 * runs), else the judge's, else LLM_ERR_IO when stdout or the log
 * could not be written.  err gets a message still to print, or stays
 * empty. */
enum llm_status compare_run(const struct compare_opts *o, struct buf *err);

/* ---- the results, for the writers (report.h) ---- */

struct compare;

/* One request: a run of one reference on one prompt, or one of the
 * judge's two. */
struct compare_run {
	struct call call; /* the last call of its fallback chain */
	int64_t id;       /* its row in the log; 0: not logged */
	bool final;       /* call is the last of the chain and has ended */

	/* private to compare.c */
	struct compare *cmp;
	const char *ref;      /* as given */
	struct route rt;      /* the models that may serve it, in order */
	size_t member;        /* the one serving: rt.order[member] */
	size_t next;          /* the one to fall back to */
	bool shadow;          /* a shadow: logged, never reported */
	struct model *m;
	struct provider *p;
	const char *system;   /* NULL: none */
	struct llm_message msg; /* the one user message */
	bool judge;           /* clear the sampling options */
	bool used;            /* call has been set up */
	size_t pi, ri;        /* its prompt and its repetition */
	size_t slot;          /* its progress line */
	size_t bytes;         /* streamed so far */
};

/* One -m reference on one prompt: its -n runs. */
struct compare_cell {
	const char *ref;      /* as given */
	struct group *group;  /* or NULL */
	struct compare_run *runs;
	size_t nruns;
};

/* What the -n runs of a cell add up to. */
struct compare_stats {
	size_t n, ok, failed, interrupted;
	long lat_p50, lat_p95, ttft_p50, ttft_p95; /* ok runs; -1: none */
	size_t distinct;            /* different answers among the ok runs */
	const struct call *common;  /* the first ok run of the most common
				       answer, or NULL */
	const struct call *first;   /* the first run that is not ok */
	long input_tokens, output_tokens; /* summed over the runs; -1 */
	bool estimated;
	double cost;                /* summed; < 0 when no price is known */
};

/* One order of the judge: the answers labelled A, B, ... */
struct compare_verdict {
	struct compare_run run; /* the judge's request and its verdict */
	size_t *order;    /* label i is candidate order[i] */
	size_t *ranking;  /* candidates, best first; NULL: none found */
};

struct compare_judge {
	bool asked;      /* --judge was given */
	bool ran;        /* both requests were made */
	const char *why; /* when not: "fewer than two answers", ... */
	char *err;       /* an owned why */
	size_t *cands;   /* the cells judged, in -m order */
	size_t ncands;
	struct compare_verdict v[2]; /* the given order, then reversed */
	double *avg;     /* per candidate: mean rank over the verdicts found
			    (1 is best), < 0 when none was */
	size_t *best;    /* candidates by mean rank, best first; NULL when
			    no verdict was found */
	bool done;       /* nothing more will change */
};

struct compare_prompt {
	char *text;
	struct compare_cell *cells; /* one per -m reference */
	struct compare_judge judge;
};

struct compare_result {
	struct compare_prompt *prompts;
	size_t nprompts;
	size_t ncells;        /* per prompt */
	size_t repeat;        /* -n */
	bool multi;           /* --prompts: the output is grouped by prompt */
	const char *group_id; /* NULL with --no-log */
	const char *system;   /* NULL: none */
	const char *judge;    /* the judge's reference, or NULL */
};

/* ---- pieces with unit tests ---- */

/* The prompts of a --prompts file: one per line (a CR before the LF is
 * dropped, and trailing blanks); blank lines and lines starting with '#'
 * are skipped.  Each is the caller's to free, and the array too. */
void compare_prompts_parse(const char *text, size_t len, char ***prompts,
	size_t *n);

/* The nearest-rank percentile p (1 to 100) of the n values v, which are
 * sorted in place: the value at rank ceil(p/100 * n).  -1 when n is 0. */
long compare_percentile(long *v, size_t n, unsigned p);

/* Add up the runs of a cell. */
void compare_stats(const struct compare_cell *c, struct compare_stats *s);

/* The judge's request for n answers labelled A, B, ... in the order
 * given; system is the system prompt the answers had, or NULL. */
void compare_judge_prompt(struct buf *out, const char *system,
	const char *prompt, const char *const *answers, size_t n);

/* Find the judge's ranking in a verdict: the last line that holds
 * "RANKING:" followed by the n labels, each once, separated by '>' (or
 * ','), best first; "B > A", "**RANKING:** Answer B > Answer A." and
 * "ranking: b, a" are all read.  order[i] gets the label (0 = A) at
 * rank i.  0 when found, -1 when not. */
int compare_parse_ranking(const char *verdict, size_t n, size_t *order);

#endif
