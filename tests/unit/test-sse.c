/* test-sse.c - unit tests of lib/sse: the WHATWG event-stream rules,
 * with every input also fed split at every byte boundary. */
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "tap.h"

struct log {
	struct buf out;
	int stop_after;
	int n;
};

static int
on_event(void *ud, const char *event, const char *data, size_t len)
{
	struct log *l = ud;

	buf_addf(&l->out, "[%s]", event);
	buf_add(&l->out, data, len);
	buf_adds(&l->out, "|");
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

/* Decode in whole, in two pieces at every boundary and byte by byte;
 * all must give want. */
static void
check(const char *in, const char *want, const char *name)
{
	size_t n = strlen(in), i, j;
	struct log l = { BUF_INIT, 0, 0 };
	struct sse s;
	int same = 1;
	char label[200];

	sse_init(&s, on_event, &l);
	sse_feed(&s, in, n);
	sse_release(&s);
	is_str(l.out.ptr, want, name);
	for (i = 0; i <= n; i++) {
		buf_reset(&l.out);
		sse_init(&s, on_event, &l);
		sse_feed(&s, in, i);
		sse_feed(&s, in + i, n - i);
		sse_release(&s);
		if (strcmp(l.out.ptr, want) != 0)
			same = 0;
	}
	buf_reset(&l.out);
	sse_init(&s, on_event, &l);
	for (j = 0; j < n; j++)
		sse_feed(&s, in + j, 1);
	sse_release(&s);
	if (strcmp(l.out.ptr, want) != 0)
		same = 0;
	snprintf(label, sizeof(label), "%s, split anywhere", name);
	ok(same, label);
	buf_release(&l.out);
}

int
main(void)
{
	struct log l = { BUF_INIT, 0, 0 };
	struct sse s;
	int r;

	check("data: hello\n\n", "[message]hello|", "one event, LF");
	check("data: hello\r\n\r\n", "[message]hello|", "CRLF");
	check("data: hello\r\rdata: two\r\r", "[message]hello|[message]two|",
		"CR line ends");
	check("data: a\r\n\ndata: b\n\r\n", "[message]a|[message]b|",
		"mixed line ends");
	check(": keep-alive\n\ndata: x\n\n", "[message]x|",
		"comment lines and empty events are ignored");
	check(": OPENROUTER PROCESSING\ndata: x\n: mid\n\n", "[message]x|",
		"comment inside an event");
	check("data:nospace\n\n", "[message]nospace|", "no space after colon");
	check("data:  two spaces\n\n", "[message] two spaces|",
		"only one space is stripped");
	check("data: a\ndata: b\ndata:\n\n", "[message]a\nb\n|",
		"multi-line data joined with LF");
	check("event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n",
		"[message_start]{}|[ping]{}|", "event field");
	check("event: e1\n\ndata: d\n\n", "[message]d|",
		"event type resets after an event without data");
	check("data\n\n", "[message]|", "field without colon");
	check("id: 5\nretry: 3000\nfoo: bar\ndata: z\n\n", "[message]z|",
		"id, retry and unknown fields");
	check("\xEF\xBB\xBF" "data: bom\n\n", "[message]bom|", "leading BOM");
	check("data: h\xC3\xA9llo \xF0\x9F\x98\x80\n\n",
		"[message]h\xC3\xA9llo \xF0\x9F\x98\x80|",
		"UTF-8 bytes pass through");
	check("data: cut", "", "an unterminated event is discarded");
	check("data: done\n\ndata: cut\n", "[message]done|",
		"an event without its blank line is discarded");
	check("data: [DONE]\n\n", "[message][DONE]|", "the OpenAI terminator");

	sse_init(&s, on_event, &l);
	sse_feed(&s, "id: 42\nretry: 1500\ndata: x\n\n", 27);
	is_str(s.id.ptr, "42", "last event id kept");
	is_int(s.retry, 1500, "retry kept");
	sse_feed(&s, "retry: 1x\n\n", 11);
	is_int(s.retry, 1500, "non-numeric retry ignored");
	sse_release(&s);

	buf_reset(&l.out);
	l.stop_after = 1;
	l.n = 0;
	sse_init(&s, on_event, &l);
	r = sse_feed(&s, "data: 1\n\ndata: 2\n\n", 18);
	is_int(r, 7, "callback's non-zero return stops the feed");
	is_str(l.out.ptr, "[message]1|", "nothing after the stop");
	sse_release(&s);
	buf_release(&l.out);
	return tap_done();
}
