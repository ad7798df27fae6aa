/* llm-log - the request log and the sessions. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "history.h"
#include "msg.h"
#include "opt.h"
#include "registry.h"
#include "status.h"

enum {
	OPT_BY = 256,
	OPT_CONFIG,
	OPT_COST,
	OPT_DRY_RUN,
	OPT_FORMAT,
	OPT_GROUP,
	OPT_JSON,
	OPT_KEEP,
	OPT_MODEL,
	OPT_OLDER_THAN,
	OPT_PROVIDER,
	OPT_SESSION,
	OPT_SINCE,
	OPT_STATUS,
	OPT_UNTIL,
};

static const char synopsis[] =
	"usage: llm-log [-hqVv] [-n count] [--by key] [--config file] "
	"[--cost] [--dry-run]\n"
	"               [--format csv|jsonl] [--group id] [--json] "
	"[--keep n] [--model ref]\n"
	"               [--older-than age] [--provider name] "
	"[--session name] [--since time]\n"
	"               [--status status] [--until time] [command [arg ...]]\n";

static const char help[] =
	"\nThe request log and the sessions.  Commands:\n"
	"  list                  the latest requests (the default)\n"
	"  show ID|last          one request, or its whole compare or chain "
	"run\n"
	"  search TEXT           full text over prompts and answers\n"
	"  sessions [list]       the sessions; also: show NAME, rm NAME,\n"
	"                        rename OLD NEW\n"
	"  stats                 requests, errors, latency, tokens, cost\n"
	"  export                every column, as CSV or JSON lines\n"
	"  prune                 remove old requests\n"
	"  path                  print the log's path\n"
	"  backup FILE           write a consistent copy of the log\n"
	"  reprice               recompute costs from the prices in llm.ini\n"
	"\n"
	"  -h, --help            print this help\n"
	"  -n N                  at most N requests (default 20; 0: all)\n"
	"  -q, --quiet           no warnings\n"
	"  -V, --version         print the version\n"
	"  -v, --verbose         debug output on stderr\n"
	"      --by KEY          stats per model, provider or day\n"
	"      --config FILE     last configuration layer\n"
	"      --cost            stats: chart the cost per day\n"
	"      --dry-run         prune, reprice: report, change nothing\n"
	"      --format F        export as csv (default) or jsonl\n"
	"      --group ID        the requests of one compare or chain run\n"
	"      --json            print JSON\n"
	"      --keep N          prune all but the newest N requests\n"
	"      --model REF       only requests made with this model\n"
	"      --older-than AGE  prune requests older than AGE (30d, DATE)\n"
	"      --provider NAME   only requests to this provider\n"
	"      --session NAME    only the requests of this session\n"
	"      --since TIME      only from TIME on (7d, 24h, 30m, DATE)\n"
	"      --status S        only ok, error or interrupted requests\n"
	"      --until TIME      only before TIME\n"
	"\nSee llm-log(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-log --help'.\n", fp);
	exit(status);
}

static long
number(const char *name, const char *arg)
{
	const char *errstr;
	long n;

	if (!opt_long(arg, 0, 1000000000000L, &n, &errstr)) {
		msg_error("%s is %s: '%s'", name, errstr, arg);
		exit(64);
	}
	return n;
}

static enum llm_status
write_stdout(void *ud, const char *p, size_t n)
{
	(void)ud;
	if (fwrite(p, 1, n, stdout) == n)
		return LLM_OK;
	return errno == EPIPE ? LLM_ERR_PIPE : LLM_ERR_IO;
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":hn:qVv";
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, OPT_BY },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "cost", no_argument, NULL, OPT_COST },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "quiet", no_argument, NULL, 'q' },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct history_opts opts = HISTORY_OPTS_INIT;
	struct history_sink sink = { write_stdout, NULL };
	struct cfg cfg = CFG_INIT;
	struct registry reg = REGISTRY_INIT;
	struct buf warn = BUF_INIT, err = BUF_INIT;
	const char *config = NULL, *nc;
	enum llm_status st;
	int ch, verbose = 0;

	msg_init("llm-log");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'n':
			opts.limit = number("count", optarg);
			break;
		case 'q':
			msg_set_quiet(1);
			break;
		case 'V':
			puts("llm-log " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
			break;
		case OPT_BY:
			opts.by = optarg;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_COST:
			opts.cost = true;
			break;
		case OPT_DRY_RUN:
			opts.dry_run = true;
			break;
		case OPT_FORMAT:
			opts.format = optarg;
			break;
		case OPT_GROUP:
			opts.group = optarg;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		case OPT_KEEP:
			opts.keep = number("keep", optarg);
			break;
		case OPT_MODEL:
			opts.model = optarg;
			break;
		case OPT_OLDER_THAN:
			opts.older_than = optarg;
			break;
		case OPT_PROVIDER:
			opts.provider = optarg;
			break;
		case OPT_SESSION:
			opts.session = optarg;
			break;
		case OPT_SINCE:
			opts.since = optarg;
			break;
		case OPT_STATUS:
			opts.status = optarg;
			break;
		case OPT_UNTIL:
			opts.until = optarg;
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
	if (optind < argc) {
		opts.verb = argv[optind++];
		opts.args = argv + optind;
		opts.nargs = argc - optind;
	}
	opts.tty = isatty(STDOUT_FILENO);
	nc = getenv("NO_COLOR");
	opts.color = opts.tty && (nc == NULL || *nc == '\0');

	signal(SIGPIPE, SIG_IGN);
	st = cfg_load(&cfg, config, &err);
	if (st == LLM_OK)
		st = registry_load(&reg, &cfg, &err);
	if (st == LLM_OK)
		st = history_run(&reg, &opts, &sink, &warn, &err);
	if (warn.len)
		msg_warn("%s", warn.ptr);
	if (fflush(stdout) == EOF && st == LLM_OK) {
		st = errno == EPIPE ? LLM_ERR_PIPE : LLM_ERR_IO;
		buf_setf(&err, "cannot write standard output");
	}
	if (st != LLM_OK && st != LLM_ERR_PIPE && err.len)
		msg_error("%s", err.ptr);
	registry_release(&reg);
	cfg_release(&cfg);
	buf_release(&warn);
	buf_release(&err);
	return status_exit_code(st);
}
