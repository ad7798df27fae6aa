/* test-eventstream.c - unit tests of lib/crc32 and lib/eventstream: the
 * CRC-32 check value, the frame of PROTOCOLS.md section 6 decoded whole
 * and split at every byte, both CRCs checked, truncated and impossible
 * frames, and frames built here with every header value type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "eventstream.h"
#include "tap.h"

/* PROTOCOLS.md section 6: a contentBlockDelta event, 159 bytes. */
static const char frame_hex[] =
	"0000009f00000057c37babff0b3a6576656e742d74797065070011636f6e74656e"
	"74426c6f636b44656c74610d3a636f6e74656e742d747970650700106170706c69"
	"636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e74"
	"7b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b22"
	"74657874223a224869227d2c2270223a2261626364227df2ace5ff";
static const char frame_payload[] =
	"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"},\"p\":\"abcd\"}";

static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;
	unsigned v;

	for (; hex[0] && hex[1]; hex += 2) {
		sscanf(hex, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	return n;
}

/* ==== a small encoder ==== */

static void
put32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24),
		(unsigned char)(v >> 16), (unsigned char)(v >> 8),
		(unsigned char)v };

	buf_add(b, p, 4);
}

static void
put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

/* A header name and type byte. */
static void
hdr(struct buf *h, const char *name, int type)
{
	buf_addch(h, (int)strlen(name));
	buf_adds(h, name);
	buf_addch(h, type);
}

static void
hdr_str(struct buf *h, const char *name, int type, const void *p, size_t n)
{
	hdr(h, name, type);
	buf_addch(h, (int)(n >> 8));
	buf_addch(h, (int)(n & 0xff));
	buf_add(h, p, n);
}

/* Append a whole message of headers h and payload p to out. */
static void
frame(struct buf *out, const struct buf *h, const char *p, size_t n)
{
	size_t start = out->len;
	uint32_t total = (uint32_t)(16 + h->len + n);

	put32(out, total);
	put32(out, (uint32_t)h->len);
	put32(out, crc32_compute(out->ptr + start, 8));
	buf_add(out, h->ptr, h->len);
	buf_add(out, p, n);
	put32(out, crc32_compute(out->ptr + start, out->len - start));
}

static void
event(struct buf *out, const char *type, const char *json)
{
	struct buf h = BUF_INIT;

	hdr_str(&h, ":event-type", 7, type, strlen(type));
	hdr_str(&h, ":content-type", 7, "application/json", 16);
	hdr_str(&h, ":message-type", 7, "event", 5);
	frame(out, &h, json, strlen(json));
	buf_release(&h);
}

/* ==== a recording callback ==== */

struct rec {
	int n;          /* messages */
	struct buf log; /* "event-type payload\n" each */
	int stop_at;    /* return LLM_ERR_IO at this message (1-based) */
};

static int
on_msg(void *ud, const struct eventstream_message *m)
{
	struct rec *r = ud;
	const struct eventstream_header *e =
		eventstream_header(m, ":event-type");

	r->n++;
	if (e)
		buf_add(&r->log, e->p, e->n);
	buf_addch(&r->log, ' ');
	buf_add(&r->log, m->payload, m->payload_len);
	buf_addch(&r->log, '\n');
	return r->n == r->stop_at ? LLM_ERR_IO : 0;
}

/* Feed n bytes in slices: first a cut at `cut`, then the rest in steps
 * of `step` (0: at once).  Returns the end status; r gets the log and
 * err the message. */
static enum llm_status
run(const unsigned char *p, size_t n, size_t cut, size_t step,
	struct rec *r, struct buf *err)
{
	struct eventstream es;
	enum llm_status st;
	size_t i;

	eventstream_init(&es, on_msg, r);
	r->n = 0;
	buf_reset(&r->log);
	st = eventstream_feed(&es, p, cut);
	for (i = cut; i < n && st == LLM_OK; i += step ? step : n)
		st = eventstream_feed(&es, p + i,
			step && i + step < n ? step : n - i);
	if (st == LLM_OK)
		st = eventstream_end(&es);
	buf_reset(err);
	buf_add(err, es.err.ptr, es.err.len);
	eventstream_release(&es);
	return st;
}

