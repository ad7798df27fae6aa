/* chainfile.c - llm-chain's chain files and templates; see chainfile.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "chainfile.h"
#include "opt.h"
#include "prompt.h"
#include "xalloc.h"

enum section { SEC_NONE, SEC_CHAIN, SEC_STEP };

/* The keys of each section; a bit each in struct parse's seen masks. */
static const char *const chain_keys[] = { "name", "description", NULL };
static const char *const step_keys[] = { "model", "system", "prompt",
	"temperature", "top_p", "max_tokens", "stop", NULL };

#define NKEYS 8

/* One parse. */
struct parse {
	struct chainfile *cf;
	const char *name;
	struct buf *err;
	int line;          /* the line being read, from 1 */
	enum section sec;
	int chain_line;    /* of [chain], 0 before one */
	int seen[NKEYS];   /* the line each key of this section was set on */
	/* the value being read */
	bool open;
	int key;           /* its index in the section's keys */
	size_t indent;     /* of its key line */
	int key_line;
	int val_line;      /* of its first text; 0 while it has none */
	struct buf first;  /* its text on the key line */
	struct buf cont;   /* continuation lines, '\n'-separated */
	size_t ncont;      /* how many */
	size_t min_indent; /* the least indentation among them */
	size_t blanks;     /* blank lines since the last one */
};

