/*
 * cfg.h - the layered llm.ini files, read with inih.
 *
 * Layers, later keys overriding earlier ones (DESIGN.md):
 *   1. the installed default, LLM_DATADIR "/llm.ini" ($LLM_DEFAULT_CONFIG
 *      names another file; tests and the demo use that);
 *   2. $XDG_CONFIG_HOME/llm/llm.ini, else ~/.config/llm/llm.ini (a
 *      relative XDG_CONFIG_HOME or HOME is ignored);
 *   3. --config FILE, else $LLM_CONFIG.
 * A missing layer 1 or 2 is skipped; a missing layer 3 is an error.
 * Nothing is ever read from the current directory.
 *
 * Every value is expanded when read: ${VAR}, ${VAR:-default} (an unset or
 * empty VAR gives the default; an unset VAR without default gives ""),
 * and a leading "~" or "~/" becomes $HOME.  The raw text is kept too, so
 * that an error can name the variable to set.  "$$" and "$VAR" are not
 * special; a "${" without its "}" is kept as written.  A default may hold
 * a leading "~" and further ${...}.  If HOME is unset, "~" stays.
 *
 * Syntax (inih, with its process-wide settings set for the parse and put
 * back after it):
 *   - "key = value ; comment": ';' after whitespace starts a comment; a
 *     line whose first non-blank character is ';' or '#' is a comment
 *     ('#' elsewhere is data).
 *   - There are no continuation lines: an indented line is an ordinary
 *     line, so an indented line without '=' is a syntax error with its
 *     file and line.
 *   - A line may hold CFG_MAX_LINE bytes; a longer one is an error
 *     ("FILE:LINE: line too long"), never cut short.
 *   - A key before any section has section "".
 *
 * struct cfg owns all its strings.  cfg_release() frees them.
 */
#ifndef LLM_CFG_H
#define LLM_CFG_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

struct cfg_entry {
	char *section; /* "defaults", "provider.groq", ... */
	char *key;
	char *value; /* expanded */
	char *raw;   /* as written in the file */
	char *file;  /* the file it came from */
	int line;    /* its line in that file, from 1 */
};

struct cfg {
	struct cfg_entry *v; /* in the order read, all layers */
	size_t n, alloc;
	char **files; /* the files that were read, in order */
	size_t nfiles, files_alloc;
};

/* The longest line accepted, without its newline. */
#define CFG_MAX_LINE 4096

/* clang-format off */
#define CFG_INIT { 0 }
/* clang-format on */

/*
 * Read every layer.  explicit_path is --config (may be NULL).  On a
 * syntax error the message names the file and line; status
 * LLM_ERR_CONFIG.
 */
enum llm_status cfg_load(struct cfg *c, const char *explicit_path,
	struct buf *err);
/* Read one file and append its entries.  A missing file is an error
 * only when must_exist is set. */
enum llm_status cfg_load_file(struct cfg *c, const char *path, int must_exist,
	struct buf *err);
/* Parse ini text (tests); name is used as the entries' file. */
enum llm_status cfg_load_string(struct cfg *c, const char *text,
	const char *name, struct buf *err);
/* The entry that wins for section/key (the last read), or NULL. */
const struct cfg_entry *cfg_get(const struct cfg *c, const char *section,
	const char *key);
/* Its expanded value, or NULL. */
const char *cfg_value(const struct cfg *c, const char *section,
	const char *key);
/* Expand ${VAR}, ${VAR:-default} and a leading ~ in s; caller frees. */
char *cfg_expand(const char *s);
/* The name of the variable in a raw value of the form "${NAME}" or
 * "${NAME:-...}" (the first one), or NULL; caller frees. */
char *cfg_var_name(const char *raw);
void cfg_release(struct cfg *c);

#endif
