/* test-buf.c - unit tests of lib/buf. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT, lim = BUF_INIT;
	char *p;
	int i;

	ok(b.ptr != NULL && b.len == 0 && b.ptr[0] == '\0', "init is empty");
	buf_adds(&b, "hello");
	buf_addch(&b, ' ');
	buf_addf(&b, "%s %d", "world", 42);
	is_str(b.ptr, "hello world 42", "append and format");
	is_int((long long)b.len, 14, "length counts bytes");
	buf_add(&b, "\0x", 2);
	is_int((long long)b.len, 16, "binary-safe append");
	ok(b.ptr[b.len] == '\0', "always NUL-terminated");
	buf_truncate(&b, 5);
	is_str(b.ptr, "hello", "truncate");
	buf_consume(&b, 2);
	is_str(b.ptr, "llo", "consume drops the front");
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "0123456789");
	is_int((long long)b.len, 10003, "grows past many doublings");
	buf_setf(&b, "x=%d", 1);
	is_str(b.ptr, "x=1", "setf replaces");
	buf_adds(&b, "  \n\t");
	buf_rtrim(&b);
	is_str(b.ptr, "x=1", "rtrim");
	p = buf_detach(&b);
	is_str(p, "x=1", "detach hands over the memory");
	ok(b.ptr == buf_empty && b.len == 0, "detach leaves BUF_INIT");
	free(p);
	p = buf_detach(&b);
	is_str(p, "", "detach of an empty buffer is an empty string");
	free(p);

	lim.max = 4;
	ok(buf_adds(&lim, "abcd") == 0, "append up to max");
	ok(buf_addch(&lim, 'e') < 0, "append past max fails");
	is_str(lim.ptr, "abcd", "failed append changes nothing");
	buf_release(&lim);
	buf_release(&lim);
	ok(lim.ptr == buf_empty, "release twice is safe");
	return tap_done();
}