static enum llm_status
fail(struct parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum llm_status
fail(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	buf_setf(p->err, "%s:%d: ", p->name, line);
	va_start(ap, fmt);
	buf_vaddf(p->err, fmt, ap);
	va_end(ap);
	return LLM_ERR_DATA;
}

static void
step_free(struct chain_step *s)
{
	size_t i;

	free(s->model);
	free(s->system);
	free(s->prompt);
	for (i = 0; i < s->nstop; i++)
		free(s->stop[i]);
	free(s->stop);
}

void
chainfile_release(struct chainfile *cf)
{
	size_t i;

	for (i = 0; i < cf->nsteps; i++)
		step_free(&cf->steps[i]);
	free(cf->steps);
	free(cf->path);
	free(cf->name);
	free(cf->description);
	memset(cf, 0, sizeof(*cf));
}

struct chain_step *
chainfile_add_step(struct chainfile *cf, const char *model)
{
	struct chain_step *s;

	cf->steps = xgrowarray(cf->steps, &cf->alloc, cf->nsteps + 1,
		sizeof(*cf->steps));
	s = &cf->steps[cf->nsteps++];
	memset(s, 0, sizeof(*s));
	s->model = xstrdup_or_null(model);
	return s;
}

const char *
chainfile_template(const struct chain_step *s, size_t k, bool carry_input)
{
	if (s->prompt)
		return s->prompt;
	if (k <= 1)
		return "{input}";
	return carry_input ? CHAINFILE_CARRY : "{previous}";
}

/* The length of the name [A-Za-z_][A-Za-z0-9_]* at s, 0 if none. */
static size_t
name_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

enum llm_status
chainfile_expand(const char *t, const char *input, const char *previous,
	struct buf *out, size_t *at, struct buf *err)
{
	size_t i = 0, n;

	while (t[i] != '\0') {
		if ((t[i] == '{' && t[i + 1] == '{') ||
			(t[i] == '}' && t[i + 1] == '}')) {
			if (out)
				buf_addch(out, t[i]);
			i += 2;
			continue;
		}
		if (t[i] == '}') {
			buf_setf(err, "unmatched '}' in the template (write "
				      "'}}' for a literal brace)");
			goto bad;
		}
		if (t[i] != '{') {
			if (out)
				buf_addch(out, t[i]);
			i++;
			continue;
		}
		n = name_len(t + i + 1);
		if (n == 0 || t[i + 1 + n] != '}') {
			buf_setf(err, "unmatched '{' in the template (write "
				      "'{{' for a literal brace)");
			goto bad;
		}
		if (n == 5 && strncmp(t + i + 1, "input", 5) == 0) {
			if (out && input)
				buf_adds(out, input);
		} else if (n == 8 && strncmp(t + i + 1, "previous", 8) == 0) {
			if (previous == NULL) {
				buf_setf(err, "'{previous}' in the first step: "
					      "there is no previous output");
				goto bad;
			}
			if (out)
				buf_adds(out, previous);
		} else {
			buf_setf(err, "unknown variable '{%.*s}' in the "
				      "template (use {input} or {previous})",
				(int)n, t + i + 1);
			goto bad;
		}
		i += n + 2;
	}
	return LLM_OK;
bad:
	if (at)
		*at = i;
	return LLM_ERR_DATA;
}

/* The index of key in keys, or -1. */
static int
key_index(const char *const *keys, const char *key)
{
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return i;
	return -1;
}

static void
list_keys(struct buf *b, const char *const *keys)
{
	int i;

	for (i = 0; keys[i]; i++)
		buf_addf(b, "%s%s", i ? ", " : "", keys[i]);
}

/* The value being read, assembled: the key line's text, then the
 * continuation lines without their common indentation. */
static void
assemble(struct parse *p, struct buf *v)
{
	const char *s = p->cont.ptr, *nl;
	size_t len, i;

	buf_add(v, p->first.ptr, p->first.len);
	for (i = 0; i < p->ncont; i++) {
		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		if (v->len || i > 0)
			buf_addch(v, '\n');
		if (len > p->min_indent)
			buf_add(v, s + p->min_indent, len - p->min_indent);
		s += len + (nl != NULL);
	}
}

static enum llm_status
number(struct parse *p, const char *key, const char *v, double min,
	double max, double *out)
{
	const char *errstr;

	if (!opt_double(v, min, max, out, &errstr))
		return fail(p, p->key_line, "%s is %s: '%s'", key, errstr, v);
	return LLM_OK;
}

/* Store the value of the key of a [step]. */
static enum llm_status
set_step_key(struct parse *p, struct chain_step *s, const char *v)
{
	const char *key = step_keys[p->key], *errstr;
	struct buf why = BUF_INIT;
	enum llm_status st;
	size_t at = 0, i;
	int line;

	switch (p->key) {
	case 0: /* model */
		s->model = cfg_expand(v);
		s->model_line = p->key_line;
		if (*s->model == '\0')
			return fail(p, p->key_line, "model is empty%s",
				*v ? " (its variables are unset)" : "");
		break;
	case 1:
		s->system = xstrdup(v);
		break;
	case 2:
		if (*v == '\0')
			return fail(p, p->key_line, "prompt is empty");
		st = chainfile_expand(v, "", p->cf->nsteps > 1 ? "" : NULL,
			NULL, &at, &why);
		if (st != LLM_OK) {
			line = p->val_line;
			for (i = 0; i < at; i++)
				line += v[i] == '\n';
			st = fail(p, line, "%s", why.ptr);
			buf_release(&why);
			return st;
		}
		s->prompt = xstrdup(v);
		break;
	case 3:
		st = number(p, key, v, 0, 2, &s->temperature);
		s->has_temperature = st == LLM_OK;
		return st;
	case 4:
		st = number(p, key, v, 0, 1, &s->top_p);
		s->has_top_p = st == LLM_OK;
		return st;
	case 5:
		if (!opt_long(v, 1, 100000000, &s->max_tokens, &errstr))
			return fail(p, p->key_line, "%s is %s: '%s'", key,
				errstr, v);
		break;
	case 6:
		if (*v == '\0')
			return fail(p, p->key_line, "stop is empty");
		s->stop = xrealloc(s->stop, (s->nstop + 1) * sizeof(*s->stop));
		s->stop[s->nstop++] = xstrdup(v);
		break;
	}
	return LLM_OK;
}

/* The value being read is complete: store it. */
static enum llm_status
close_value(struct parse *p)
{
	struct buf v = BUF_INIT;
	enum llm_status st = LLM_OK;
	char **slot;

	if (!p->open)
		return LLM_OK;
	p->open = false;
	if (p->val_line == 0)
		p->val_line = p->key_line;
	assemble(p, &v);
	if (p->sec == SEC_STEP) {
		st = set_step_key(p, &p->cf->steps[p->cf->nsteps - 1], v.ptr);
	} else {
		slot = p->key == 0 ? &p->cf->name : &p->cf->description;
		*slot = buf_detach(&v);
	}
	buf_reset(&p->first);
	buf_reset(&p->cont);
	p->ncont = 0;
	buf_release(&v);
	return st;
}

/* A "[name]" line (s at '[', without trailing blanks). */
static enum llm_status
section(struct parse *p, const char *s)
{
	const char *end = strchr(s, ']'), *rest, *a, *b;
	size_t n;

	if (end == NULL)
		return fail(p, p->line, "no ']' after '['");
	rest = end + 1;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return fail(p, p->line, "text after the section name: '%s'",
			rest);
	for (a = s + 1; *a == ' ' || *a == '\t'; a++)
		;
	for (b = end; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
		;
	n = (size_t)(b - a);
	memset(p->seen, 0, sizeof(p->seen));
	if (n == 4 && strncmp(a, "step", 4) == 0) {
		p->sec = SEC_STEP;
		chainfile_add_step(p->cf, NULL)->line = p->line;
	} else if (n == 5 && strncmp(a, "chain", 5) == 0) {
		if (p->chain_line)
			return fail(p, p->line, "a second [chain] section "
				"(the first is on line %d)", p->chain_line);
		p->sec = SEC_CHAIN;
		p->chain_line = p->line;
	} else {
		return fail(p, p->line, "unknown section '[%.*s]' (a chain "
			"file has [step] sections and one [chain])",
			(int)n, a);
	}
	return LLM_OK;
}

/* A "key = value" line (s at the key, without trailing blanks). */
static enum llm_status
key_value(struct parse *p, const char *s, size_t indent)
{
	const char *const *keys = p->sec == SEC_STEP ? step_keys : chain_keys;
	const char *eq = strchr(s, '='), *v;
	struct buf key = BUF_INIT, msg = BUF_INIT;
	enum llm_status st = LLM_OK;
	size_t n;
	int k;

	if (eq == NULL) {
		st = fail(p, p->line, "expected 'key = value', a [section] "
				      "or a comment");
		goto out;
	}
	for (n = (size_t)(eq - s); n > 0 && (s[n - 1] == ' ' ||
					       s[n - 1] == '\t');
		n--)
		;
	buf_add(&key, s, n);
	if (n == 0) {
		st = fail(p, p->line, "no key before '='");
		goto out;
	}
	if (p->sec == SEC_NONE) {
		st = fail(p, p->line, "'%s' is outside a section: start the "
				      "file with [step]", key.ptr);
		goto out;
	}
	if ((k = key_index(keys, key.ptr)) < 0) {
		list_keys(&msg, keys);
		st = fail(p, p->line, "unknown key '%s' in [%s] (known: %s)",
			key.ptr, p->sec == SEC_STEP ? "step" : "chain",
			msg.ptr);
		goto out;
	}
	if (p->seen[k] && !(p->sec == SEC_STEP && k == 6)) {
		st = fail(p, p->line, "'%s' is given twice in this section "
				      "(first on line %d)",
			key.ptr, p->seen[k]);
		goto out;
	}
	p->seen[k] = p->line;
	for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
		;
	p->open = true;
	p->key = k;
	p->indent = indent;
	p->key_line = p->line;
	p->val_line = *v ? p->line : 0;
	p->blanks = 0;
	buf_adds(&p->first, v);
out:
	buf_release(&key);
	buf_release(&msg);
	return st;
}

/* Whether s (without trailing blanks) is "[step]" or "[chain]", blanks
 * and a comment allowed: such a line starts a section even where an
 * indented line would continue a value. */
static bool
is_header(const char *s)
{
	const char *end;
	size_t n;

	if (*s++ != '[')
		return false;
	s += strspn(s, " \t");
	n = strcspn(s, " \t]");
	end = s + n + strspn(s + n, " \t");
	if (*end != ']' || !((n == 4 && strncmp(s, "step", 4) == 0) ||
				    (n == 5 && strncmp(s, "chain", 5) == 0)))
		return false;
	end++;
	end += strspn(end, " \t");
	return *end == '\0' || *end == ';' || *end == '#';
}

/* One line, without its line end. */
static enum llm_status
parse_line(struct parse *p, const char *line, size_t len)
{
	struct buf b = BUF_INIT;
	enum llm_status st = LLM_OK;
	size_t indent = 0;
	const char *s;

	buf_add(&b, line, len);
	buf_rtrim(&b);
	while (indent < b.len && (b.ptr[indent] == ' ' ||
					 b.ptr[indent] == '\t'))
		indent++;
	s = b.ptr + indent;
	if (*s == '\0') {
		if (p->open)
			p->blanks++;
		goto out;
	}
	if (p->open && indent > p->indent && !is_header(s)) {
		if (p->first.len == 0 && p->ncont == 0) {
			p->blanks = 0;
			p->val_line = p->line;
		}
		for (; p->blanks > 0; p->blanks--) {
			buf_addch(&p->cont, '\n');
			p->ncont++;
		}
		if (p->ncont == 0 || indent < p->min_indent)
			p->min_indent = indent;
		buf_add(&p->cont, b.ptr, b.len);
		buf_addch(&p->cont, '\n');
		p->ncont++;
		goto out;
	}
	if ((st = close_value(p)) != LLM_OK)
		goto out;
	if (*s == ';' || *s == '#')
		goto out;
	if (*s == '[')
		st = section(p, s);
	else
		st = key_value(p, s, indent);
out:
	buf_release(&b);
	return st;
}

enum llm_status
chainfile_parse(struct chainfile *cf, const char *text, const char *name,
	struct buf *err)
{
	struct parse p;
	enum llm_status st = LLM_OK;
	const char *s = text, *nl;
	size_t len, i;

	memset(&p, 0, sizeof(p));
	p.cf = cf;
	p.name = name;
	p.err = err;
	p.first.ptr = p.cont.ptr = buf_empty;
	free(cf->path);
	cf->path = xstrdup(name);
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (*s != '\0') {
		p.line++;
		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		if ((st = parse_line(&p, s, len)) != LLM_OK)
			goto out;
		s += len + (nl != NULL);
	}
	if ((st = close_value(&p)) != LLM_OK)
		goto out;
	if (cf->nsteps == 0) {
		st = fail(&p, p.line > 0 ? p.line : 1,
			"no [step] section: a chain needs at least one step");
		goto out;
	}
	for (i = 0; i < cf->nsteps; i++) {
		if (cf->steps[i].model == NULL) {
			st = fail(&p, cf->steps[i].line,
				"step %zu has no model: add 'model = MODEL'",
				i + 1);
			goto out;
		}
	}
out:
	if (st != LLM_OK) {
		for (i = 0; i < cf->nsteps; i++)
			step_free(&cf->steps[i]);
		cf->nsteps = 0;
	}
	buf_release(&p.first);
	buf_release(&p.cont);
	return st;
}

enum llm_status
chainfile_load(struct chainfile *cf, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	enum llm_status st;
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	const char *nul, *q;
	int line = 1;

	if ((st = prompt_read_file(path, &text, err)) != LLM_OK)
		goto out;
	if ((nul = memchr(text.ptr, '\0', text.len)) != NULL) {
		for (q = text.ptr; q < nul; q++)
			line += *q == '\n';
		buf_setf(err, "%s:%d: a NUL byte: this is not a chain file",
			name, line);
		st = LLM_ERR_DATA;
		goto out;
	}
	st = chainfile_parse(cf, text.ptr, name, err);
out:
	buf_release(&text);
	return st;
}
