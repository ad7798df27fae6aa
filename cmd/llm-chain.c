/* llm-chain - a prompt through several models in sequence. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chain.h"
#include "msg.h"
#include "sig.h"
#include "status.h"

enum {
	OPT_ATOMIC = GEN_OPT_END,
	OPT_CARRY_INPUT,
	OPT_CHECK,
	OPT_CONFIG,
	OPT_JSON,
	OPT_NO_LOG,
	OPT_SHOW_STEPS,
};

static const char synopsis[] =
	"usage: llm-chain [-hqVv] [-f file] [-m model [-s text]] ... "
	"[--atomic]\n"
	"                 [--carry-input] [--check] [--config file] [--json] "
	"[--no-log]\n"
	"                 [--show-steps] [generation options] [--] "
	"[prompt ...]\n";

static const char help[] =
	"\nSend a prompt through several models in turn: step 1 gets the\n"
	"input (arguments, stdin, or both), each later step the answer of the\n"
	"one before; the last answer goes to stdout.  Each -s belongs to the\n"
	"-m before it; a -s before any -m is every other step's default.\n\n"
	"  -f, --file FILE        the steps from a chain file ([step] sections)\n"
	"  -h, --help             print this help\n"
	"  -m, --model REF        a step's model: alias, group or PROVIDER/MODEL\n"
	"  -q, --quiet            no warnings\n"
	"  -V, --version          print the version\n"
	"  -v, --verbose          debug output on stderr (-vv: HTTP)\n"
	"      --atomic           show each step's answer only once complete\n"
	"      --carry-input      give later steps the original input too\n"
	"      --check            check the steps and models, send nothing\n"
	"      --config FILE      last configuration layer\n"
	"      --json             print one JSON object with every step\n"
	"      --no-log           do not log the requests\n"
	"      --show-steps       show each step's answer on stderr\n"
	"\nGeneration (for every step):\n" GEN_HELP
	"\nSee llm-chain(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-chain --help'.\n", fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":f:hm:qVv" GEN_SHORTOPTS;
	static const struct option longopts[] = {
		GEN_LONGOPTS,
		{ "atomic", no_argument, NULL, OPT_ATOMIC },
		{ "carry-input", no_argument, NULL, OPT_CARRY_INPUT },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "model", required_argument, NULL, 'm' },
		{ "no-log", no_argument, NULL, OPT_NO_LOG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "show-steps", no_argument, NULL, OPT_SHOW_STEPS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct chain_opts opts = CHAIN_OPTS_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st;
	int ch, r, verbose = 0;

	msg_init("llm-chain");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		if (ch == 's') {
			chain_opts_set_system(&opts, optarg);
			continue;
		}
		if ((r = gen_opts_parse(&opts.gen, ch, optarg, &err)) < 0) {
			msg_error("%s", err.ptr);
			exit(64);
		}
		if (r)
			continue;
		switch (ch) {
		case 'f':
			opts.file = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'm':
			chain_opts_add_model(&opts, optarg);
			break;
		case 'q':
			msg_set_quiet(1);
			break;
		case 'V':
			puts("llm-chain " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
			break;
		case OPT_ATOMIC:
			opts.atomic = true;
			break;
		case OPT_CARRY_INPUT:
			opts.carry_input = true;
			break;
		case OPT_CHECK:
			opts.check = true;
			break;
		case OPT_CONFIG:
			opts.config = optarg;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		case OPT_NO_LOG:
			opts.no_log = true;
			break;
		case OPT_SHOW_STEPS:
			opts.show_steps = true;
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
	if (opts.file && opts.nsteps) {
		msg_error("-f and -m cannot be used together");
		usage(stderr, 64);
	}
	if (!opts.file && opts.nsteps == 0) {
		msg_error("no steps: give -m MODEL for each step, or -f FILE");
		usage(stderr, 64);
	}
	opts.argc = argc - optind;
	opts.argv = argv + optind;

	sig_install();
	st = chain_run(&opts, &err);
	if (st != LLM_OK && err.len)
		msg_error("%s", err.ptr);
	chain_opts_release(&opts);
	buf_release(&err);
	return status_exit_code(st);
}
