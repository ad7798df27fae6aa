/*
 * out.h - an answer going to a stream (stdout, or stderr for llm-chain's
 * --show-steps), chunk by chunk as it arrives.
 *
 * Each chunk is written and flushed at once.  A reader that went away
 * (EPIPE) and other write errors are remembered: later writes do nothing
 * and return LLM_ERR_PIPE or LLM_ERR_IO, which aborts the call that is
 * streaming into it.  out_finish() ends what was written in exactly one
 * newline.
 */
#ifndef LLM_OUT_H
#define LLM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct out {
	FILE *fp;    /* NULL: stdout */
	bool any;    /* something was written */
	char last;   /* its last byte */
	bool closed; /* the reader went away */
	int error;   /* errno of a failed write */
};

/* Write n bytes; 0, LLM_ERR_PIPE or LLM_ERR_IO. */
int out_write(struct out *o, const char *p, size_t n);
/* The same, shaped as an llm_text_fn (ud is the struct out). */
int out_text(void *ud, const char *p, size_t n);
/* End the text written so far in one newline (also when it was empty);
 * a second call adds nothing. */
void out_finish(struct out *o);
/* Finish, then let the reader see the end of the stream (the stream now
 * goes to /dev/null) while the process goes on, e.g. logging the shadow
 * requests of a group. */
void out_close(struct out *o);
/* The same without finishing: the stream ends as it is. */
void out_detach(struct out *o);

#endif
