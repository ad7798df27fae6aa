/*
 * status.h - the outcome of a lib/ call, and its exit code.
 *
 * lib/ functions return an enum llm_status and put a one-line message
 * (lowercase, no full stop) in a caller-supplied struct buf.  cmd/ maps
 * the status to the sysexits code that DESIGN.md fixes.
 */
#ifndef LLM_STATUS_H
#define LLM_STATUS_H

enum llm_status {
	LLM_OK = 0,
	LLM_ERR_USAGE,       /* 64: bad flag, empty prompt */
	LLM_ERR_DATA,        /* 65: malformed reply, bad chain file */
	LLM_ERR_UNAVAILABLE, /* 69: connection refused, 5xx */
	LLM_ERR_INTERNAL,    /* 70 */
	LLM_ERR_IO,          /* 74: cannot write stdout or the log */
	LLM_ERR_TEMP,        /* 75: rate limited, timeout */
	LLM_ERR_AUTH,        /* 77: key refused or missing */
	LLM_ERR_CONFIG,      /* 78: unknown model, bad llm.ini */
	LLM_ERR_INTERRUPTED, /* 130: SIGINT */
	LLM_ERR_TERMINATED,  /* 143: SIGTERM */
	LLM_ERR_PIPE,        /* 0: the reader went away; end quietly */
};

/* A short description of st, for when no message was given. */
const char *status_str(enum llm_status st);
/* The process exit code for st. */
int status_exit_code(enum llm_status st);

#endif
