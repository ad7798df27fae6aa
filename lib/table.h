/*
 * table.h - plain text tables with aligned columns, for listings.
 *
 * Add a header row and data rows cell by cell; table_render() pads every
 * column but the last to its widest cell (counted in UTF-8 characters)
 * with two spaces between columns, and right-aligns the columns marked
 * numeric.  struct table owns copies of its cells.
 */
#ifndef LLM_TABLE_H
#define LLM_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct table {
	char **cells;
	size_t ncells, alloc;
	size_t ncols;
	bool right[16]; /* right-align column i */
};

/* clang-format off */
#define TABLE_INIT { 0 }
/* clang-format on */

void table_init(struct table *t, size_t ncols);
/* Append one cell (copied); rows fill left to right. */
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_render(const struct table *t, struct buf *out);
void table_release(struct table *t);

#endif
