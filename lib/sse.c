/* sse.c - incremental event-stream decoder; see sse.h. */
#include <string.h>

#include "sse.h"

void
sse_init(struct sse *s, sse_event_fn fn, void *ud)
{
	struct buf empty = BUF_INIT;

	s->fn = fn;
	s->ud = ud;
	s->line = empty;
	s->event = empty;
	s->data = empty;
	s->id = empty;
	s->retry = -1;
	s->has_data = false;
	s->after_cr = false;
	s->started = false;
}

void
sse_release(struct sse *s)
{
	buf_release(&s->line);
	buf_release(&s->event);
	buf_release(&s->data);
	buf_release(&s->id);
}

static int
dispatch(struct sse *s)
{
	int r = 0;

	if (s->has_data) {
		/* The data buffer ends in LF; the event's data does not. */
		buf_truncate(&s->data, s->data.len - 1);
		r = s->fn(s->ud, s->event.len ? s->event.ptr : "message",
			s->data.ptr, s->data.len);
	}
	buf_reset(&s->data);
	buf_reset(&s->event);
	s->has_data = false;
	return r;
}

static int
all_digits(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int
process_line(struct sse *s, const char *p, size_t n)
{
	const char *colon, *val;
	size_t flen, vlen;

	if (n == 0)
		return dispatch(s);
	if (p[0] == ':')
		return 0;
	colon = memchr(p, ':', n);
	if (colon) {
		flen = (size_t)(colon - p);
		val = colon + 1;
		vlen = n - flen - 1;
		if (vlen && *val == ' ') {
			val++;
			vlen--;
		}
	} else {
		flen = n;
		val = p + n;
		vlen = 0;
	}
	if (flen == 5 && memcmp(p, "event", 5) == 0) {
		buf_reset(&s->event);
		buf_add(&s->event, val, vlen);
	} else if (flen == 4 && memcmp(p, "data", 4) == 0) {
		buf_add(&s->data, val, vlen);
		buf_addch(&s->data, '\n');
		s->has_data = true;
	} else if (flen == 2 && memcmp(p, "id", 2) == 0) {
		if (memchr(val, '\0', vlen) == NULL) {
			buf_reset(&s->id);
			buf_add(&s->id, val, vlen);
		}
	} else if (flen == 5 && memcmp(p, "retry", 5) == 0) {
		if (all_digits(val, vlen) && vlen < 10) {
			s->retry = 0;
			while (vlen--)
				s->retry = s->retry * 10 + (*val++ - '0');
		}
	}
	return 0;
}

int
sse_feed(struct sse *s, const char *p, size_t n)
{
	const char *end = p + n, *q;
	int r;

	if (!s->started) {
		/* Strip a UTF-8 BOM, which may itself arrive split. */
		static const char bom[] = "\xEF\xBB\xBF";

		while (p < end && s->line.len < 3 &&
			*p == bom[s->line.len])
			buf_addch(&s->line, *p++);
		if (p == end && s->line.len < 3)
			return 0;
		if (s->line.len == 3)
			buf_reset(&s->line);
		s->started = true;
	}
	if (s->after_cr && p < end) {
		s->after_cr = false;
		if (*p == '\n')
			p++;
	}
	while (p < end) {
		for (q = p; q < end && *q != '\n' && *q != '\r'; q++)
			;
		if (q == end) {
			buf_add(&s->line, p, (size_t)(q - p));
			break;
		}
		if (s->line.len) {
			buf_add(&s->line, p, (size_t)(q - p));
			r = process_line(s, s->line.ptr, s->line.len);
			buf_reset(&s->line);
		} else {
			r = process_line(s, p, (size_t)(q - p));
		}
		if (*q == '\r') {
			if (q + 1 == end)
				s->after_cr = true;
			else if (q[1] == '\n')
				q++;
		}
		p = q + 1;
		if (r)
			return r;
	}
	return 0;
}
