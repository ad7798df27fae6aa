/*
 * logview.h - how llm-log writes what it found: JSON strings, CSV fields,
 * durations, costs, sizes, one-line extracts of texts, times to the
 * minute and bar charts.
 *
 * Every function appends to a caller's struct buf; nothing is printed.
 */
#ifndef LLM_LOGVIEW_H
#define LLM_LOGVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* n bytes of s as a JSON string, quoted and escaped; bytes that are not
 * UTF-8 become U+FFFD.  s NULL: null. */
void logview_json_str(struct buf *out, const char *s, size_t n);
/* Milliseconds: "850ms", "1.2s", "75s"; negative: "-". */
void logview_ms(struct buf *out, long ms);
/* US dollars: "$0.000123" (six decimals); negative: "-". */
void logview_cost(struct buf *out, double usd);
/* Bytes: "0 bytes", "512 bytes", "4.5 kB", "4.5 MB", "1.2 GB" (1024). */
void logview_bytes(struct buf *out, double bytes);
/* The start of s on one line: control characters and runs of whitespace
 * become one space, leading ones are dropped; at most width characters,
 * ending in "..." when cut.  With marks, the bytes 1 and 2 (the start and
 * end of a match) are kept, and take no room. */
void logview_oneline(struct buf *out, const char *s, size_t width,
	bool marks);
/* A normalized time to the minute, "2026-11-23 08:13"; NULL or a short
 * string: "-". */
void logview_minute(struct buf *out, const char *iso);
/* One bar per value, from U+2581 (lowest) to U+2588 (max); a space for
 * zero (and for everything when max is 0). */
void logview_bars(struct buf *out, const double *v, size_t n);

#endif
