/* logq.c - llm-log's filters, times and full-text queries; see logq.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "days.h"
#include "logq.h"

/* ==== dates ==== */

/* n decimal digits at *p into *v; advances *p. */
static bool
digits(const char **p, int n, long *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static bool
parse_date(const char **p, long *y, int *m, int *d)
{
	long v;

	if (!digits(p, 4, y) || **p != '-')
		return false;
	(*p)++;
	if (!digits(p, 2, &v) || v < 1 || v > 12 || **p != '-')
		return false;
	*m = (int)v;
	(*p)++;
	if (!digits(p, 2, &v) || v < 1 || v > days_in_month(*y, *m))
		return false;
	*d = (int)v;
	return true;
}

bool
logq_day_number(const char *s, long *days)
{
	long y;
	int m, d;

	if (!parse_date(&s, &y, &m, &d))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

void
logq_day_string(long days, char out[11])
{
	long y;
	int m, d;
	char tmp[64];

	days_to_civil(days, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04ld-%02d-%02d", y % 10000, m, d);
	memcpy(out, tmp, 10);
	out[10] = '\0';
}

/* Milliseconds since the epoch into the normalized form. */
static void
format_ms(long long ms, char out[LOGQ_TIME_LEN + 1])
{
	long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	long days = (long)(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
	long rem = (long)(secs - (long long)days * 86400), y;
	int m, d;
	char tmp[96];

	days_to_civil(days, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04ld-%02d-%02dT%02ld:%02ld:%02ld.%03dZ",
		y % 10000, m, d, rem / 3600, rem / 60 % 60, rem % 60,
		(int)(ms - secs * 1000));
	memcpy(out, tmp, LOGQ_TIME_LEN);
	out[LOGQ_TIME_LEN] = '\0';
}

/* "7d", "24h": the time that long before now. */
static bool
parse_relative(const char *s, time_t now, char out[LOGQ_TIME_LEN + 1])
{
	long long n = 0, unit;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > 100000000)
			return false;
	}
	switch (*p) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return false;
	}
	if (p[1] != '\0')
		return false;
	format_ms(((long long)now - n * unit) * 1000, out);
	return true;
}

/* A date with an optional time and offset; *ms since the epoch, and
 * whether it had an offset. */
static bool
parse_stamp(const char *s, long long *msp, bool *offset)
{
	const char *p = s;
	long y, hh = 0, mm = 0, ss = 0, ms = 0, oh = 0, om = 0, v;
	int m, d, sign = 0, n;

	if (!parse_date(&p, &y, &m, &d))
		return false;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &hh) || hh > 23 || *p++ != ':' ||
			!digits(&p, 2, &mm) || mm > 59)
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &ss) || ss > 59)
				return false;
			if (*p == '.') {
				p++;
				for (n = 0; isdigit((unsigned char)*p); p++)
					if (n++ < 3)
						ms = ms * 10 + (*p - '0');
				if (n == 0)
					return false;
				for (; n < 3; n++)
					ms *= 10;
			}
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (!digits(&p, 2, &oh) || oh > 23)
				return false;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) &&
				(!digits(&p, 2, &om) || om > 59))
				return false;
		}
	}
	if (*p != '\0')
		return false;
	v = days_from_civil(y, m, d) * 86400L + hh * 3600 + mm * 60 + ss -
		sign * (oh * 3600 + om * 60);
	*msp = (long long)v * 1000 + ms;
	*offset = sign != 0;
	return true;
}

static bool
parse_absolute(const char *s, char out[LOGQ_TIME_LEN + 1])
{
	long long ms;
	bool offset;

	if (!parse_stamp(s, &ms, &offset))
		return false;
	format_ms(ms, out);
	return true;
}

bool
logq_time_norm(const char *stored, char out[LOGQ_TIME_LEN + 1])
{
	out[0] = '\0';
	return stored && parse_absolute(stored, out);
}

