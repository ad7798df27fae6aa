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
 * struct chat_opts borrows its strings (argv).
 */
#ifndef LLM_CHAT_H
#define LLM_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "gen.h"
#include "status.h"

struct chat_opts {
	const char *config;
	const char *model;
	struct gen_opts gen;
	const char *session;
	bool cont, json, no_log, dry_run;
	bool atomic; /* print the answer only when it is complete */
	int argc; /* the prompt's words */
	char **argv;
};

/* clang-format off */
#define CHAT_OPTS_INIT { .gen = GEN_OPTS_INIT }
/* clang-format on */

/* Run llm-chat; on failure err gets the one-line message (empty when
 * nothing should be printed, as for a closed pipe). */
enum llm_status chat_run(const struct chat_opts *o, struct buf *err);

#endif
