/* test-logq.c - unit tests of lib/logq, lib/logview and lib/logstats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logq.h"
#include "logstats.h"
#include "logview.h"
#include "tap.h"

/* 2026-11-23T08:13:00Z */
#define NOW ((time_t)1795421580)

static const char *
when(const char *s)
{
	static char out[LOGQ_TIME_LEN + 1];
	struct buf err = BUF_INIT;

	if (!logq_time(s, NOW, out, &err))
		snprintf(out, sizeof(out), "invalid");
	buf_release(&err);
	return out;
}

static const char *
fts(const char *text)
{
	static struct buf out = BUF_INIT;
	struct buf err = BUF_INIT;

	if (logq_fts(text, &out, &err) != LLM_OK)
		buf_setf(&out, "error: %s", err.ptr);
	buf_release(&err);
	return out.ptr;
}

static void
test_times(void)
{
	struct buf err = BUF_INIT;
	char out[LOGQ_TIME_LEN + 1], day[11];
	long n;

	is_str(when("7d"), "2026-11-16T08:13:00.000Z", "7d");
	is_str(when("24h"), "2026-11-22T08:13:00.000Z", "24h");
	is_str(when("30m"), "2026-11-23T07:43:00.000Z", "30m (minutes)");
	is_str(when("90s"), "2026-11-23T08:11:30.000Z", "90s");
	is_str(when("2w"), "2026-11-09T08:13:00.000Z", "2w");
	is_str(when("0d"), "2026-11-23T08:13:00.000Z", "0d is now");
	is_str(when("2026-11-01"), "2026-11-01T00:00:00.000Z",
		"a date is its midnight UTC");
	is_str(when("2024-02-29"), "2024-02-29T00:00:00.000Z", "leap day");
	is_str(when("2026-11-01T10:20"), "2026-11-01T10:20:00.000Z",
		"date and minutes");
	is_str(when("2026-11-01 10:20:30"), "2026-11-01T10:20:30.000Z",
		"a space for the T");
	is_str(when("2026-11-01T10:20:30.5Z"), "2026-11-01T10:20:30.500Z",
		"fraction and Z");
	is_str(when("2026-11-01T10:20:30.123456Z"), "2026-11-01T10:20:30.123Z",
		"fraction cut to milliseconds");
	is_str(when("2026-11-01T01:20:30+02:00"), "2026-10-31T23:20:30.000Z",
		"an offset east crosses midnight back");
	is_str(when("2026-12-31T23:30:00-0130"), "2027-01-01T01:00:00.000Z",
		"an offset west, no colon, into the next year");
	is_str(when("2026-11-01T10:20+05"), "2026-11-01T05:20:00.000Z",
		"an offset in hours");
	is_str(when("1970-01-01"), "1970-01-01T00:00:00.000Z", "the epoch");
	is_str(when("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59.000Z",
		"before the epoch");

	is_str(when("2026-02-29"), "invalid", "no 29 February in 2026");
	is_str(when("2026-13-01"), "invalid", "month 13");
	is_str(when("2026-11-31"), "invalid", "31 November");
	is_str(when("2026-11-01T24:00"), "invalid", "hour 24");
	is_str(when("2026-11-01T10:60"), "invalid", "minute 60");
	is_str(when("2026-11-01T10"), "invalid", "hour without minutes");
	is_str(when("2026-11-01T10:20:30."), "invalid", "empty fraction");
	is_str(when("2026-11-01x"), "invalid", "trailing junk");
	is_str(when("26-11-01"), "invalid", "two-digit year");
	is_str(when("7"), "invalid", "a number without unit");
	is_str(when("7y"), "invalid", "unknown unit");
	is_str(when("7dd"), "invalid", "unit twice");
	is_str(when("-7d"), "invalid", "negative");
	is_str(when("d"), "invalid", "unit without number");
	is_str(when(""), "invalid", "empty");
	is_str(when("999999999999d"), "invalid", "absurdly far");
	ok(!logq_time("yesterday", NOW, out, &err), "yesterday is not a time");
	is_str(err.ptr,
		"invalid time 'yesterday': give 30m, 24h, 7d, 2w, YYYY-MM-DD or "
		"YYYY-MM-DDTHH:MM[:SS][Z]",
		"the message says what to give");

	ok(logq_time_norm("2026-01-05 10:00:00", out) &&
			strcmp(out, "2026-01-05T10:00:00.000Z") == 0,
		"a stored time with a space");
	ok(logq_time_norm("2026-01-05T09:00:00.123Z", out) &&
			strcmp(out, "2026-01-05T09:00:00.123Z") == 0,
		"our own form is kept");
	ok(!logq_time_norm("garbage", out) && out[0] == '\0',
		"garbage is no time");
	ok(!logq_time_norm(NULL, out), "NULL is no time");
	ok(!logq_time_norm("7d", out), "no relative times when stored");

	ok(logq_day("2026-11-23T23:59:59.999Z", day) &&
			strcmp(day, "2026-11-23") == 0,
		"the day of our own form");
	ok(logq_day("2026-11-23 08:00:00", day) &&
			strcmp(day, "2026-11-23") == 0,
		"of another program's");
	ok(logq_day("2026-11-23T01:00:00+02:00", day) &&
			strcmp(day, "2026-11-22") == 0,
		"an offset moves it to the UTC day");
	ok(logq_day("2026-11-23T23:00:00-01:30", day) &&
			strcmp(day, "2026-11-24") == 0,
		"either way");
	ok(!logq_day("2026-11-23T25:00:00Z", day) && day[0] == '\0',
		"not a time: no day");
	ok(!logq_day("2026-11-23junk", day), "junk: no day");
	ok(!logq_day(NULL, day), "NULL: no day");
	ok(logq_day_number("2026-11-23T08:13:00Z", &n) && n == 20780,
		"day number");
	logq_day_string(20780, day);
	is_str(day, "2026-11-23", "and back");
	logq_day_string(0, day);
	is_str(day, "1970-01-01", "day 0");
	ok(!logq_day_number("2026-02-30", &n), "no such day");
	buf_release(&err);
}

static void
test_fts(void)
{
	is_str(fts("sigpipe"), "\"sigpipe\"", "one word");
	is_str(fts("  two\twords \n"), "\"two\" \"words\"", "words are ANDed");
	is_str(fts("\"exact phrase\" here"), "\"exact phrase\" \"here\"",
		"a phrase");
	is_str(fts("pipe*"), "\"pipe\" *", "a prefix");
	is_str(fts("\"two words\"*"), "\"two words\" *", "a phrase prefix");
	is_str(fts("don't"), "\"don't\"", "an apostrophe is literal");
	is_str(fts("a\"b"), "\"a\"\"b\"", "a quote inside a word is doubled");
	is_str(fts("-x NOT y OR z AND (w) NEAR(a b) col:v ^s"),
		"\"-x\" \"NOT\" \"y\" \"OR\" \"z\" \"AND\" \"(w)\" \"NEAR(a\" "
		"\"b)\" \"col:v\" \"^s\"",
		"FTS5 syntax is taken literally");
	is_str(fts("*"), "\"*\"", "a lone star is a word");
	is_str(fts("\"unterminated phrase"), "\"unterminated phrase\"",
		"an unterminated phrase runs to the end");
	is_str(fts("\"\" x"), "\"x\"", "an empty phrase is dropped");
	is_str(fts(""), "error: nothing to search for: give a word",
		"empty text");
	is_str(fts(" \t "), "error: nothing to search for: give a word",
		"blank text");
	is_str(fts("\"\""), "error: nothing to search for: give a word",
		"only an empty phrase");
}

static void
test_view(void)
{
	struct buf b = BUF_INIT;
	double v[] = { 0, 1, 2, 4, 8, 7.9, 0.5 };
	double zero[] = { 0, 0 };

	logview_json_str(&b, "a\"b\\c\n\t\r\x01\x1f", 10);
	is_str(b.ptr, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f\"",
		"JSON escapes");
	buf_reset(&b);
	logview_json_str(&b, "h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 12);
	is_str(b.ptr, "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
		"UTF-8 kept as it is");
	buf_reset(&b);
	logview_json_str(&b, "a\xFF" "b\xC3", 4);
	is_str(b.ptr, "\"a\\ufffdb\\ufffd\"", "bad bytes and a cut sequence");
	buf_reset(&b);
	logview_json_str(&b, "\xED\xA0\x80\xC0\xAF", 5);
	is_str(b.ptr, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"",
		"a surrogate and an overlong form are not UTF-8");
	buf_reset(&b);
	logview_json_str(&b, "a\0b", 3);
	is_str(b.ptr, "\"a\\u0000b\"", "NUL inside");
	buf_reset(&b);
	logview_json_str(&b, NULL, 0);
	is_str(b.ptr, "null", "NULL is null");

	buf_reset(&b);
	logview_ms(&b, 0);
	buf_addch(&b, ' ');
	logview_ms(&b, 999);
	buf_addch(&b, ' ');
	logview_ms(&b, 1000);
	buf_addch(&b, ' ');
	logview_ms(&b, 1299);
	buf_addch(&b, ' ');
	logview_ms(&b, 9999);
	buf_addch(&b, ' ');
	logview_ms(&b, 10499);
	buf_addch(&b, ' ');
	logview_ms(&b, 10500);
	buf_addch(&b, ' ');
	logview_ms(&b, -1);
	is_str(b.ptr, "0ms 999ms 1.0s 1.2s 9.9s 10s 11s -", "durations");

	buf_reset(&b);
	logview_cost(&b, 0.000123);
	buf_addch(&b, ' ');
	logview_cost(&b, 0);
	buf_addch(&b, ' ');
	logview_cost(&b, 12.5);
	buf_addch(&b, ' ');
	logview_cost(&b, -1);
	is_str(b.ptr, "$0.000123 $0.000000 $12.500000 -", "costs");

	buf_reset(&b);
	logview_bytes(&b, 0);
	buf_adds(&b, ", ");
	logview_bytes(&b, 1023);
	buf_adds(&b, ", ");
	logview_bytes(&b, 1536);
	buf_adds(&b, ", ");
	logview_bytes(&b, 4.5 * 1024 * 1024);
	buf_adds(&b, ", ");
	logview_bytes(&b, 3.0 * 1024 * 1024 * 1024);
	is_str(b.ptr, "0 bytes, 1023 bytes, 1.5 kB, 4.5 MB, 3.0 GB", "sizes");

	buf_reset(&b);
	logview_oneline(&b, "  Explain\n\n  SIGPIPE\tin one line  ", 60, false);
	is_str(b.ptr, "Explain SIGPIPE in one line", "one line, blanks squeezed");
	buf_reset(&b);
	logview_oneline(&b, "abcdefghij", 10, false);
	is_str(b.ptr, "abcdefghij", "exactly the width: not cut");
	buf_reset(&b);
	logview_oneline(&b, "abcdefghijk", 10, false);
	is_str(b.ptr, "abcdefg...", "one more: cut with dots");
	buf_reset(&b);
	logview_oneline(&b, "abcdef ghij", 10, false);
	is_str(b.ptr, "abcdef...", "a space before the cut is dropped");
	buf_reset(&b);
	logview_oneline(&b, "abcdef  hijklm", 10, false);
	is_str(b.ptr, "abcdef...", "blanks squeezed before cutting");
	buf_reset(&b);
	logview_oneline(&b, "h\xC3\xA9h\xC3\xA9h\xC3\xA9h\xC3\xA9h", 8,
		false);
	is_str(b.ptr, "h\xC3\xA9h\xC3\xA9h...", "UTF-8 counted as characters");
	buf_reset(&b);
	logview_oneline(&b, "\033[31mred\033[0m\x7f", 20, false);
	is_str(b.ptr, "[31mred [0m", "escapes cannot reach the terminal");
	buf_reset(&b);
	logview_oneline(&b, "a\x01" "b\x02" "c", 20, true);
	is_str(b.ptr, "a\x01" "b\x02" "c", "marks kept when asked");
	buf_reset(&b);
	logview_oneline(&b, "a\x01" "b\x02" "c", 20, false);
	is_str(b.ptr, "a b c", "else control characters");
	buf_reset(&b);
	logview_oneline(&b, NULL, 20, false);
	is_str(b.ptr, "", "NULL is empty");
	buf_setf(&b, "keep:");
	logview_oneline(&b, "abcdef", 2, false);
	is_str(b.ptr, "keep:", "too narrow for anything: nothing added");

	buf_reset(&b);
	logview_minute(&b, "2026-11-23T08:13:00.123Z");
	buf_addch(&b, ' ');
	logview_minute(&b, NULL);
	buf_addch(&b, ' ');
	logview_minute(&b, "2026");
	is_str(b.ptr, "2026-11-23 08:13 - -", "minutes");

	buf_reset(&b);
	logview_bars(&b, v, 7);
	is_str(b.ptr,
		" \u2581\u2582\u2584\u2588\u2588\u2581",
		"bars: zero blank, max full, the rest in eighths rounded up");
	buf_reset(&b);
	logview_bars(&b, zero, 2);
	is_str(b.ptr, "  ", "all zero: blank");
	buf_release(&b);
}

static void
test_stats(void)
{
	struct logstats s;
	struct buf b = BUF_INIT;
	long v[] = { 5, 1, 4, 2, 3 };
	long one[] = { 7 };
	long hundred[100];
	int i;

	is_int(logstats_percentile(v, 5, 50), 3, "p50 of 1..5");
	is_int(logstats_percentile(v, 5, 95), 5, "p95 of 1..5");
	is_int(logstats_percentile(v, 4, 50), 2, "p50 of 1..4 is the 2nd");
	is_int(logstats_percentile(one, 1, 95), 7, "one value");
	is_int(logstats_percentile(NULL, 0, 50), -1, "none");
	for (i = 0; i < 100; i++)
		hundred[i] = 100 - i;
	is_int(logstats_percentile(hundred, 100, 95), 95, "p95 of 1..100");
	is_int(logstats_percentile(hundred, 100, 50), 50, "p50 of 1..100");

	logstats_init(&s, "model");
	logstats_add(&s, "b", "2026-11-20", "ok", 100, 10, 5, 7, 0.25);
	logstats_add(&s, "a", "2026-11-20", "ok", 300, 30, 1, 1, -1);
	logstats_add(&s, "b", "2026-11-22", "error", 200, -1, -1, -1, 0.5);
	logstats_add(&s, NULL, NULL, "interrupted", -1, -1, 2, 3, -1);
	logstats_add(&s, "a", "2026-11-23", "ok", 500, 50, 1, 1, -1);
	logstats_finish(&s);
	logstats_text(&s, &b);
	is_str(b.ptr,
		"MODEL  REQUESTS  ERRORS    P50    P95  TTFT_P50  TTFT_P95  IN  "
		"OUT       COST\n"
		"a             2       0  300ms  500ms      30ms      50ms   2  "
		"  2          -\n"
		"b             2       1  100ms  200ms      10ms      10ms   5  "
		"  7  $0.750000\n"
		"-             1       0      -      -         -         -   2  "
		"  3          -\n"
		"total         5       1  200ms  500ms      30ms      50ms   9  "
		" 12  $0.750000\n",
		"stats table: ties by key, unknown key last, total");
	buf_reset(&b);
	logstats_json(&s, &b);
	is_str(b.ptr,
		"{\"by\":\"model\",\"groups\":["
		"{\"model\":\"a\",\"requests\":2,\"errors\":0,"
		"\"latency_p50_ms\":300,\"latency_p95_ms\":500,"
		"\"ttft_p50_ms\":30,\"ttft_p95_ms\":50,\"input_tokens\":2,"
		"\"output_tokens\":2,\"cost_usd\":null},"
		"{\"model\":\"b\",\"requests\":2,\"errors\":1,"
		"\"latency_p50_ms\":100,\"latency_p95_ms\":200,"
		"\"ttft_p50_ms\":10,\"ttft_p95_ms\":10,\"input_tokens\":5,"
		"\"output_tokens\":7,\"cost_usd\":0.75},"
		"{\"model\":null,\"requests\":1,\"errors\":0,"
		"\"latency_p50_ms\":null,\"latency_p95_ms\":null,"
		"\"ttft_p50_ms\":null,\"ttft_p95_ms\":null,\"input_tokens\":2,"
		"\"output_tokens\":3,\"cost_usd\":null}],"
		"\"total\":{\"requests\":5,\"errors\":1,\"latency_p50_ms\":200,"
		"\"latency_p95_ms\":500,\"ttft_p50_ms\":30,\"ttft_p95_ms\":50,"
		"\"input_tokens\":9,\"output_tokens\":12,\"cost_usd\":0.75}}\n",
		"stats JSON");
	buf_reset(&b);
	logstats_chart(&s, false, 60, &b);
	is_str(b.ptr,
		"requests per day, 2026-11-20 to 2026-11-23, max 2\n"
		"\u2588 \u2584\u2584\n",
		"a bar a day, zero days blank");
	buf_reset(&b);
	logstats_chart(&s, true, 60, &b);
	is_str(b.ptr,
		"cost per day, 2026-11-20 to 2026-11-23, max $0.500000\n"
		"\u2584 \u2588 \n",
		"the cost chart");
	buf_reset(&b);
	logstats_chart(&s, false, 2, &b);
	is_str(b.ptr,
		"requests per day, 2026-11-22 to 2026-11-23, max 1\n"
		"\u2588\u2588\n",
		"only the last days");
	logstats_release(&s);

	logstats_init(&s, "day");
	for (i = 0; i < 200; i++)
		logstats_add(&s, i % 2 ? "2026-01-02" : "2026-01-01", NULL,
			"ok", i, i, 1, 1, 0.001);
	logstats_add(&s, NULL, NULL, "ok", 1, 1, 1, 1, 0.001);
	logstats_finish(&s);
	buf_reset(&b);
	logstats_text(&s, &b);
	is_str(b.ptr,
		"DAY         REQUESTS  ERRORS   P50    P95  TTFT_P50  TTFT_P95  "
		" IN  OUT       COST\n"
		"2026-01-01       100       0  98ms  188ms      98ms     188ms  "
		"100  100  $0.100000\n"
		"2026-01-02       100       0  99ms  189ms      99ms     189ms  "
		"100  100  $0.100000\n"
		"-                  1       0   1ms    1ms       1ms       1ms  "
		"  1    1  $0.001000\n"
		"total            201       0  99ms  189ms      99ms     189ms  "
		"201  201  $0.201000\n",
		"by day: in day order, no day last");
	buf_reset(&b);
	logstats_chart(&s, false, 60, &b);
	is_str(b.ptr, "", "no chart without days");
	logstats_release(&s);

	logstats_init(&s, "provider");
	logstats_finish(&s);
	buf_reset(&b);
	logstats_text(&s, &b);
	is_str(b.ptr,
		"PROVIDER  REQUESTS  ERRORS  P50  P95  TTFT_P50  TTFT_P95  IN  "
		"OUT  COST\n"
		"total            0       0    -    -         -         -   0  "
		"  0     -\n",
		"nothing: the total alone");
	logstats_release(&s);

	/* many keys: the hash grows */
	logstats_init(&s, "model");
	for (i = 0; i < 5000; i++) {
		buf_setf(&b, "m%d", i % 1000);
		logstats_add(&s, b.ptr, NULL, "ok", i, -1, -1, -1, -1);
	}
	logstats_finish(&s);
	is_int((long long)s.groups.n, 1000, "1000 keys, 1000 groups");
	ok(s.groups.v[0]->requests == 5 && s.groups.v[999]->requests == 5,
		"5 rows each");
	is_str(s.groups.v[0]->key, "m0", "sorted by key on a tie");
	is_str(s.groups.v[999]->key, "m999", "to the last");
	logstats_release(&s);
	buf_release(&b);
}

int
main(void)
{
	test_times();
	test_fts();
	test_view();
	test_stats();
	return tap_done();
}
