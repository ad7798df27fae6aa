/*
 * logq.h - what llm-log selects from the log: filters over the requests,
 * times given on the command line, and full-text queries.
 *
 * A struct logq_filter holds the filters of the command line.
 * logq_where() appends them to an SQL statement over "requests r" as
 * " AND ..." terms with ? parameters; logq_bind() binds the parameters in
 * the same order.  Times are compared as LOGQ_TIME, created_at normalized
 * to UTC (see STORE_TIME in store.h), so that the indexes serve them and
 * rows that other programs wrote in another form compare alike.
 *
 * Ownership: the strings of a filter are borrowed; since and until are
 * the filter's own.
 */
#ifndef LLM_LOGQ_H
#define LLM_LOGQ_H

#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "status.h"

struct sqlite3_stmt;

/* STORE_TIME of requests r: "YYYY-MM-DDTHH:MM:SS.sssZ" or NULL. */
#define LOGQ_TIME "strftime('%Y-%m-%dT%H:%M:%fZ', r.created_at)"

/* The length of a normalized time, "2026-11-23T08:13:00.123Z". */
#define LOGQ_TIME_LEN 24

struct logq_filter {
	const char *model;    /* requests.model, exactly */
	const char *provider; /* requests.provider */
	const char *session;  /* the session's name */
	const char *group;    /* requests.group_id */
	const char *status;   /* ok, error, interrupted */
	char since[LOGQ_TIME_LEN + 1]; /* time >= since; "" = none */
	char until[LOGQ_TIME_LEN + 1]; /* time < until; "" = none */
};

/*
 * Parse a time given on the command line into out, normalized: N
 * followed by s, m, h, d or w (N seconds, minutes, hours, days or weeks
 * before now); YYYY-MM-DD (midnight UTC); or YYYY-MM-DD, 'T' or a space,
 * HH:MM[:SS[.fff]] and an optional Z, +HH:MM, -HH:MM, +HHMM or +HH (UTC
 * without one).  Returns false and a message naming what is wrong.
 */
bool logq_time(const char *when, time_t now, char out[LOGQ_TIME_LEN + 1],
	struct buf *err);

/* A stored time ("2026-11-23T08:13:00.123Z", "2026-11-23 08:13:00", with
 * or without an offset) normalized into out, as STORE_TIME does; false if
 * it is not one. */
bool logq_time_norm(const char *stored, char out[LOGQ_TIME_LEN + 1]);

/* The UTC day of a stored time, "YYYY-MM-DD", into day; false if it is
 * not a time.  Faster than logq_time_norm() for our own form. */
bool logq_day(const char *stored, char day[11]);

/* Days since 1970-01-01 of the date that s starts with ("YYYY-MM-DD");
 * false if it is not a valid date. */
bool logq_day_number(const char *s, long *days);
/* The date of a day number, "YYYY-MM-DD", into out. */
void logq_day_string(long days, char out[11]);

/*
 * Turn the text of llm-log search into an FTS5 query in out: every word
 * must occur (AND), "a quoted phrase" must occur as written, and a word
 * (or phrase) ending in * is a prefix.  Everything else is literal:
 * each term is sent as an FTS5 string, so that quotes, '-', ':',
 * parentheses, AND, OR, NOT and NEAR mean nothing special.  Empty text
 * is LLM_ERR_USAGE.
 */
enum llm_status logq_fts(const char *text, struct buf *out, struct buf *err);

/*
 * Append the filter's conditions to sql, each as " AND ...".  With
 * noindex, model, provider and status are written so that SQLite does not
 * use their indexes (for scans that the covering time index serves
 * better).
 */
void logq_where(const struct logq_filter *f, bool noindex, struct buf *sql);
/* Bind what logq_where() added, from parameter *i + 1 on; *i is left at
 * the last one bound.  Returns an SQLite result code. */
int logq_bind(const struct logq_filter *f, struct sqlite3_stmt *st, int *i);

#endif
