/*
 * progress.h - how far each of many requests has got, drawn on a
 * terminal and redrawn in place.
 *
 * One line per item ("fake/echo   streaming, 120 bytes"), or, with more
 * items than fit, one summary line ("3 of 12 done, 1 failed, ...").
 * progress_draw() redraws at most ten times a second (unless forced) by
 * moving the cursor up over the lines drawn before (ANSI CUU, EL, ED);
 * progress_clear() erases them, so that other output can be written to
 * the same terminal, and the next draw puts them back.  Lines are cut to
 * the width given, counted in UTF-8 characters, so that none wraps.
 *
 * With fp NULL nothing is ever written: the caller decides whether its
 * stream is a terminal.  struct progress owns copies of its labels and
 * notes; progress_release() frees them.
 */
#ifndef LLM_PROGRESS_H
#define LLM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum progress_state {
	PROGRESS_WAITING,   /* sent, nothing back yet */
	PROGRESS_STREAMING, /* text is arriving */
	PROGRESS_DONE,
	PROGRESS_FAILED,
};

struct progress_item {
	char *label;
	enum progress_state state;
	size_t bytes; /* streamed so far */
	long ms;      /* latency, when done */
	char *note;   /* why it failed */
};

struct progress {
	FILE *fp; /* NULL: draw nothing */
	struct progress_item *items;
	size_t n;
	size_t drawn;     /* lines on the screen now */
	double last;      /* when they were drawn (ms) */
	bool dirty;       /* changed since */
	size_t max_lines; /* more items: one summary line (default 12) */
	size_t width;     /* columns of a line (default 80) */
};

/* clang-format off */
#define PROGRESS_INIT { 0 }
/* clang-format on */

/* Start over with n items, all waiting and unlabelled; fp as above.
 * p is PROGRESS_INIT or was initialized before (the lines it drew stay
 * known, so that the next draw replaces them). */
void progress_init(struct progress *p, FILE *fp, size_t n);
void progress_label(struct progress *p, size_t i, const char *label);
/* Set item i's state; bytes for streaming, ms for done, note for
 * failed (NULL: none). */
void progress_set(struct progress *p, size_t i, enum progress_state st,
	size_t bytes, long ms, const char *note);
/* The lines that a draw shows, each ending in '\n', into out. */
void progress_render(const struct progress *p, struct buf *out);
/* Redraw if something changed and 100 ms have passed since the last
 * draw (now and last in ms, any monotonic clock) or nothing is on the
 * screen, or if force. */
void progress_draw(struct progress *p, double now, bool force);
/* Erase the lines drawn. */
void progress_clear(struct progress *p);
void progress_release(struct progress *p);

#endif