int
main(void)
{
	unsigned char f[200], g[200], uuid[16];
	struct eventstream_message m;
	const struct eventstream_header *e;
	struct buf h = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct rec r = { 0, BUF_INIT, 0 };
	size_t n, used, i, bad;
	char want[300];
	enum llm_status st;
	int allok;

	/* CRC-32 */
	is_int(crc32_compute("123456789", 9), 0xCBF43926,
		"CRC-32 check value of \"123456789\"");
	is_int(crc32_compute("", 0), 0, "CRC-32 of nothing is 0");
	is_int(crc32_update(crc32_compute("1234", 4), "56789", 5), 0xCBF43926,
		"crc32_update continues a CRC");

	/* The published frame, whole. */
	n = unhex(frame_hex, f);
	is_int((long long)n, 159, "the vector is 159 bytes");
	is_int(crc32_compute(f, 8), 0xc37babff, "its prelude CRC");
	is_int(crc32_compute(f, n - 4), 0xf2ace5ff, "its message CRC");
	eventstream_message_init(&m);
	st = eventstream_decode(f, n, &m, &used, &err);
	is_int(st, LLM_OK, "decodes");
	is_int((long long)used, 159, "uses the whole frame");
	is_int(m.total_len, 159, "total length");
	is_int(m.headers_len, 87, "headers length");
	is_int(m.prelude_crc, 0xc37babff, "prelude CRC read");
	is_int(m.message_crc, 0xf2ace5ff, "message CRC read");
	is_int((long long)m.nheaders, 3, "three headers");
	ok(m.nheaders == 3 && m.headers[0].name_len == 11 &&
			memcmp(m.headers[0].name, ":event-type", 11) == 0 &&
			m.headers[0].type == EVENTSTREAM_STRING,
		"first header :event-type, a string");
	ok(eventstream_header_is(&m, ":event-type", "contentBlockDelta"),
		":event-type = contentBlockDelta");
	ok(eventstream_header_is(&m, ":content-type", "application/json"),
		":content-type = application/json");
	ok(eventstream_header_is(&m, ":message-type", "event"),
		":message-type = event");
	ok(!eventstream_header_is(&m, ":message-type", "even"),
		"a prefix is not equal");
	ok(eventstream_header(&m, ":nope") == NULL, "absent header is NULL");
	is_int((long long)m.payload_len, 56, "payload length");
	ok(m.payload_len == 56 &&
			memcmp(m.payload, frame_payload, 56) == 0,
		"payload bytes");
	for (i = 0, allok = 1; i < n; i++) {
		st = eventstream_decode(f, i, &m, &used, &err);
		allok &= st == LLM_OK && used == 0;
	}
	ok(allok, "every prefix asks for more bytes");

	/* Split everywhere through the incremental decoder. */
	snprintf(want, sizeof(want), "contentBlockDelta %s\n", frame_payload);
	for (i = 0, allok = 1; i <= n; i++) {
		st = run(f, n, i, 0, &r, &err);
		allok &= st == LLM_OK && r.n == 1 &&
			strcmp(r.log.ptr, want) == 0;
	}
	ok(allok, "fed in two slices split at every byte");
	is_int(run(f, n, 0, 1, &r, &err), LLM_OK, "fed byte by byte");
	is_str(r.log.ptr, want, "byte by byte: the same message");

	/* Corruption. */
	for (i = 0, allok = 1; i < 12; i++) {
		memcpy(g, f, n);
		g[i] ^= 0x10;
		st = run(g, n, 0, 0, &r, &err);
		allok &= st == LLM_ERR_DATA && r.n == 0 &&
			strstr(err.ptr, "prelude CRC mismatch") != NULL;
	}
	ok(allok, "a flipped bit anywhere in the prelude: prelude CRC error");
	memcpy(g, f, n);
	g[1] ^= 0x01;
	is_int(run(g, 12, 0, 0, &r, &err), LLM_ERR_DATA,
		"a bad prelude is caught from its 12 bytes alone");
	is_str(err.ptr,
		"event-stream prelude CRC mismatch (0xc37babff, computed "
		"0x650ca04b)",
		"the message names both CRCs");
	memcpy(g, f, n);
	g[100] ^= 0x04;
	is_int(run(g, n, 0, 0, &r, &err), LLM_ERR_DATA,
		"a flipped payload bit is an error");
	ok(strstr(err.ptr, "message CRC mismatch (0xf2ace5ff") != NULL,
		"a message CRC error");
	is_int(r.n, 0, "and no message is delivered");
	memcpy(g, f, n);
	g[30] ^= 0x80;
	is_int(run(g, n, 0, 0, &r, &err), LLM_ERR_DATA,
		"a flipped header bit is a message CRC error");
	memcpy(g, f, n);
	g[n - 1] ^= 0x01;
	is_int(run(g, n, 0, 0, &r, &err), LLM_ERR_DATA,
		"a flipped bit in the message CRC itself");

	/* Truncation. */
	is_int(run(f, n - 1, 0, 0, &r, &err), LLM_ERR_DATA,
		"input cut one byte short is incomplete at the end");
	is_str(err.ptr,
		"the event stream ended inside a message (158 bytes left)",
		"the message says so");
	is_int(run(f, 5, 0, 0, &r, &err), LLM_ERR_DATA,
		"cut inside the prelude");
	is_int(run(f, 0, 0, 0, &r, &err), LLM_OK, "no input at all is fine");

	/* Frames of our own: every header value type. */
	memset(uuid, 0, sizeof(uuid));
	for (i = 0; i < 16; i++)
		uuid[i] = (unsigned char)(0xf0 + i);
	hdr(&h, "t", 0);
	hdr(&h, "f", 1);
	hdr(&h, "byte", 2);
	buf_addch(&h, 0xfe); /* -2 */
	hdr(&h, "short", 3);
	buf_addch(&h, 0x80); /* -32768 */
	buf_addch(&h, 0x00);
	hdr(&h, "int", 4);
	put32(&h, 0x7fffffff);
	hdr(&h, "long", 5);
	put64(&h, 0xfffffffffffffffdULL); /* -3 */
	hdr_str(&h, "bytes", 6, "\x00\x01\xff", 3);
	hdr_str(&h, "str", 7, "h\xC3\xA9", 3);
	hdr(&h, "ts", 8);
	put64(&h, 1440938160123ULL);
	hdr(&h, "uuid", 9);
	buf_add(&h, uuid, 16);
	hdr_str(&h, "empty", 7, "", 0);
	frame(&out, &h, "{}", 2);
	st = eventstream_decode(out.ptr, out.len, &m, &used, &err);
	is_int(st, LLM_OK, "a frame with every header type decodes");
	is_int((long long)m.nheaders, 11, "eleven headers");
	e = eventstream_header(&m, "t");
	ok(e && e->type == EVENTSTREAM_TRUE && e->i == 1, "bool true");
	e = eventstream_header(&m, "f");
	ok(e && e->type == EVENTSTREAM_FALSE && e->i == 0, "bool false");
	e = eventstream_header(&m, "byte");
	ok(e && e->type == EVENTSTREAM_BYTE && e->i == -2, "byte -2");
	e = eventstream_header(&m, "short");
	ok(e && e->type == EVENTSTREAM_SHORT && e->i == -32768,
		"short -32768");
	e = eventstream_header(&m, "int");
	ok(e && e->type == EVENTSTREAM_INT && e->i == 2147483647,
		"int 2147483647");
	e = eventstream_header(&m, "long");
	ok(e && e->type == EVENTSTREAM_LONG && e->i == -3, "long -3");
	e = eventstream_header(&m, "bytes");
	ok(e && e->type == EVENTSTREAM_BYTES && e->n == 3 &&
			memcmp(e->p, "\x00\x01\xff", 3) == 0,
		"byte array with a NUL");
	ok(eventstream_header_is(&m, "str", "h\xC3\xA9"), "UTF-8 string");
	e = eventstream_header(&m, "ts");
	ok(e && e->type == EVENTSTREAM_TIMESTAMP && e->i == 1440938160123LL,
		"timestamp in ms");
	e = eventstream_header(&m, "uuid");
	ok(e && e->type == EVENTSTREAM_UUID && e->n == 16 &&
			memcmp(e->p, uuid, 16) == 0,
		"uuid");
	ok(eventstream_header_is(&m, "empty", ""), "empty string");
	ok(m.payload_len == 2 && memcmp(m.payload, "{}", 2) == 0,
		"payload after the headers");

	/* Several messages in one slice, and one split across slices. */
	buf_reset(&out);
	event(&out, "messageStart", "{\"role\":\"assistant\"}");
	buf_reset(&h);
	frame(&out, &h, "", 0); /* the smallest message: 16 bytes */
	event(&out, "messageStop", "{\"stopReason\":\"end_turn\"}");
	for (i = 0, allok = 1; i <= out.len; i++) {
		st = run((const unsigned char *)out.ptr, out.len, i, 7, &r,
			&err);
		allok &= st == LLM_OK && r.n == 3 &&
			strcmp(r.log.ptr,
				"messageStart {\"role\":\"assistant\"}\n \n"
				"messageStop {\"stopReason\":\"end_turn\"}\n") ==
				0;
	}
	ok(allok, "three messages, any first cut, then 7-byte slices");
	r.stop_at = 2;
	is_int(run((const unsigned char *)out.ptr, out.len, 0, 0, &r, &err),
		LLM_ERR_IO, "a callback's non-zero return stops the feed");
	is_int(r.n, 2, "no message after it");
	r.stop_at = 0;

	/* Impossible frames (with valid CRCs). */
	buf_reset(&out);
	put32(&out, 15);
	put32(&out, 0);
	put32(&out, crc32_compute(out.ptr, 8));
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "total length below 16");
	is_str(err.ptr, "bad event-stream frame: total length 15, headers 0",
		"says which lengths");
	buf_reset(&out);
	put32(&out, 40);
	put32(&out, 30);
	put32(&out, crc32_compute(out.ptr, 8));
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "headers longer than the frame allows");
	buf_reset(&out);
	put32(&out, 16 + (24u << 20) + 1);
	put32(&out, 0);
	put32(&out, crc32_compute(out.ptr, 8));
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "a payload over 24 MiB is refused at once");
	buf_reset(&out);
	put32(&out, 16 + (128u << 10) + 1);
	put32(&out, (128u << 10) + 1);
	put32(&out, crc32_compute(out.ptr, 8));
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "headers over 128 KiB are refused at once");

	/* Malformed headers (with valid CRCs). */
	buf_reset(&h);
	hdr(&h, "x", 10);
	buf_reset(&out);
	frame(&out, &h, "", 0);
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "unknown header type 10");
	is_str(err.ptr, "unknown event-stream header type 10 of 'x'",
		"names the type and header");
	buf_reset(&h);
	buf_addch(&h, 9);
	buf_adds(&h, "abc");
	buf_reset(&out);
	frame(&out, &h, "", 0);
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "a header name past the headers");
	buf_reset(&h);
	hdr(&h, "s", 7);
	buf_addch(&h, 0);
	buf_addch(&h, 9);
	buf_adds(&h, "short");
	buf_reset(&out);
	frame(&out, &h, "", 0);
	is_int(eventstream_decode(out.ptr, out.len, &m, &used, &err),
		LLM_ERR_DATA, "a string longer than the headers");
	is_str(err.ptr, "event-stream header 's' is cut short",
		"cut short");
	for (bad = 0, allok = 1; bad < 4; bad++) {
		static const int types[] = { 2, 3, 4, 5 };

		buf_reset(&h);
		hdr(&h, "n", types[bad]);
		buf_reset(&out);
		frame(&out, &h, "", 0);
		allok &= eventstream_decode(out.ptr, out.len, &m, &used,
				 &err) == LLM_ERR_DATA;
	}
	ok(allok, "integers without their bytes");

	eventstream_message_release(&m);
	buf_release(&h);
	buf_release(&out);
	buf_release(&err);
	buf_release(&r.log);
	return tap_done();
}
