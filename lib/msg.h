/*
 * msg.h - diagnostics on stderr.
 *
 * One line each, prefixed with the program's name: "llm-chat: error: ...".
 * Warnings are muted by -q; debug lines need -v (level 1) or -vv (2).
 * Data never goes through here: it belongs on stdout.
 */
#ifndef LLM_MSG_H
#define LLM_MSG_H

/* Set the name used as prefix (borrowed; usually a string literal). */
void msg_init(const char *progname);
const char *msg_progname(void);
/* -q sets quiet; each -v raises the verbosity. */
void msg_set_quiet(int quiet);
void msg_set_verbosity(int level);
int msg_verbosity(void);
int msg_quiet(void);

void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
