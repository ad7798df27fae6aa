/*
 * history.h - llm-log: the request log and the sessions, listed, shown,
 * searched, summed up, exported, pruned, backed up and repriced.
 *
 * history_run() does one command (see llm-log(1) for what each prints)
 * on the log that the registry names ([defaults] database).  It checks
 * that the options given apply to the command (LLM_ERR_USAGE if not).
 * Reading commands open the log read-only and never create it; a
 * missing log reads as an empty one, with a warning.  Output goes to the
 * sink as it is made, so that an export of a large log needs little
 * memory.
 *
 * Exit statuses: LLM_ERR_USAGE for bad arguments; LLM_ERR_DATA for a
 * request or session that is not in the log (or no log at all), or a new
 * session name that is taken; LLM_ERR_IO when the log cannot be read or
 * written; the sink's own status when it fails (LLM_ERR_PIPE when the
 * reader went away).
 *
 * Ownership: everything is borrowed.  warn gets a warning for stderr
 * (empty if none), err the message of a failure.
 */
#ifndef LLM_HISTORY_H
#define LLM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "registry.h"
#include "status.h"

struct history_opts {
	const char *verb; /* NULL: "list" */
	char **args;      /* the words after the verb */
	int nargs;
	long limit;       /* -n; -1: unset (list and search: 20); 0: all */
	const char *model, *provider, *session, *group, *status;
	const char *since, *until;
	const char *by;         /* stats: model (default), provider, day */
	bool cost;              /* stats: chart the cost */
	const char *format;     /* export: csv (default) or jsonl */
	const char *older_than; /* prune */
	long keep;              /* prune: -1: unset */
	bool dry_run;           /* prune, reprice */
	bool json;
	bool tty;   /* stdout is a terminal: stats draws its chart */
	bool color; /* and colours are wanted: search marks the matches */
	time_t now; /* 0: time(NULL) */
};

/* clang-format off */
#define HISTORY_OPTS_INIT { .limit = -1, .keep = -1 }
/* clang-format on */

/* Where the output goes: write() gets it in pieces and returns LLM_OK,
 * or the status to end with. */
struct history_sink {
	enum llm_status (*write)(void *ud, const char *p, size_t n);
	void *ud;
};

enum llm_status history_run(const struct registry *reg,
	const struct history_opts *o, const struct history_sink *sink,
	struct buf *warn, struct buf *err);

#endif
