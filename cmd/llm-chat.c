/* llm-chat - one prompt, or one session turn, to one model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chat.h"
#include "msg.h"
#include "opt.h"
#include "sig.h"
#include "status.h"

enum {
	OPT_ATOMIC = GEN_OPT_END,
	OPT_CONFIG,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_NO_LOG,
};

static const char synopsis[] =
	"usage: llm-chat [-chqVv] [-m model] [-o key=value] [-S name] "
	"[-s text] [-t temp]\n"
	"                [--atomic] [--config file] [--dry-run] [--json] "
	"[--no-log]\n"
	"                [generation options] [--] [prompt ...]\n";

static const char help[] =
	"\nSend a prompt to a model and stream the answer to stdout.\n"
	"The prompt is the arguments, or stdin, or both (arguments, a blank\n"
	"line, then stdin).\n\n"
	"  -c, --continue         continue the most recently used session\n"
	"  -h, --help             print this help\n"
	"  -m, --model REF        alias, group or PROVIDER/MODEL\n"
	"  -q, --quiet            no warnings\n"
	"  -S, --session NAME     continue or start a named conversation\n"
	"  -V, --version          print the version\n"
	"  -v, --verbose          debug output on stderr (-vv: HTTP)\n"
	"      --atomic           print the answer only once it is complete\n"
	"      --config FILE      last configuration layer\n"
	"      --dry-run          print the HTTP request, secrets redacted\n"
	"      --json             print one JSON object\n"
	"      --no-log           do not log the request\n"
	"\nGeneration:\n" GEN_HELP
	"\nSee llm-chat(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-chat --help'.\n", fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":chm:qS:Vv" GEN_SHORTOPTS;
	static const struct option longopts[] = {
		GEN_LONGOPTS,
		{ "atomic", no_argument, NULL, OPT_ATOMIC },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "continue", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "model", required_argument, NULL, 'm' },
		{ "no-log", no_argument, NULL, OPT_NO_LOG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "session", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct chat_opts opts = CHAT_OPTS_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st;
	int ch, r, verbose = 0;

	msg_init("llm-chat");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		if ((r = gen_opts_parse(&opts.gen, ch, optarg, &err)) < 0) {
			msg_error("%s", err.ptr);
			exit(64);
		}
		if (r)
			continue;
		switch (ch) {
		case 'c':
			opts.cont = true;
			break;
		case 'h':
			usage(stdout, 0);
		case 'm':
			opts.model = optarg;
			break;
		case 'q':
			msg_set_quiet(1);
			break;
		case 'S':
			opts.session = optarg;
			break;
		case 'V':
			puts("llm-chat " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
			break;
		case OPT_ATOMIC:
			opts.atomic = true;
			break;
		case OPT_CONFIG:
			opts.config = optarg;
			break;
		case OPT_DRY_RUN:
			opts.dry_run = true;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		case OPT_NO_LOG:
			opts.no_log = true;
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
	if (opts.session && opts.cont) {
		msg_error("-S and -c cannot be used together");
		usage(stderr, 64);
	}
	opts.argc = argc - optind;
	opts.argv = argv + optind;

	sig_install();
	st = chat_run(&opts, &err);
	if (st != LLM_OK && err.len)
		msg_error("%s", err.ptr);
	gen_opts_release(&opts.gen);
	buf_release(&err);
	return status_exit_code(st);
}
