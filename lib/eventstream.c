/* eventstream.c - AWS event-stream decoder; see eventstream.h. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "eventstream.h"
#include "xalloc.h"

void
eventstream_message_init(struct eventstream_message *m)
{
	memset(m, 0, sizeof(*m));
}

void
eventstream_message_release(struct eventstream_message *m)
{
	free(m->headers);
	memset(m, 0, sizeof(*m));
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Two's complement of the low bits bits of u, without relying on
 * implementation-defined conversions. */
static int64_t
sign(uint64_t u, int bits)
{
	uint64_t top = (uint64_t)1 << (bits - 1);

	if (bits < 64)
		u &= (top << 1) - 1;
	if ((u & top) == 0)
		return (int64_t)u;
	return -(int64_t)(((bits < 64 ? (top << 1) - 1 : UINT64_MAX) ^ u)) - 1;
}

static enum llm_status
parse_headers(const unsigned char *h, size_t len,
	struct eventstream_message *m, struct buf *err)
{
	struct eventstream_header *e;
	size_t off = 0, nlen, need;
	unsigned type;

	m->nheaders = 0;
	while (off < len) {
		nlen = h[off++];
		if (len - off < nlen + 1) {
			buf_setf(err, "malformed event-stream header at byte %zu",
				off - 1);
			return LLM_ERR_DATA;
		}
		m->headers = xgrowarray(m->headers, &m->alloc,
			m->nheaders + 1, sizeof(*m->headers));
		e = &m->headers[m->nheaders++];
		memset(e, 0, sizeof(*e));
		e->name = (const char *)h + off;
		e->name_len = nlen;
		off += nlen;
		type = h[off++];
		switch (type) {
		case EVENTSTREAM_TRUE:
		case EVENTSTREAM_FALSE:
			need = 0;
			break;
		case EVENTSTREAM_BYTE:
			need = 1;
			break;
		case EVENTSTREAM_SHORT:
			need = 2;
			break;
		case EVENTSTREAM_INT:
			need = 4;
			break;
		case EVENTSTREAM_LONG:
		case EVENTSTREAM_TIMESTAMP:
			need = 8;
			break;
		case EVENTSTREAM_BYTES:
		case EVENTSTREAM_STRING:
			if (len - off < 2) {
				need = 2;
				break;
			}
			need = 2 + ((size_t)h[off] << 8 | h[off + 1]);
			break;
		case EVENTSTREAM_UUID:
			need = 16;
			break;
		default:
			buf_setf(err, "unknown event-stream header type %u of '%.*s'",
				type, (int)nlen, e->name);
			return LLM_ERR_DATA;
		}
		if (len - off < need) {
			buf_setf(err, "event-stream header '%.*s' is cut short",
				(int)nlen, e->name);
			return LLM_ERR_DATA;
		}
		e->type = (enum eventstream_type)type;
		switch (type) {
		case EVENTSTREAM_TRUE:
			e->i = 1;
			break;
		case EVENTSTREAM_BYTE:
			e->i = sign(h[off], 8);
			break;
		case EVENTSTREAM_SHORT:
			e->i = sign((uint64_t)h[off] << 8 | h[off + 1], 16);
			break;
		case EVENTSTREAM_INT:
			e->i = sign(be32(h + off), 32);
			break;
		case EVENTSTREAM_LONG:
		case EVENTSTREAM_TIMESTAMP:
			e->i = sign(be64(h + off), 64);
			break;
		case EVENTSTREAM_BYTES:
		case EVENTSTREAM_STRING:
			e->p = h + off + 2;
			e->n = need - 2;
			break;
		case EVENTSTREAM_UUID:
			e->p = h + off;
			e->n = 16;
			break;
		default:
			break;
		}
		off += need;
	}
	return LLM_OK;
}

