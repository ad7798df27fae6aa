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
	OPT_CONFIG = 256,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_MAX_TOKENS,
	OPT_NO_LOG,
	OPT_NO_STREAM,
	OPT_RETRIES,
	OPT_STOP,
	OPT_SYSTEM_FILE,
	OPT_TIMEOUT,
	OPT_TOP_P,
};

static const char synopsis[] =
	"usage: llm-chat [-chqVv] [-m model] [-o key=value] [-S name] "
	"[-s text] [-t temp]\n"
	"                [--config file] [--dry-run] [--json] "
	"[--max-tokens n] [--no-log]\n"
	"                [--no-stream] [--retries n] [--stop str] "
	"[--system-file file]\n"
	"                [--timeout sec] [--top-p p] [--] [prompt ...]\n";

static const char help[] =
	"\nSend a prompt to a model and stream the answer to stdout.\n"
	"The prompt is the arguments, or stdin, or both (arguments, a blank\n"
	"line, then stdin).\n\n"
	"  -c, --continue         continue the most recently used session\n"
	"  -h, --help             print this help\n"
	"  -m, --model REF        alias, group or PROVIDER/MODEL\n"
	"  -o, --option KEY=VAL   extra request field (JSON value)\n"
	"  -q, --quiet            no warnings\n"
	"  -S, --session NAME     continue or start a named conversation\n"
	"  -s, --system TEXT      system prompt\n"
	"  -t, --temperature T    sampling temperature\n"
	"  -V, --version          print the version\n"
	"  -v, --verbose          debug output on stderr (-vv: HTTP)\n"
	"      --config FILE      last configuration layer\n"
	"      --dry-run          print the HTTP request, secrets redacted\n"
	"      --json             print one JSON object\n"
	"      --max-tokens N     most tokens to generate\n"
	"      --no-log           do not log the request\n"
	"      --no-stream        wait for the whole answer\n"
	"      --retries N        retries on transient failures\n"
	"      --stop STR         stop sequence (repeatable)\n"
	"      --system-file F    read the system prompt from F\n"
	"      --timeout SEC      time limit for the request\n"
	"      --top-p P          nucleus sampling\n"
	"\nSee llm-chat(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-chat --help'.\n", fp);
	exit(status);
}

static _Noreturn void
bad_number(const char *name, const char *errstr, const char *arg)
{
	msg_error("%s is %s: '%s'", name, errstr, arg);
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":chm:o:qS:s:t:Vv";
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "continue", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
		{ "model", required_argument, NULL, 'm' },
		{ "no-log", no_argument, NULL, OPT_NO_LOG },
		{ "no-stream", no_argument, NULL, OPT_NO_STREAM },
		{ "option", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "session", required_argument, NULL, 'S' },
		{ "stop", required_argument, NULL, OPT_STOP },
		{ "system", required_argument, NULL, 's' },
		{ "system-file", required_argument, NULL, OPT_SYSTEM_FILE },
		{ "temperature", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "top-p", required_argument, NULL, OPT_TOP_P },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct chat_opts opts = CHAT_OPTS_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st;
	const char *errstr;
	int ch, verbose = 0;
	long n;

	msg_init("llm-chat");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opts.cont = true;
			break;
		case 'h':
			usage(stdout, 0);
		case 'm':
			opts.model = optarg;
			break;
		case 'o':
			if (strchr(optarg, '=') == NULL || *optarg == '=') {
				msg_error("option must be KEY=VALUE: '%s'",
					optarg);
				usage(stderr, 64);
			}
			chat_opts_add_option(&opts, optarg);
			break;
		case 'q':
			msg_set_quiet(1);
			break;
		case 'S':
			opts.session = optarg;
			break;
		case 's':
			opts.system = optarg;
			break;
		case 't':
			if (!opt_double(optarg, 0, 2, &opts.temperature,
				    &errstr))
				bad_number("temperature", errstr, optarg);
			opts.has_temperature = true;
			break;
		case 'V':
			puts("llm-chat " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
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
		case OPT_MAX_TOKENS:
			if (!opt_long(optarg, 1, 100000000, &opts.max_tokens,
				    &errstr))
				bad_number("max-tokens", errstr, optarg);
			break;
		case OPT_NO_LOG:
			opts.no_log = true;
			break;
		case OPT_NO_STREAM:
			opts.no_stream = true;
			break;
		case OPT_RETRIES:
			if (!opt_long(optarg, 0, 100, &n, &errstr))
				bad_number("retries", errstr, optarg);
			opts.retries = (int)n;
			break;
		case OPT_STOP:
			chat_opts_add_stop(&opts, optarg);
			break;
		case OPT_SYSTEM_FILE:
			opts.system_file = optarg;
			break;
		case OPT_TIMEOUT:
			if (!opt_double(optarg, 0.001, 86400, &opts.timeout,
				    &errstr))
				bad_number("timeout", errstr, optarg);
			break;
		case OPT_TOP_P:
			if (!opt_double(optarg, 0, 1, &opts.top_p, &errstr))
				bad_number("top-p", errstr, optarg);
			opts.has_top_p = true;
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
	chat_opts_release(&opts);
	buf_release(&err);
	return status_exit_code(st);
}
