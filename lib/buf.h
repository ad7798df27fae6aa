/*
 * buf.h - growable byte buffer that owns its memory.
 *
 * After BUF_INIT, b.ptr is never NULL and b.ptr[b.len] == '\0', so a
 * buffer is always a valid C string (it may also hold NUL bytes).
 * Free with buf_release(), or take the memory with buf_detach().
 * Out of memory ends the process (see xalloc.h); the only failure an
 * append reports is going past b.max.
 */
#ifndef LLM_BUF_H
#define LLM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *ptr;
	size_t len;
	size_t cap; /* 0 while ptr points at buf_empty */
	size_t max; /* 0 = unlimited; appends past it fail */
};

extern char buf_empty[];
/* clang-format off */
#define BUF_INIT { .ptr = buf_empty }
/* clang-format on */

/* Make room for n more bytes; 0 on success, -1 if max would be exceeded. */
int buf_grow(struct buf *b, size_t n);
/* Append n bytes of p; 0 on success, -1 if max would be exceeded. */
int buf_add(struct buf *b, const void *p, size_t n);
/* Append the C string s. */
int buf_adds(struct buf *b, const char *s);
/* Append one byte. */
int buf_addch(struct buf *b, int c);
/* Append printf-formatted text. */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Replace the contents with printf-formatted text. */
int buf_setf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Shorten to n bytes (n <= len). */
void buf_truncate(struct buf *b, size_t n);
/* Empty the buffer but keep its memory. */
void buf_reset(struct buf *b);
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Frees; b is BUF_INIT again (max is kept). */
void buf_release(struct buf *b);
/* The caller frees the result; b is BUF_INIT again. Never NULL. */
char *buf_detach(struct buf *b);
/* Remove trailing whitespace. */
void buf_rtrim(struct buf *b);

#endif
