/*
 * gen.h - the generation options that llm-chat, llm-compare and
 * llm-chain share: the system prompt, sampling, limits, extra fields,
 * streaming, time limit and retries.
 *
 * GEN_LONGOPTS goes into a program's getopt_long table, "s:t:o:" into
 * its short options; gen_opts_parse() takes each option getopt_long
 * returns and says whether it was one of these.  gen_opts_apply() puts
 * them into a call, over the per-provider and [defaults] values.
 *
 * struct gen_opts borrows its strings (argv); gen_opts_release() frees
 * the arrays it grew.
 */
#ifndef LLM_GEN_H
#define LLM_GEN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "call.h"
#include "registry.h"

struct gen_opts {
	const char *system, *system_file;
	bool has_temperature, has_top_p;
	double temperature, top_p;
	long max_tokens; /* 0 = unset */
	const char **stop;
	size_t nstop, stop_alloc;
	const char **options; /* -o KEY=VALUE */
	size_t noptions, options_alloc;
	bool no_stream;
	double timeout; /* 0 = unset */
	double connect_timeout, first_byte_timeout, idle_timeout; /* 0 = unset */
	int retries;    /* -1 = unset */
	bool no_wait;   /* --no-wait */
	int cache;      /* --cache 1, --no-cache 0, -1 = unset */
};

/* clang-format off */
#define GEN_OPTS_INIT { .retries = -1, .cache = -1 }

enum {
	GEN_OPT_MAX_TOKENS = 0x200,
	GEN_OPT_NO_STREAM,
	GEN_OPT_RETRIES,
	GEN_OPT_STOP,
	GEN_OPT_SYSTEM_FILE,
	GEN_OPT_TIMEOUT,
	GEN_OPT_TOP_P,
	GEN_OPT_CONNECT_TIMEOUT,
	GEN_OPT_FIRST_BYTE_TIMEOUT,
	GEN_OPT_IDLE_TIMEOUT,
	GEN_OPT_NO_WAIT,
	GEN_OPT_CACHE,
	GEN_OPT_NO_CACHE,
	GEN_OPT_END /* the programs' own options start here */
};

#define GEN_SHORTOPTS "o:s:t:"
#define GEN_LONGOPTS \
	{ "cache", no_argument, NULL, GEN_OPT_CACHE }, \
	{ "no-cache", no_argument, NULL, GEN_OPT_NO_CACHE }, \
	{ "no-wait", no_argument, NULL, GEN_OPT_NO_WAIT }, \
	{ "connect-timeout", required_argument, NULL, \
		GEN_OPT_CONNECT_TIMEOUT }, \
	{ "first-byte-timeout", required_argument, NULL, \
		GEN_OPT_FIRST_BYTE_TIMEOUT }, \
	{ "idle-timeout", required_argument, NULL, GEN_OPT_IDLE_TIMEOUT }, \
	{ "max-tokens", required_argument, NULL, GEN_OPT_MAX_TOKENS }, \
	{ "no-stream", no_argument, NULL, GEN_OPT_NO_STREAM }, \
	{ "option", required_argument, NULL, 'o' }, \
	{ "retries", required_argument, NULL, GEN_OPT_RETRIES }, \
	{ "stop", required_argument, NULL, GEN_OPT_STOP }, \
	{ "system", required_argument, NULL, 's' }, \
	{ "system-file", required_argument, NULL, GEN_OPT_SYSTEM_FILE }, \
	{ "temperature", required_argument, NULL, 't' }, \
	{ "timeout", required_argument, NULL, GEN_OPT_TIMEOUT }, \
	{ "top-p", required_argument, NULL, GEN_OPT_TOP_P }

/* The lines of --help that describe them. */
#define GEN_HELP \
	"  -o, --option KEY=VAL          extra request field (JSON value)\n" \
	"  -s, --system TEXT             system prompt\n" \
	"  -t, --temperature T           sampling temperature\n" \
	"      --cache                   answer from the cache when it can\n" \
	"      --connect-timeout SEC     time limit to connect\n" \
	"      --first-byte-timeout SEC  time limit to the first byte\n" \
	"      --idle-timeout SEC        time limit between two chunks\n" \
	"      --max-tokens N            most tokens to generate\n" \
	"      --no-cache                neither read nor fill the cache\n" \
	"      --no-stream               wait for the whole answer\n" \
	"      --no-wait                 fail when a rate limit says wait\n" \
	"      --retries N               retries on transient failures\n" \
	"      --stop STR                stop sequence (repeatable)\n" \
	"      --system-file F           read the system prompt from F\n" \
	"      --timeout SEC             time limit for the whole request\n" \
	"      --top-p P                 nucleus sampling\n"
/* clang-format on */

/* Take option ch with argument arg: 1 when it is one of these, 0 when
 * not, -1 when its value is bad (err gets the message). */
int gen_opts_parse(struct gen_opts *g, int ch, const char *arg,
	struct buf *err);
void gen_opts_add_stop(struct gen_opts *g, const char *s);
void gen_opts_add_option(struct gen_opts *g, const char *kv);
void gen_opts_release(struct gen_opts *g);

/* The system prompt: -s, else the contents of --system-file, into out
 * (empty when neither is given). */
enum llm_status gen_opts_system(const struct gen_opts *g, struct buf *out,
	struct buf *err);

/* Fill c's request options (not its messages or system prompt), stream
 * flag, time limits and retries from g, over the provider's values, over
 * reg's [defaults]. */
void gen_opts_apply(const struct gen_opts *g, const struct registry *reg,
	struct call *c);

#endif
