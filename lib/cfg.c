/* cfg.c - the layered llm.ini files, read with inih; see cfg.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "buf.h"
#include "cfg.h"
#include "msg.h"
#include "xalloc.h"

#ifndef LLM_DATADIR
#define LLM_DATADIR "/usr/local/share/llm"
#endif

/* One parse: the reader hands inih one line at a time and counts them. */
struct cfg_parse {
	struct cfg *c;
	const char *name;   /* the entries' file */
	const char *p;      /* the text not read yet */
	int line;           /* the line last handed to inih, from 1 */
	bool too_long;      /* that line did not fit inih's buffer */
	int max;            /* inih's buffer size for that line */
	struct buf section; /* the current section, as written */
};

static void
entry_free(struct cfg_entry *e)
{
	free(e->section);
	free(e->key);
	free(e->value);
	free(e->raw);
	free(e->file);
}

static void
cfg_add(struct cfg *c, const char *section, const char *key,
	const char *raw, const char *file, int line)
{
	struct cfg_entry *e;

	c->v = xgrowarray(c->v, &c->alloc, c->n + 1, sizeof(*c->v));
	e = &c->v[c->n++];
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->raw = xstrdup(raw);
	e->value = cfg_expand(raw);
	e->file = xstrdup(file);
	e->line = line;
}

/* Remember the section a "[name]" line opens; inih keeps only 49 bytes. */
static void
track_section(struct cfg_parse *ps, const char *line)
{
	const char *s = line, *end;

	if (ps->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[')
		return;
	end = strchr(s + 1, ']');
	if (end == NULL)
		return; /* inih reports the syntax error */
	buf_reset(&ps->section);
	buf_add(&ps->section, s + 1, (size_t)(end - s - 1));
}

/* An fgets() over the text that counts lines and refuses long ones. */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *ps = stream;
	const char *nl;
	size_t len, body;

	if (ps->too_long || *ps->p == '\0')
		return NULL;
	nl = strchr(ps->p, '\n');
	len = nl ? (size_t)(nl - ps->p) + 1 : strlen(ps->p);
	body = len;
	if (body > 0 && ps->p[body - 1] == '\n')
		body--;
	if (body > 0 && ps->p[body - 1] == '\r')
		body--;
	ps->line++;
	/* inih wants room for "\r\n" and the NUL after the text */
	if (num < 4 || body > (size_t)num - 3) {
		ps->too_long = true;
		ps->max = num - 3;
		return NULL;
	}
	memcpy(str, ps->p, len);
	str[len] = '\0';
	ps->p += len;
	track_section(ps, str);
	return str;
}

static int
cfg_handler(void *user, const char *section, const char *name,
	const char *value)
{
	struct cfg_parse *ps = user;

	(void)section; /* may be cut short; ps->section is whole */
	if (name == NULL || *name == '\0' || value == NULL)
		return 0;
	cfg_add(ps->c, ps->section.ptr, name, value, ps->name, ps->line);
	return 1;
}

/*
 * Run inih over text with the settings cfg.h documents, then put back
 * whatever the process had, since inih's settings are globals.
 */
static int
cfg_parse_text(struct cfg_parse *ps)
{
	static char inline_prefixes[] = ";";
	static char start_prefixes[] = ";#";
	bool multiline = ini_allow_multiline;
	bool inline_comments = ini_allow_inline_comments;
	bool no_value = ini_allow_no_value;
	bool use_stack = ini_use_stack;
	bool bom = ini_allow_bom;
	char *inl = ini_inline_comment_prefixes;
	char *start = ini_start_comment_prefixes;
	int max_line = ini_max_line;
	int rc;

	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_use_stack = true;
	ini_allow_bom = true;
	ini_inline_comment_prefixes = inline_prefixes;
	ini_start_comment_prefixes = start_prefixes;
	ini_max_line = CFG_MAX_LINE + 3;
	rc = ini_parse_stream(cfg_reader, ps, cfg_handler, ps);
	ini_allow_multiline = multiline;
	ini_allow_inline_comments = inline_comments;
	ini_allow_no_value = no_value;
	ini_use_stack = use_stack;
	ini_allow_bom = bom;
	ini_inline_comment_prefixes = inl;
	ini_start_comment_prefixes = start;
	ini_max_line = max_line;
	return rc;
}

enum llm_status
cfg_load_string(struct cfg *c, const char *text, const char *name,
	struct buf *err)
{
	struct cfg_parse ps = { 0 };
	enum llm_status st = LLM_OK;
	size_t n0 = c->n;
	int rc;

	ps.c = c;
	ps.name = name;
	ps.p = text;
	ps.section = (struct buf)BUF_INIT;
	rc = cfg_parse_text(&ps);
	if (rc > 0) {
		buf_setf(err, "%s:%d: syntax error", name, rc);
		st = LLM_ERR_CONFIG;
	} else if (ps.too_long) {
		buf_setf(err, "%s:%d: line too long (the limit is %d bytes)",
			name, ps.line, ps.max);
		st = LLM_ERR_CONFIG;
	} else if (rc < 0) {
		buf_setf(err, "%s: cannot parse config", name);
		st = LLM_ERR_CONFIG;
	}
	if (st != LLM_OK) {
		while (c->n > n0)
			entry_free(&c->v[--c->n]);
	}
	buf_release(&ps.section);
	return st;
}

/* Read all of path into b; errno is set on failure. */
static int
read_file(const char *path, struct buf *b)
{
	FILE *fp;
	char chunk[4096];
	size_t n;
	int ret = 0, saved;

	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(b, chunk, n);
	if (ferror(fp))
		ret = -1;
	saved = errno;
	fclose(fp);
	errno = saved;
	return ret;
}

enum llm_status
cfg_load_file(struct cfg *c, const char *path, int must_exist,
	struct buf *err)
{
	struct buf text = BUF_INIT;
	enum llm_status st = LLM_OK;

	if (read_file(path, &text) < 0) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR)) {
			msg_debug(2, "config '%s' not found, skipped", path);
			goto out;
		}
		buf_setf(err, "cannot read config '%s': %s", path,
			strerror(errno));
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (memchr(text.ptr, '\0', text.len) != NULL) {
		buf_setf(err, "cannot read config '%s': it holds a NUL byte",
			path);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	st = cfg_load_string(c, text.ptr, path, err);
	if (st != LLM_OK)
		goto out;
	c->files = xgrowarray(c->files, &c->files_alloc, c->nfiles + 1,
		sizeof(*c->files));
	c->files[c->nfiles++] = xstrdup(path);
	msg_debug(1, "read config '%s'", path);
out:
	buf_release(&text);
	return st;
}

