/* xalloc.c - allocation that never returns NULL; see xalloc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

static _Noreturn void
oom(void)
{
	fprintf(stderr, "%s: error: out of memory\n", msg_progname());
	exit(71);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

void *
xgrowarray(void *p, size_t *alloc, size_t n, size_t sz)
{
	size_t a = *alloc;

	if (n <= a)
		return p;
	if (a < 8)
		a = 8;
	while (a < n)
		a *= 2;
	if (sz && a > (size_t)-1 / sz)
		oom();
	p = xrealloc(p, a * sz);
	*alloc = a;
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}