enum llm_status
eventstream_decode(const void *data, size_t n, struct eventstream_message *m,
	size_t *used, struct buf *err)
{
	const unsigned char *p = data;
	uint32_t total, hlen, crc;

	*used = 0;
	if (n < EVENTSTREAM_PRELUDE_LEN)
		return LLM_OK;
	total = be32(p);
	hlen = be32(p + 4);
	m->prelude_crc = be32(p + 8);
	if ((crc = crc32_compute(p, 8)) != m->prelude_crc) {
		buf_setf(err,
			"event-stream prelude CRC mismatch (0x%08lx, computed 0x%08lx)",
			(unsigned long)m->prelude_crc, (unsigned long)crc);
		return LLM_ERR_DATA;
	}
	if (total < EVENTSTREAM_PRELUDE_LEN + 4 ||
		hlen > total - EVENTSTREAM_PRELUDE_LEN - 4 ||
		hlen > EVENTSTREAM_HEADERS_MAX ||
		total - EVENTSTREAM_PRELUDE_LEN - 4 - hlen >
			EVENTSTREAM_PAYLOAD_MAX) {
		buf_setf(err,
			"bad event-stream frame: total length %lu, headers %lu",
			(unsigned long)total, (unsigned long)hlen);
		return LLM_ERR_DATA;
	}
	if (n < total)
		return LLM_OK;
	m->total_len = total;
	m->headers_len = hlen;
	m->message_crc = be32(p + total - 4);
	if ((crc = crc32_compute(p, total - 4)) != m->message_crc) {
		buf_setf(err,
			"event-stream message CRC mismatch (0x%08lx, computed 0x%08lx)",
			(unsigned long)m->message_crc, (unsigned long)crc);
		return LLM_ERR_DATA;
	}
	if (parse_headers(p + EVENTSTREAM_PRELUDE_LEN, hlen, m, err))
		return LLM_ERR_DATA;
	m->payload = p + EVENTSTREAM_PRELUDE_LEN + hlen;
	m->payload_len = total - EVENTSTREAM_PRELUDE_LEN - 4 - hlen;
	*used = total;
	return LLM_OK;
}

const struct eventstream_header *
eventstream_header(const struct eventstream_message *m, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name_len == n &&
			memcmp(m->headers[i].name, name, n) == 0)
			return &m->headers[i];
	return NULL;
}

bool
eventstream_header_is(const struct eventstream_message *m, const char *name,
	const char *value)
{
	const struct eventstream_header *h = eventstream_header(m, name);
	size_t n = strlen(value);

	return h && h->type == EVENTSTREAM_STRING && h->n == n &&
		memcmp(h->p, value, n) == 0;
}

enum llm_status
eventstream_push(struct buf *pending, const void *p, size_t n,
	eventstream_fn fn, void *ud, struct buf *err)
{
	struct eventstream_message m;
	const unsigned char *s = p;
	size_t len = n, off = 0, used;
	enum llm_status st;
	int rc;

	eventstream_message_init(&m);
	if (pending->len) {
		buf_add(pending, p, n);
		s = (const unsigned char *)pending->ptr;
		len = pending->len;
	}
	for (;;) {
		st = eventstream_decode(s + off, len - off, &m, &used, err);
		if (st != LLM_OK || used == 0)
			break;
		off += used;
		rc = fn(ud, &m);
		if (rc) {
			st = (enum llm_status)rc;
			break;
		}
	}
	if (s == (const unsigned char *)pending->ptr)
		buf_consume(pending, off);
	else
		buf_add(pending, s + off, len - off);
	eventstream_message_release(&m);
	return st;
}

void
eventstream_init(struct eventstream *es, eventstream_fn fn, void *ud)
{
	memset(es, 0, sizeof(*es));
	es->fn = fn;
	es->ud = ud;
	es->pending.ptr = buf_empty;
	es->err.ptr = buf_empty;
}

void
eventstream_release(struct eventstream *es)
{
	buf_release(&es->pending);
	buf_release(&es->err);
}

enum llm_status
eventstream_feed(struct eventstream *es, const void *p, size_t n)
{
	if (es->st == LLM_OK)
		es->st = eventstream_push(&es->pending, p, n, es->fn, es->ud,
			&es->err);
	return es->st;
}

enum llm_status
eventstream_end(struct eventstream *es)
{
	if (es->st == LLM_OK && es->pending.len) {
		buf_setf(&es->err,
			"the event stream ended inside a message (%zu bytes left)",
			es->pending.len);
		es->st = LLM_ERR_DATA;
	}
	return es->st;
}