/* An absolute directory from the environment, or NULL. */
static const char *
env_dir(const char *var)
{
	const char *s = getenv(var);

	return s && s[0] == '/' ? s : NULL;
}

enum llm_status
cfg_load(struct cfg *c, const char *explicit_path, struct buf *err)
{
	struct buf path = BUF_INIT;
	enum llm_status st;
	const char *s;

	/* 1: the installed default */
	s = getenv("LLM_DEFAULT_CONFIG");
	st = cfg_load_file(c, s ? s : LLM_DATADIR "/llm.ini", 0, err);
	if (st != LLM_OK)
		goto out;

	/* 2: the user's file; a relative XDG or HOME is ignored */
	if ((s = env_dir("XDG_CONFIG_HOME")) != NULL)
		buf_setf(&path, "%s/llm/llm.ini", s);
	else if ((s = env_dir("HOME")) != NULL)
		buf_setf(&path, "%s/.config/llm/llm.ini", s);
	if (path.len > 0) {
		st = cfg_load_file(c, path.ptr, 0, err);
		if (st != LLM_OK)
			goto out;
	}

	/* 3: --config, else $LLM_CONFIG; it must exist */
	s = explicit_path;
	if (s == NULL) {
		s = getenv("LLM_CONFIG");
		if (s != NULL && *s == '\0')
			s = NULL;
	}
	if (s != NULL)
		st = cfg_load_file(c, s, 1, err);
out:
	buf_release(&path);
	return st;
}

const struct cfg_entry *
cfg_get(const struct cfg *c, const char *section, const char *key)
{
	size_t i;

	for (i = c->n; i > 0; i--) {
		const struct cfg_entry *e = &c->v[i - 1];

		if (strcmp(e->section, section) == 0 &&
			strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

const char *
cfg_value(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_entry *e = cfg_get(c, section, key);

	return e ? e->value : NULL;
}

static bool
is_name_start(int ch)
{
	return isalpha((unsigned char)ch) || ch == '_';
}

static bool
is_name_char(int ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* The length of the variable name at s (n bytes), 0 if none. */
static size_t
name_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_name_start(s[0]))
		return 0;
	while (i < n && is_name_char(s[i]))
		i++;
	return i;
}

static void expand_into(struct buf *out, const char *s, size_t n);

/*
 * Expand the "${..." at s (n bytes) into out; return the bytes used, or
 * 0 when it is not a well-formed reference (the caller copies it as is).
 */
static size_t
expand_var(struct buf *out, const char *s, size_t n)
{
	size_t len, k, start;
	int depth = 0;
	char *name;
	const char *val;

	len = name_len(s + 2, n - 2);
	if (len == 0)
		return 0;
	k = 2 + len;
	if (k < n && s[k] == '}') {
		name = xstrndup(s + 2, len);
		val = getenv(name);
		free(name);
		if (val != NULL)
			buf_adds(out, val);
		return k + 1;
	}
	if (k + 1 >= n || s[k] != ':' || s[k + 1] != '-')
		return 0;
	start = k + 2;
	for (k = start; k < n; k++) {
		if (s[k] == '$' && k + 1 < n && s[k + 1] == '{') {
			depth++;
			k++;
		} else if (s[k] == '}') {
			if (depth == 0)
				break;
			depth--;
		}
	}
	if (k >= n)
		return 0; /* unterminated */
	name = xstrndup(s + 2, len);
	val = getenv(name);
	free(name);
	if (val != NULL && *val != '\0')
		buf_adds(out, val);
	else
		expand_into(out, s + start, k - start);
	return k + 1;
}

static void
expand_into(struct buf *out, const char *s, size_t n)
{
	const char *home = getenv("HOME");
	size_t i = 0, used;

	if (n > 0 && s[0] == '~' && (n == 1 || s[1] == '/') && home != NULL) {
		buf_adds(out, home);
		i = 1;
	}
	while (i < n) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			used = expand_var(out, s + i, n - i);
			if (used > 0) {
				i += used;
				continue;
			}
		}
		buf_addch(out, s[i]);
		i++;
	}
}

char *
cfg_expand(const char *s)
{
	struct buf out = BUF_INIT;

	expand_into(&out, s, strlen(s));
	return buf_detach(&out);
}

char *
cfg_var_name(const char *raw)
{
	const char *s;
	size_t len;

	for (s = strstr(raw, "${"); s != NULL; s = strstr(s + 2, "${")) {
		len = name_len(s + 2, strlen(s + 2));
		if (len == 0)
			continue;
		if (s[2 + len] == '}' ||
			(s[2 + len] == ':' && s[3 + len] == '-'))
			return xstrndup(s + 2, len);
	}
	return NULL;
}

void
cfg_release(struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
	free(c->v);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	c->v = NULL;
	c->n = c->alloc = 0;
	c->files = NULL;
	c->nfiles = c->files_alloc = 0;
}