bool
logq_day(const char *stored, char day[11])
{
	long long ms;
	bool offset;

	day[0] = '\0';
	if (stored == NULL || !parse_stamp(stored, &ms, &offset))
		return false;
	if (offset) /* the day in UTC */
		logq_day_string((long)(ms >= 0 ? ms / 86400000 :
						 (ms - 86399999) / 86400000),
			day);
	else /* as written */
		memcpy(day, stored, 10);
	day[10] = '\0';
	return true;
}

bool
logq_time(const char *when, time_t now, char out[LOGQ_TIME_LEN + 1],
	struct buf *err)
{
	out[0] = '\0';
	if (parse_relative(when, now, out) || parse_absolute(when, out))
		return true;
	buf_setf(err, "invalid time '%s': give 30m, 24h, 7d, 2w, YYYY-MM-DD "
		      "or YYYY-MM-DDTHH:MM[:SS][Z]",
		when);
	return false;
}

/* ==== full text ==== */

/* Append text[0..n) as an FTS5 string, then " *" for a prefix. */
static void
fts_term(struct buf *out, const char *text, size_t n, bool prefix)
{
	size_t i;

	if (out->len)
		buf_addch(out, ' ');
	buf_addch(out, '"');
	for (i = 0; i < n; i++) {
		if (text[i] == '"')
			buf_addch(out, '"');
		buf_addch(out, text[i]);
	}
	buf_addch(out, '"');
	if (prefix)
		buf_adds(out, " *");
}

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

enum llm_status
logq_fts(const char *text, struct buf *out, struct buf *err)
{
	const char *p = text, *start, *end;
	bool prefix;

	buf_reset(out);
	while (*p) {
		if (space(*p)) {
			p++;
			continue;
		}
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
			end = p;
			if (*p == '"')
				p++;
			prefix = *p == '*';
			if (prefix)
				p++;
		} else {
			start = p;
			while (*p && !space(*p))
				p++;
			end = p;
			prefix = end - start > 1 && end[-1] == '*';
			if (prefix)
				end--;
		}
		if (end > start)
			fts_term(out, start, (size_t)(end - start), prefix);
	}
	if (out->len == 0) {
		buf_setf(err, "nothing to search for: give a word");
		return LLM_ERR_USAGE;
	}
	return LLM_OK;
}

/* ==== conditions ==== */

void
logq_where(const struct logq_filter *f, bool noindex, struct buf *sql)
{
	const char *plus = noindex ? "+" : "";

	if (f->model)
		buf_addf(sql, " AND %sr.model = ?", plus);
	if (f->provider)
		buf_addf(sql, " AND %sr.provider = ?", plus);
	if (f->status)
		buf_addf(sql, " AND %sr.status = ?", plus);
	if (f->session)
		buf_adds(sql, " AND r.session_id ="
			      " (SELECT id FROM sessions WHERE name = ?)");
	if (f->group)
		buf_adds(sql, " AND r.group_id = ?");
	if (f->since[0])
		buf_adds(sql, " AND " LOGQ_TIME " >= ?");
	if (f->until[0])
		buf_adds(sql, " AND " LOGQ_TIME " < ?");
}

int
logq_bind(const struct logq_filter *f, sqlite3_stmt *st, int *i)
{
	const char *v[7];
	int n = 0, k, rc = SQLITE_OK;

	if (f->model)
		v[n++] = f->model;
	if (f->provider)
		v[n++] = f->provider;
	if (f->status)
		v[n++] = f->status;
	if (f->session)
		v[n++] = f->session;
	if (f->group)
		v[n++] = f->group;
	if (f->since[0])
		v[n++] = f->since;
	if (f->until[0])
		v[n++] = f->until;
	for (k = 0; k < n && rc == SQLITE_OK; k++)
		rc = sqlite3_bind_text(st, ++*i, v[k], -1, SQLITE_STATIC);
	return rc;
}
