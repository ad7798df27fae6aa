/*
 * chain.h - llm-chain: a prompt through several models in sequence, each
 * step fed the previous step's answer.
 *
 * chain_run() does the whole job of the program: reads the configuration,
 * builds the steps (from -m/-s pairs or a chain file, see chainfile.h),
 * checks every step's model and template before anything is sent, reads
 * the input (arguments, stdin, or both), runs the steps one after the
 * other, streams the last step's answer to stdout (ending it in exactly
 * one newline) or prints --json instead, shows the steps on stderr with
 * --show-steps, and logs every request with the chain's id and its step
 * number.  A failing step ends the chain with its status; the steps
 * before it stay logged.  The answer is printed even when the log cannot
 * be written; that is then reported as LLM_ERR_IO.
 *
 * A step's model may be a group (route.h).  A fallback group's next
 * member takes over after a failure before any of the answer was shown;
 * a held answer (every step with --atomic, which shows a step's answer
 * only once it is complete; without it, a step shown nowhere) can fall
 * back after a failure at any point.  The shadows of a shadow group run
 * in a process of their own, forked when the step's primary starts: the
 * next step starts when the primary is done, and chain_run() closes
 * stdout and waits for the shadows at the end, so that every one is
 * logged (with the chain's id, the step and route = the group) before
 * it returns; a signal caught is passed on to them.
 *
 * Precedence of a step's settings, lowest first: the model's defaults in
 * llm.ini, the chain file's step, the command line.  A step's system
 * prompt is its own (-s after its -m, or system in its [step]), else the
 * default one (-s before any -m, or --system-file).
 *
 * struct chain_opts borrows its strings (argv); chain_opts_release()
 * frees the arrays it grew.
 */
#ifndef LLM_CHAIN_H
#define LLM_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "gen.h"
#include "status.h"

/* A step given on the command line: -m REF, and the -s after it. */
struct chain_arg {
	const char *model;
	const char *system; /* NULL: none given */
};

struct chain_opts {
	const char *config;
	const char *file; /* -f */
	struct chain_arg *steps;
	size_t nsteps, steps_alloc;
	struct gen_opts gen; /* gen.system: the -s before any -m */
	bool atomic, carry_input, check, json, no_log, show_steps;
	int argc; /* the input's words */
	char **argv;
};

/* clang-format off */
#define CHAIN_OPTS_INIT { .gen = GEN_OPTS_INIT }
/* clang-format on */

/* -m REF: a new step. */
void chain_opts_add_model(struct chain_opts *o, const char *ref);
/* -s TEXT: the system prompt of the last step given, or the default one
 * before any -m. */
void chain_opts_set_system(struct chain_opts *o, const char *text);
void chain_opts_release(struct chain_opts *o);

/* Run llm-chain; on failure err gets the one-line message (empty when
 * nothing should be printed, as for a closed pipe). */
enum llm_status chain_run(const struct chain_opts *o, struct buf *err);

#endif
