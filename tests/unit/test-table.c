/* test-table.c - unit tests of lib/table. */
#include <stdlib.h>

#include "table.h"
#include "tap.h"

int
main(void)
{
	struct table t;
	struct buf out = BUF_INIT;

	table_init(&t, 3);
	t.right[1] = true;
	table_add(&t, "NAME");
	table_add(&t, "N");
	table_add(&t, "NOTE");
	table_add(&t, "groq");
	table_addf(&t, "%d", 12);
	table_add(&t, "fast");
	table_add(&t, "h\xC3\xA9llo");
	table_add(&t, "7");
	table_add(&t, "");
	table_render(&t, &out);
	is_str(out.ptr,
		"NAME    N  NOTE\n"
		"groq   12  fast\n"
		"h\xC3\xA9llo   7\n",
		"aligned, numbers right, UTF-8 counted as characters, "
		"no trailing spaces");
	table_release(&t);
	table_release(&t);
	ok(t.ncells == 0 && t.cells == NULL, "release twice is safe");

	buf_reset(&out);
	table_init(&t, 2);
	table_add(&t, "a");
	table_add(&t, "b");
	table_add(&t, "c");
	table_render(&t, &out);
	is_str(out.ptr, "a  b\nc\n", "a short last row ends its line");
	table_release(&t);

	buf_reset(&out);
	table_init(&t, 2);
	table_add(&t, "");
	table_add(&t, "");
	table_add(&t, "x");
	table_add(&t, "");
	table_render(&t, &out);
	is_str(out.ptr, "\nx\n", "empty rows keep their line ends");
	table_release(&t);
	buf_release(&out);
	return tap_done();
}
