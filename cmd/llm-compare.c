/* llm-compare - the same prompt to several models at once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compare.h"
#include "msg.h"
#include "opt.h"
#include "sig.h"
#include "status.h"

enum {
	OPT_CONFIG = GEN_OPT_END,
	OPT_FORMAT,
	OPT_JSON,
	OPT_JUDGE,
	OPT_NO_LOG,
	OPT_PROMPTS,
};

static const char synopsis[] =
	"usage: llm-compare [-hqVv] [-m model[,model...]] [-n runs] "
	"[-o key=value]\n"
	"                   [-s text] [-t temp] [--cache] [--config file]\n"
	"                   [--connect-timeout sec] [--first-byte-timeout sec]\n"
	"                   [--format fmt] [--idle-timeout sec] [--json] "
	"[--judge model]\n"
	"                   [--max-tokens n] [--no-cache] [--no-log] "
	"[--no-stream]\n"
	"                   [--no-wait] [--prompts file] [--retries n] "
	"[--stop str]\n"
	"                   [--system-file file] [--timeout sec] [--top-p p] "
	"[--]\n"
	"                   [prompt ...]\n";

static const char help[] =
	"\nSend the same prompt to several models at once and print the\n"
	"answers side by side, with latency, tokens and cost.  The prompt is\n"
	"the arguments, or stdin, or both (arguments, a blank line, stdin).\n\n"
	"  -h, --help                    print this help\n"
	"  -m, --model REF[,REF...]      a model to compare (repeatable): "
	"alias,\n"
	"                                group or PROVIDER/MODEL\n"
	"  -n, --runs N                  send the prompt N times to each "
	"model\n"
	"  -q, --quiet                   no warnings, no progress\n"
	"  -V, --version                 print the version\n"
	"  -v, --verbose                 debug output on stderr (-vv: HTTP)\n"
	"      --config FILE             last configuration layer\n"
	"      --format FMT              text, markdown, json, jsonl or csv\n"
	"      --json                    --format json\n"
	"      --judge REF               have this model rank the answers\n"
	"      --no-log                  do not log the requests\n"
	"      --prompts FILE            one prompt per line (\"-\": stdin)\n"
	"\nGeneration (the same for every model):\n" GEN_HELP
	"\nSee llm-compare(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-compare --help'.\n", fp);
	exit(status);
}

/* Whether stderr can show the progress lines. */
static bool
progress_wanted(void)
{
	const char *term = getenv("TERM");

	return isatty(STDERR_FILENO) && term && *term &&
		strcmp(term, "dumb") != 0;
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":hm:n:qVv" GEN_SHORTOPTS;
	static const struct option longopts[] = {
		GEN_LONGOPTS,
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "judge", required_argument, NULL, OPT_JUDGE },
		{ "model", required_argument, NULL, 'm' },
		{ "no-log", no_argument, NULL, OPT_NO_LOG },
		{ "prompts", required_argument, NULL, OPT_PROMPTS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "runs", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct compare_opts opts = COMPARE_OPTS_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st;
	const char *errstr;
	int ch, r, verbose = 0, quiet = 0;

	msg_init("llm-compare");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		if ((r = gen_opts_parse(&opts.gen, ch, optarg, &err)) < 0) {
			msg_error("%s", err.ptr);
			exit(64);
		}
		if (r)
			continue;
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'm':
			compare_opts_add_models(&opts, optarg);
			break;
		case 'n':
			if (!opt_long(optarg, 1, 1000, &opts.repeat, &errstr)) {
				msg_error("runs is %s: '%s'", errstr, optarg);
				exit(64);
			}
			break;
		case 'q':
			msg_set_quiet(quiet = 1);
			break;
		case 'V':
			puts("llm-compare " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
			break;
		case OPT_CONFIG:
			opts.config = optarg;
			break;
		case OPT_FORMAT:
			if (!compare_format_parse(optarg, &opts.format)) {
				msg_error("unknown format '%s': use text, "
					  "markdown, json, jsonl or csv",
					optarg);
				exit(64);
			}
			break;
		case OPT_JSON:
			opts.format = COMPARE_JSON;
			break;
		case OPT_JUDGE:
			opts.judge = optarg;
			break;
		case OPT_NO_LOG:
			opts.no_log = true;
			break;
		case OPT_PROMPTS:
			opts.prompts = optarg;
			break;
		case ':':
			msg_error("option '%s' needs an argument",
				argv[optind - 1]);
			usage(stderr, 64);
		default:
			if (optopt)
				msg_error("unknown option '-%c'", optopt);
			else
				msg_error("unknown option '%s'",
					argv[optind - 1]);
			usage(stderr, 64);
		}
	}
	opts.argc = argc - optind;
	opts.argv = argv + optind;
	opts.progress = !quiet && progress_wanted();

	sig_install();
	st = compare_run(&opts, &err);
	if (st != LLM_OK && err.len)
		msg_error("%s", err.ptr);
	compare_opts_release(&opts);
	buf_release(&err);
	return status_exit_code(st);
}
