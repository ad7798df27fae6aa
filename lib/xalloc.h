/*
 * xalloc.h - allocation that never returns NULL.
 *
 * Running out of memory is the one error lib/ does not return: these
 * print "PROGRAM: error: out of memory" and exit with EX_OSERR (71).
 * Everything they return is the caller's to free().
 */
#ifndef LLM_XALLOC_H
#define LLM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array p of *alloc elements of size sz to hold at least n. */
void *xgrowarray(void *p, size_t *alloc, size_t n, size_t sz);
char *xstrdup(const char *s);
/* Copy n bytes of s and add a NUL. */
char *xstrndup(const char *s, size_t n);
/* NULL stays NULL; anything else is copied. */
char *xstrdup_or_null(const char *s);

#endif
