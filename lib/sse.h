/*
 * sse.h - incremental decoder of text/event-stream (WHATWG HTML,
 * "Server-sent events", the event stream interpretation).
 *
 * Feed it bytes as they arrive, split anywhere; it calls back once per
 * dispatched event.  Handles LF, CRLF and CR line ends (a CR at the end
 * of one chunk and an LF at the start of the next are one line end), a
 * leading BOM, comment lines, "field:value" with or without one space,
 * the fields event, data (several lines joined with LF), id and retry,
 * and a field line without a colon.  An event pending at the end of the
 * stream (no blank line after it) is discarded, as the standard says.
 *
 * struct sse owns its buffers; sse_release() frees them.  The strings
 * passed to the callback are borrowed for the duration of the call.
 */
#ifndef LLM_SSE_H
#define LLM_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* event is "message" unless an event: field said otherwise; data is
 * NUL-terminated and len bytes long.  A non-zero return stops the feed
 * and is returned by sse_feed(). */
typedef int (*sse_event_fn)(void *ud, const char *event, const char *data,
	size_t len);

struct sse {
	sse_event_fn fn;
	void *ud;
	struct buf line;  /* an incomplete line */
	struct buf event; /* the pending event's type */
	struct buf data;  /* the pending event's data, each line + LF */
	struct buf id;    /* the last event id */
	long retry;       /* the last retry: value in ms, -1 if none */
	bool has_data;
	bool after_cr;   /* the previous chunk ended in CR */
	bool started;    /* past the optional BOM */
};

void sse_init(struct sse *s, sse_event_fn fn, void *ud);
/* Decode n bytes; returns 0, or the callback's non-zero value. */
int sse_feed(struct sse *s, const char *p, size_t n);
void sse_release(struct sse *s);

#endif
