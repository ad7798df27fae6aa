/* logview.c - llm-log's output formats; see logview.h. */
#include <math.h>
#include <string.h>

#include "logview.h"

/* The length of the UTF-8 sequence at s (n bytes left), or 0 if it is
 * not a valid one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
		(len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	return len;
}

void
logview_json_str(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len, run;

	if (s == NULL) {
		buf_adds(out, "null");
		return;
	}
	buf_addch(out, '"');
	while (i < n) {
		/* copy plain bytes in one go */
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		     p[run] != '"' && p[run] != '\\';
			run++)
			;
		buf_add(out, p + i, run - i);
		i = run;
		if (i >= n)
			break;
		switch (p[i]) {
		case '"':
			buf_adds(out, "\\\"");
			break;
		case '\\':
			buf_adds(out, "\\\\");
			break;
		case '\n':
			buf_adds(out, "\\n");
			break;
		case '\r':
			buf_adds(out, "\\r");
			break;
		case '\t':
			buf_adds(out, "\\t");
			break;
		default:
			if (p[i] < 0x20) {
				buf_addf(out, "\\u%04x", p[i]);
				break;
			}
			len = utf8_len(p + i, n - i);
			if (len == 0) {
				buf_adds(out, "\\ufffd");
				break;
			}
			buf_add(out, p + i, len);
			i += len;
			continue;
		}
		i++;
	}
	buf_addch(out, '"');
}

void
logview_ms(struct buf *out, long ms)
{
	if (ms < 0)
		buf_addch(out, '-');
	else if (ms < 1000)
		buf_addf(out, "%ldms", ms);
	else if (ms < 10000)
		buf_addf(out, "%ld.%lds", ms / 1000, ms % 1000 / 100);
	else
		buf_addf(out, "%lds", (ms + 500) / 1000);
}

void
logview_cost(struct buf *out, double usd)
{
	if (!(usd >= 0))
		buf_addch(out, '-');
	else
		buf_addf(out, "$%.6f", usd);
}

void
logview_bytes(struct buf *out, double bytes)
{
	if (bytes < 1024)
		buf_addf(out, "%.0f bytes", bytes);
	else if (bytes < 1024.0 * 1024)
		buf_addf(out, "%.1f kB", bytes / 1024);
	else if (bytes < 1024.0 * 1024 * 1024)
		buf_addf(out, "%.1f MB", bytes / (1024.0 * 1024));
	else
		buf_addf(out, "%.1f GB", bytes / (1024.0 * 1024 * 1024));
}

void
logview_oneline(struct buf *out, const char *s, size_t width, bool marks)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t start = out->len, cut = out->len, chars = 0, len;
	int pending = 0;

	for (; *p; p++) {
		if (!(marks && (*p == 1 || *p == 2)) &&
			(*p <= 0x20 || *p == 0x7F)) {
			pending = chars > 0;
			continue;
		}
		if (pending) {
			if (chars + 1 > width)
				goto cut;
			buf_addch(out, ' ');
			chars++;
			pending = 0;
		}
		if (*p == 1 || *p == 2) {
			buf_addch(out, *p);
			continue;
		}
		if (chars + 3 <= width)
			cut = out->len;
		if (chars + 1 > width)
			goto cut;
		len = utf8_len(p, strnlen((const char *)p, 4));
		if (len == 0) {
			buf_adds(out, "?");
		} else {
			buf_add(out, p, len);
			p += len - 1;
		}
		chars++;
	}
	return;
cut:
	/* the last character that leaves room for "..." */
	if (width < 3) {
		buf_truncate(out, start);
		return;
	}
	buf_truncate(out, cut);
	while (out->len > start && out->ptr[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
	buf_adds(out, "...");
}

void
logview_minute(struct buf *out, const char *iso)
{
	if (iso == NULL || strlen(iso) < 16) {
		buf_addch(out, '-');
		return;
	}
	buf_add(out, iso, 10);
	buf_addch(out, ' ');
	buf_add(out, iso + 11, 5);
}

void
logview_bars(struct buf *out, const double *v, size_t n)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583",
		"\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	double max = 0;
	size_t i;
	long level;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++) {
		if (!(v[i] > 0) || max <= 0) {
			buf_addch(out, ' ');
			continue;
		}
		level = (long)ceil(v[i] / max * 8) - 1;
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		buf_adds(out, bars[level]);
	}
}
