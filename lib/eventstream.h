/*
 * eventstream.h - decoder of AWS event-stream messages
 * (application/vnd.amazon.eventstream), as Bedrock's ConverseStream
 * sends them.
 *
 * A message, all integers big-endian: total length (4 bytes, the whole
 * message), headers length (4), prelude CRC (4, CRC-32 of the first 8
 * bytes), the headers, the payload, message CRC (4, CRC-32 of everything
 * before it).  A header is a name length (1), the name, a type (1) and a
 * value: 0 true and 1 false (no bytes), 2 byte (1), 3 short (2), 4 int
 * (4), 5 long (8), 6 byte array and 7 string (a 2-byte length, then the
 * bytes), 8 timestamp (8, ms since the epoch), 9 UUID (16).  Like
 * botocore, headers may take 128 KiB and the payload 24 MiB.
 *
 * Bytes may be fed in slices of any size.  A CRC mismatch, a length
 * that cannot be, a malformed header or an unknown header type is an
 * error (LLM_ERR_DATA); the prelude is checked as soon as its 12 bytes
 * are there.  A message passed to a callback borrows the decoder's
 * buffer: its pointers are valid during the call only.
 */
#ifndef LLM_EVENTSTREAM_H
#define LLM_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

#define EVENTSTREAM_PRELUDE_LEN 12
#define EVENTSTREAM_HEADERS_MAX (128 * 1024)
#define EVENTSTREAM_PAYLOAD_MAX (24 * 1024 * 1024)

enum eventstream_type {
	EVENTSTREAM_TRUE = 0,
	EVENTSTREAM_FALSE = 1,
	EVENTSTREAM_BYTE = 2,
	EVENTSTREAM_SHORT = 3,
	EVENTSTREAM_INT = 4,
	EVENTSTREAM_LONG = 5,
	EVENTSTREAM_BYTES = 6,
	EVENTSTREAM_STRING = 7,
	EVENTSTREAM_TIMESTAMP = 8,
	EVENTSTREAM_UUID = 9,
};

struct eventstream_header {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	enum eventstream_type type;
	int64_t i;              /* true 1, false 0, the integer types */
	const unsigned char *p; /* byte array, string, UUID */
	size_t n;
};

struct eventstream_message {
	struct eventstream_header *headers;
	size_t nheaders, alloc;
	const unsigned char *payload;
	size_t payload_len;
	uint32_t total_len, headers_len, prelude_crc, message_crc;
};

void eventstream_message_init(struct eventstream_message *m);
void eventstream_message_release(struct eventstream_message *m);

/*
 * Decode the message at the start of n bytes of p into m (whose pointers
 * then point into p).  LLM_OK with *used set to its length, or with
 * *used = 0 when more bytes are needed; LLM_ERR_DATA and a message in
 * err when the bytes are not a valid message.
 */
enum llm_status eventstream_decode(const void *p, size_t n,
	struct eventstream_message *m, size_t *used, struct buf *err);

/* The header named name, or NULL. */
const struct eventstream_header *eventstream_header(
	const struct eventstream_message *m, const char *name);
/* Whether the header name is a string equal to value. */
bool eventstream_header_is(const struct eventstream_message *m,
	const char *name, const char *value);

/* Called once per complete message; a non-zero return (an enum
 * llm_status) stops decoding and is returned by the feed. */
typedef int (*eventstream_fn)(void *ud, const struct eventstream_message *m);

/*
 * The incremental decoder over a buffer that the caller keeps between
 * calls (so that it can live in any struct): decodes pending followed by
 * n bytes of p, calls fn for each complete message and leaves the bytes
 * of an incomplete one in pending.  Returns LLM_OK, fn's non-zero
 * return, or LLM_ERR_DATA with a message in err.
 */
enum llm_status eventstream_push(struct buf *pending, const void *p,
	size_t n, eventstream_fn fn, void *ud, struct buf *err);

/* The same with its own state.  struct eventstream owns its buffers. */
struct eventstream {
	eventstream_fn fn;
	void *ud;
	struct buf pending; /* an incomplete message */
	struct buf err;     /* why decoding stopped */
	enum llm_status st; /* sticky once not LLM_OK */
};

void eventstream_init(struct eventstream *es, eventstream_fn fn, void *ud);
void eventstream_release(struct eventstream *es);
/* Decode n more bytes; after an error, returns it again. */
enum llm_status eventstream_feed(struct eventstream *es, const void *p,
	size_t n);
/* The input ended: LLM_ERR_DATA if part of a message is left over. */
enum llm_status eventstream_end(struct eventstream *es);

#endif
