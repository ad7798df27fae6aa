/*
 * csv.h - RFC 4180 rows, for llm-compare and llm-log's exports.
 *
 * A row is built field by field with csv_field() and ended with
 * csv_end_row().  A field that holds a comma, a double quote, CR or LF
 * is enclosed in double quotes, its quotes doubled; others are written
 * as they are.  Rows end in CRLF, as RFC 4180 says.  The bytes of a
 * field are copied unchanged (UTF-8 stays UTF-8; a NUL is kept).
 *
 * Ownership: the caller owns out; csv only appends to it.
 */
#ifndef LLM_CSV_H
#define LLM_CSV_H

#include <stddef.h>

#include "buf.h"

/* Append the n bytes of s as the next field of the row being built in
 * out (s may be NULL when n is 0: an empty field). */
void csv_field(struct buf *out, const char *s, size_t n);
/* The same for a C string; NULL is an empty field. */
void csv_str(struct buf *out, const char *s);
/* A printf-formatted field. */
void csv_fieldf(struct buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* End the row: CRLF. */
void csv_end_row(struct buf *out);

#endif
