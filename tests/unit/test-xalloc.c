/* test-xalloc.c - unit tests of lib/xalloc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "tap.h"

int
main(void)
{
	size_t alloc = 0, i, before;
	int *arr = NULL, *p, *q;
	char *s;
	int same;

	s = xstrndup("hello, world", 5);
	is_str(s, "hello", "xstrndup copies n bytes and adds a NUL");
	free(s);
	s = xstrndup("a\0b", 3);
	ok(s[0] == 'a' && s[1] == '\0' && s[2] == 'b' && s[3] == '\0',
		"xstrndup copies NUL bytes too");
	free(s);
	s = xstrndup("abc", 0);
	is_str(s, "", "xstrndup of 0 bytes is the empty string");
	free(s);
	s = xstrdup("dup");
	is_str(s, "dup", "xstrdup");
	free(s);

	ok(xstrdup_or_null(NULL) == NULL, "xstrdup_or_null(NULL) is NULL");
	{
		const char *orig = "kept";

		s = xstrdup_or_null(orig);
		is_str(s, "kept", "xstrdup_or_null copies a string");
		ok(s != orig, "into new memory");
		free(s);
	}

	arr = xgrowarray(arr, &alloc, 1, sizeof(*arr));
	ok(arr != NULL, "xgrowarray allocates from NULL");
	is_int((long long)alloc, 8, "at least 8 elements");
	p = arr;
	q = xgrowarray(arr, &alloc, 8, sizeof(*arr));
	ok(q == p, "no change while n fits");
	is_int((long long)alloc, 8, "alloc unchanged");
	arr = q;
	for (i = 0; i < 8; i++)
		arr[i] = (int)i * 3;
	arr = xgrowarray(arr, &alloc, 9, sizeof(*arr));
	is_int((long long)alloc, 16, "9 elements double it to 16");
	arr = xgrowarray(arr, &alloc, 100, sizeof(*arr));
	is_int((long long)alloc, 128, "100 elements: doubled to 128");
	same = 1;
	for (i = 0; i < 8; i++)
		if (arr[i] != (int)i * 3)
			same = 0;
	ok(same, "contents survive growth");
	for (i = 8; i < 128; i++)
		arr[i] = -1; /* the whole allocation is usable (ASan) */
	before = alloc;
	arr = xgrowarray(arr, &alloc, 0, sizeof(*arr));
	is_int((long long)alloc, (long long)before, "n = 0 changes nothing");
	free(arr);

	alloc = 3;
	arr = xgrowarray(NULL, &alloc, 5, sizeof(*arr));
	is_int((long long)alloc, 8, "a small alloc is raised to 8 first");
	free(arr);
	alloc = 10;
	arr = xgrowarray(NULL, &alloc, 11, sizeof(*arr));
	is_int((long long)alloc, 20, "10 grows to 20");
	free(arr);

	p = xmalloc(0);
	ok(p != NULL, "xmalloc(0) returns memory");
	free(p);
	p = xcalloc(4, sizeof(int));
	ok(p[0] == 0 && p[3] == 0, "xcalloc zeroes");
	p = xrealloc(p, 8 * sizeof(int));
	ok(p[0] == 0 && p[3] == 0, "xrealloc keeps the contents");
	free(p);
	return tap_done();
}
