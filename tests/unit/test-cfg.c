/* test-cfg.c - unit tests of lib/cfg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "tap.h"

static char dir[] = "/tmp/test-cfg.XXXXXX";

/* Paths under dir, made once and removed in reverse at the end. */
static char *made[32];
static int nmade;
static struct buf pathbuf = BUF_INIT;

/* dir/rel, valid until the next call. */
static const char *
path(const char *rel)
{
	buf_setf(&pathbuf, "%s/%s", dir, rel);
	return pathbuf.ptr;
}

static void
note(const char *p)
{
	if (nmade < 32)
		made[nmade++] = strdup(p);
}

static void
mkdir_rel(const char *rel)
{
	const char *p = path(rel);

	if (mkdir(p, 0700) == 0)
		note(p);
}

static void
write_rel(const char *rel, const char *text)
{
	const char *p = path(rel);
	FILE *fp = fopen(p, "w");

	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
	note(p);
}

static void
cleanup(void)
{
	while (nmade > 0) {
		char *p = made[--nmade];

		if (unlink(p) != 0)
			rmdir(p);
		free(p);
	}
	rmdir(dir);
	buf_release(&pathbuf);
}

static void
test_layers(void)
{
	struct cfg c = CFG_INIT;
	struct buf err = BUF_INIT, want = BUF_INIT;
	const struct cfg_entry *e;
	enum llm_status st;

	mkdir_rel("xdg");
	mkdir_rel("xdg/llm");
	mkdir_rel("home");
	mkdir_rel("home/.config");
	mkdir_rel("home/.config/llm");
	write_rel("default.ini", "[defaults]\na = 1\nb = 1\nc = 1\n");
	write_rel("xdg/llm/llm.ini", "[defaults]\na = 2\n\nb = 2\n");
	write_rel("home/.config/llm/llm.ini", "[defaults]\nb = home\n");
	write_rel("user.ini", "[defaults]\n; comment\na = 3\n");
	write_rel("explicit.ini", "[defaults]\na = explicit\n");

	setenv("LLM_DEFAULT_CONFIG", path("default.ini"), 1);
	setenv("XDG_CONFIG_HOME", path("xdg"), 1);
	setenv("LLM_CONFIG", path("user.ini"), 1);
	setenv("HOME", path("home"), 1);

	st = cfg_load(&c, NULL, &err);
	is_int(st, LLM_OK, "three layers load");
	is_int((long long)c.nfiles, 3, "three files read");
	is_str(c.files[0], path("default.ini"), "layer 1 is LLM_DEFAULT_CONFIG");
	is_str(c.files[1], path("xdg/llm/llm.ini"), "layer 2 is XDG_CONFIG_HOME");
	is_str(c.files[2], path("user.ini"), "layer 3 is LLM_CONFIG");
	is_str(cfg_value(&c, "defaults", "a"), "3", "layer 3 wins");
	is_str(cfg_value(&c, "defaults", "b"), "2", "layer 2 beats layer 1");
	is_str(cfg_value(&c, "defaults", "c"), "1", "layer 1 fills the rest");
	ok(cfg_value(&c, "defaults", "d") == NULL, "absent key is NULL");
	e = cfg_get(&c, "defaults", "a");
	ok(e && strcmp(e->file, path("user.ini")) == 0 && e->line == 3,
		"winning entry keeps its file and line");
	e = cfg_get(&c, "defaults", "b");
	is_int(e ? e->line : 0, 4, "blank lines are counted");
	cfg_release(&c);

	st = cfg_load(&c, path("explicit.ini"), &err);
	is_int((long long)c.nfiles, 3, "explicit path replaces LLM_CONFIG");
	is_str(c.nfiles == 3 ? c.files[2] : NULL, path("explicit.ini"),
		"explicit path is layer 3");
	is_str(cfg_value(&c, "defaults", "a"), "explicit",
		"explicit path beats LLM_CONFIG");
	cfg_release(&c);

	st = cfg_load(&c, path("nope.ini"), &err);
	is_int(st, LLM_ERR_CONFIG, "missing explicit file is an error");
	buf_setf(&want, "cannot read config '%s': No such file or directory",
		path("nope.ini"));
	is_str(err.ptr, want.ptr, "missing explicit file message");
	cfg_release(&c);

	setenv("LLM_CONFIG", path("gone.ini"), 1);
	st = cfg_load(&c, NULL, &err);
	is_int(st, LLM_ERR_CONFIG, "missing LLM_CONFIG is an error");
	cfg_release(&c);

	/* a missing layer 1 is skipped; no XDG means ~/.config */
	setenv("LLM_DEFAULT_CONFIG", path("missing.ini"), 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("LLM_CONFIG");
	st = cfg_load(&c, NULL, &err);
	is_int(st, LLM_OK, "missing layers 1 and 3 are fine without a path");
	is_int((long long)c.nfiles, 1, "only the home file is read");
	is_str(cfg_value(&c, "defaults", "b"), "home",
		"~/.config/llm/llm.ini without XDG_CONFIG_HOME");
	cfg_release(&c);

	/* nothing from the current directory, not even via a relative XDG */
	mkdir_rel("cwd");
	mkdir_rel("cwd/llm");
	write_rel("cwd/llm.ini", "[defaults]\nmodel = evil/x\n");
	write_rel("cwd/llm/llm.ini", "[defaults]\nmodel = evil/y\n");
	setenv("HOME", path("nohome"), 1);
	setenv("XDG_CONFIG_HOME", ".", 1);
	if (chdir(path("cwd")) == 0) {
		st = cfg_load(&c, NULL, &err);
		is_int((long long)c.nfiles, 0, "no file read from the cwd");
		ok(cfg_value(&c, "defaults", "model") == NULL,
			"cwd llm.ini is not loaded");
		cfg_release(&c);
		if (chdir("/") != 0)
			ok(0, "chdir back");
	} else {
		ok(0, "chdir into the cwd test directory");
	}
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("LLM_DEFAULT_CONFIG");
	buf_release(&want);
	buf_release(&err);
}

static void
test_expand(void)
{
	char *s;

	setenv("HOME", "/home/u", 1);
	setenv("T_FOO", "foo", 1);
	setenv("T_EMPTY", "", 1);
	unsetenv("T_UNSET");
	unsetenv("T_UNSET2");

#define EXPAND(in, want, name)                   \
	do {                                     \
		s = cfg_expand(in);              \
		is_str(s, want, name);           \
		free(s);                         \
	} while (0)
	EXPAND("${T_FOO}", "foo", "${VAR}");
	EXPAND("a${T_FOO}b${T_FOO}", "afoobfoo", "${VAR} twice inside text");
	EXPAND("${T_UNSET}", "", "unset ${VAR} is empty");
	EXPAND("${T_UNSET:-dflt}", "dflt", "${VAR:-default} when unset");
	EXPAND("${T_EMPTY:-dflt}", "dflt", "${VAR:-default} when empty");
	EXPAND("${T_FOO:-dflt}", "foo", "${VAR:-default} when set");
	EXPAND("${T_UNSET:-${T_FOO}/x}", "foo/x", "default holds ${OTHER}");
	EXPAND("${T_UNSET:-${T_UNSET2:-deep}}", "deep", "nested defaults");
	EXPAND("${T_UNSET:-~/.local/share}/llm/llm.db",
		"/home/u/.local/share/llm/llm.db", "~ at the start of a default");
	EXPAND("~/x", "/home/u/x", "leading ~/");
	EXPAND("~", "/home/u", "lone ~");
	EXPAND("~user/x", "~user/x", "~user is left alone");
	EXPAND("a/~/b", "a/~/b", "~ inside is left alone");
	EXPAND("$$ $T_FOO", "$$ $T_FOO", "$$ and $VAR are not special");
	EXPAND("x${T_FOO", "x${T_FOO", "unterminated ${ kept");
	EXPAND("${T_UNSET:-a", "${T_UNSET:-a", "unterminated default kept");
	EXPAND("${1X}", "${1X}", "invalid name kept");
	unsetenv("HOME");
	EXPAND("~/x", "~/x", "~ stays without HOME");
#undef EXPAND

	s = cfg_var_name("${GROQ_API_KEY}");
	is_str(s, "GROQ_API_KEY", "var name of ${NAME}");
	free(s);
	s = cfg_var_name("x ${1} ${KEY_2:-d}");
	is_str(s, "KEY_2", "var name of ${NAME:-...}, skipping a bad one");
	free(s);
	s = cfg_var_name("sk-plain");
	ok(s == NULL, "no var name in a plain value");
	free(s);
}

static void
test_syntax(void)
{
	struct cfg c = CFG_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT;
	const struct cfg_entry *e;
	enum llm_status st;
	size_t n;
	int i;

	setenv("HOME", "/home/u", 1);
	setenv("T_FOO", "foo", 1);
	st = cfg_load_string(&c,
		"top = 0\n"
		"[provider.x]\r\n"
		"base_url = http://h/v1#frag   ; inline comment\n"
		"# whole-line comment\n"
		"  ; indented comment\n"
		"semi = a;b\n"
		"api_key = ${T_FOO}/k\n"
		"  indented = yes\n"
		"db = ~/d\n",
		"t.ini", &err);
	is_int(st, LLM_OK, "string parses");
	is_int((long long)c.n, 6, "six entries");
	e = cfg_get(&c, "", "top");
	ok(e && e->line == 1, "key before any section has section \"\"");
	is_str(cfg_value(&c, "provider.x", "base_url"), "http://h/v1#frag",
		"inline ; comment dropped, # kept");
	is_str(cfg_value(&c, "provider.x", "semi"), "a;b",
		"; without a space before it is data");
	e = cfg_get(&c, "provider.x", "api_key");
	ok(e && strcmp(e->value, "foo/k") == 0 &&
			strcmp(e->raw, "${T_FOO}/k") == 0,
		"value is expanded, raw is kept");
	ok(e && strcmp(e->file, "t.ini") == 0 && e->line == 7,
		"entry file and line (CRLF counted)");
	is_str(cfg_value(&c, "provider.x", "indented"), "yes",
		"indented line is an ordinary key");
	is_str(cfg_value(&c, "provider.x", "db"), "/home/u/d",
		"~ expanded in values");

	n = c.n;
	st = cfg_load_string(&c, "[s]\nok = 1\nbroken line\nmore = 2\n",
		"bad.ini", &err);
	is_int(st, LLM_ERR_CONFIG, "syntax error status");
	is_str(err.ptr, "bad.ini:3: syntax error", "syntax error file:line");
	is_int((long long)c.n, (long long)n, "a bad file adds no entries");

	st = cfg_load_string(&c, "[s]\na = 1\n    continued\n", "m.ini", &err);
	is_str(err.ptr, "m.ini:3: syntax error",
		"continuation line is rejected with file:line");
	st = cfg_load_string(&c, "[s]\n= 1\n", "e.ini", &err);
	is_str(err.ptr, "e.ini:2: syntax error", "empty key is a syntax error");

	buf_adds(&text, "[model.a-section-name-that-is-longer-than-fifty-bytes-x]\n"
		"api_key_cmd = ");
	for (i = 0; i < 300; i++)
		buf_adds(&text, "0123456789");
	buf_addch(&text, '\n');
	st = cfg_load_string(&c, text.ptr, "long.ini", &err);
	is_int(st, LLM_OK, "a 3000-byte line is fine");
	e = cfg_get(&c,
		"model.a-section-name-that-is-longer-than-fifty-bytes-x",
		"api_key_cmd");
	is_int(e ? (long long)strlen(e->value) : -1, 3000,
		"long value whole, long section name whole");
	buf_reset(&text);
	buf_adds(&text, "[s]\nk = ");
	for (i = 0; i < 500; i++)
		buf_adds(&text, "0123456789");
	st = cfg_load_string(&c, text.ptr, "huge.ini", &err);
	is_int(st, LLM_ERR_CONFIG, "an over-long line is an error");
	is_str(err.ptr, "huge.ini:2: line too long (the limit is 4096 bytes)",
		"over-long line message");
	cfg_release(&c);
	cfg_release(&c);
	ok(c.v == NULL && c.n == 0, "release twice is safe");
	buf_release(&text);
	buf_release(&err);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	test_layers();
	test_expand();
	test_syntax();
	cleanup();
	return tap_done();
}
