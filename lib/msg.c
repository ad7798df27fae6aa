/* msg.c - diagnostics on stderr; see msg.h. */
#include <stdarg.h>
#include <stdio.h>

#include "msg.h"

static const char *progname = "llm";
static int quiet;
static int verbosity;

void
msg_init(const char *name)
{
	progname = name;
}

const char *
msg_progname(void)
{
	return progname;
}

void
msg_set_quiet(int q)
{
	quiet = q;
}

void
msg_set_verbosity(int level)
{
	verbosity = level;
}

int
msg_verbosity(void)
{
	return verbosity;
}

int
msg_quiet(void)
{
	return quiet;
}

static void
vmsg(const char *kind, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s: ", progname, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vmsg("warning", fmt, ap);
	va_end(ap);
}

void
msg_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (verbosity < level)
		return;
	va_start(ap, fmt);
	vmsg("debug", fmt, ap);
	va_end(ap);
}
