/* llm-providers - what is configured, what works, what it costs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "cfg.h"
#include "msg.h"
#include "opt.h"
#include "providers.h"
#include "registry.h"
#include "sig.h"
#include "status.h"

enum {
	OPT_CHECK = 256,
	OPT_CONFIG,
	OPT_DISCOVER,
	OPT_JSON,
	OPT_MODELS,
	OPT_TAG,
	OPT_TIMEOUT,
};

static const char synopsis[] =
	"usage: llm-providers [-hqVv] [--check] [--config file] [--discover] "
	"[--json]\n"
	"                     [--models] [--tag tag] [--timeout sec] "
	"[provider ...]\n";

static const char help[] =
	"\nList the configured providers and their status, or their models.\n"
	"\n"
	"  -h, --help          print this help\n"
	"  -q, --quiet         no warnings\n"
	"  -V, --version       print the version\n"
	"  -v, --verbose       debug output on stderr\n"
	"      --check         probe each provider live; non-zero exit if "
	"one is down\n"
	"      --config FILE   last configuration layer\n"
	"      --discover      list served models that llm.ini lacks\n"
	"      --json          print JSON\n"
	"      --models        list the configured models and prices\n"
	"      --tag TAG       only models with this tag\n"
	"      --timeout SEC   time limit of each probe (default 10)\n"
	"\nSee llm-providers(1).\n";

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fputs(fp == stdout ? help : "Try 'llm-providers --help'.\n", fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const char optstr[] = ":hqVv";
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "discover", no_argument, NULL, OPT_DISCOVER },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "models", no_argument, NULL, OPT_MODELS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct providers_opts opts = { 0 };
	struct cfg cfg = CFG_INIT;
	struct registry reg = REGISTRY_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *config = NULL, *errstr;
	enum llm_status st;
	int ch, verbose = 0;

	msg_init("llm-providers");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'q':
			msg_set_quiet(1);
			break;
		case 'V':
			puts("llm-providers " LLM_VERSION);
			return 0;
		case 'v':
			msg_set_verbosity(++verbose);
			break;
		case OPT_CHECK:
			opts.check = true;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_DISCOVER:
			opts.discover = true;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		case OPT_MODELS:
			opts.models = true;
			break;
		case OPT_TAG:
			opts.tag = optarg;
			opts.models = true;
			break;
		case OPT_TIMEOUT:
			if (!opt_double(optarg, 0.001, 3600, &opts.timeout,
				    &errstr)) {
				msg_error("timeout is %s: '%s'", errstr, optarg);
				return 64;
			}
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
	if (opts.models && (opts.check || opts.discover)) {
		msg_error("--models cannot be combined with --check or "
			  "--discover");
		usage(stderr, 64);
	}
	opts.names = argv + optind;
	opts.nnames = argc - optind;

	sig_install();
	st = cfg_load(&cfg, config, &err);
	if (st == LLM_OK)
		st = registry_load(&reg, &cfg, &err);
	if (st == LLM_OK)
		st = providers_run(&reg, &opts, &out, &err);
	if (out.len && fwrite(out.ptr, 1, out.len, stdout) != out.len &&
		st == LLM_OK)
		st = LLM_ERR_IO;
	if (fflush(stdout) == EOF && st == LLM_OK) {
		buf_setf(&err, "cannot write standard output");
		st = LLM_ERR_IO;
	}
	if (st != LLM_OK && err.len)
		msg_error("%s", err.ptr);
	registry_release(&reg);
	cfg_release(&cfg);
	buf_release(&out);
	buf_release(&err);
	return status_exit_code(st);
}
