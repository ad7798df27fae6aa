/*
 * chat.h - llm-chat: one prompt, or one session turn, to one model.
 *
 * chat_run() does the whole job of the program: reads the configuration,
 * assembles the prompt (arguments, stdin, or both), loads the session's
 * history, sends the request, streams the answer to stdout (ending it in
 * exactly one newline), prints --json or --dry-run output instead when
 * asked, and logs the request.  The answer is printed even when the log
 * cannot be written; that is then reported as LLM_ERR_IO.
 *
 * struct chat_opts borrows its strings (argv); chat_opts_release() frees
 * the arrays it grew.
 */
#ifndef LLM_CHAT_H
#define LLM_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct chat_opts {
	const char *config;
	const char *model;
	const char *system, *system_file;
	bool has_temperature, has_top_p;
	double temperature, top_p;
	long max_tokens; /* 0 = unset */
	const char **stop;
	size_t nstop, stop_alloc;
	const char **options; /* -o KEY=VALUE */
	size_t noptions, options_alloc;
	const char *session;
	bool cont, no_stream, json, no_log, dry_run;
	double timeout; /* 0 = unset */
	int retries;    /* -1 = unset */
	int argc;       /* the prompt's words */
	char **argv;
};

/* clang-format off */
#define CHAT_OPTS_INIT { .retries = -1 }
/* clang-format on */

void chat_opts_add_stop(struct chat_opts *o, const char *s);
void chat_opts_add_option(struct chat_opts *o, const char *kv);
void chat_opts_release(struct chat_opts *o);

/* Run llm-chat; on failure err gets the one-line message (empty when
 * nothing should be printed, as for a closed pipe). */
enum llm_status chat_run(const struct chat_opts *o, struct buf *err);

#endif
