/* test-csv.c - unit tests of lib/csv (RFC 4180 rows). */
#include <stdlib.h>

#include "csv.h"
#include "tap.h"

int
main(void)
{
	struct buf out = BUF_INIT;

	csv_str(&out, "plain");
	csv_str(&out, "with space");
	csv_fieldf(&out, "%d", 42);
	csv_end_row(&out);
	is_str(out.ptr, "plain,with space,42\r\n",
		"plain fields are written as they are, rows end in CRLF");

	buf_reset(&out);
	csv_str(&out, "a,b");
	csv_str(&out, "say \"hi\"");
	csv_str(&out, "two\nlines");
	csv_str(&out, "cr\rhere");
	csv_str(&out, "\"");
	csv_end_row(&out);
	is_str(out.ptr,
		"\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\","
		"\"\"\"\"\r\n",
		"comma, quote, LF and CR are quoted, quotes doubled");

	buf_reset(&out);
	csv_str(&out, NULL);
	csv_str(&out, "x");
	csv_field(&out, "", 0);
	csv_end_row(&out);
	csv_str(&out, "");
	csv_str(&out, "");
	csv_end_row(&out);
	is_str(out.ptr, ",x,\r\n,\r\n",
		"empty fields keep their places, at the start and the end");

	buf_reset(&out);
	csv_str(&out, "");
	csv_end_row(&out);
	csv_end_row(&out);
	is_str(out.ptr, "\r\n\r\n", "a row of one empty field, a row of none");

	buf_reset(&out);
	csv_field(&out, "ab,cd", 2);
	csv_str(&out, "h\xC3\xA9llo \xE2\x9C\x93");
	csv_end_row(&out);
	is_str(out.ptr, "ab,h\xC3\xA9llo \xE2\x9C\x93\r\n",
		"n bytes are taken; UTF-8 passes unchanged");

	buf_reset(&out);
	csv_field(&out, "a\0b", 3);
	csv_end_row(&out);
	ok(out.len == 5 && out.ptr[1] == '\0' && out.ptr[3] == '\r',
		"a NUL byte is kept");

	buf_reset(&out);
	buf_adds(&out, "header\r\n");
	csv_str(&out, "1");
	csv_end_row(&out);
	is_str(out.ptr, "header\r\n1\r\n", "rows append to what is there");
	buf_release(&out);
	return tap_done();
}
