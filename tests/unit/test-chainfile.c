/* test-chainfile.c - unit tests of lib/chainfile. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "chainfile.h"
#include "tap.h"

/* Parse text as "t.chain"; the message on failure, "" on success. */
static enum llm_status
parse(struct chainfile *cf, const char *text, struct buf *err)
{
	chainfile_release(cf);
	buf_reset(err);
	return chainfile_parse(cf, text, "t.chain", err);
}

/* text must fail with exactly want. */
static void
bad(const char *text, const char *want, const char *name)
{
	struct chainfile cf = CHAINFILE_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st = parse(&cf, text, &err);

	if (!is_int(st, LLM_ERR_DATA, name))
		printf("#   (it parsed)\n");
	is_str(err.ptr, want, name);
	is_int((long long)cf.nsteps, 0, "  and no steps are kept");
	chainfile_release(&cf);
	buf_release(&err);
}

static void
test_basic(void)
{
	struct chainfile cf = CHAINFILE_INIT;
	struct buf err = BUF_INIT;
	const struct chain_step *s;
	enum llm_status st;

	st = parse(&cf,
		"; a chain\n"
		"# another comment\n"
		"[chain]\n"
		"name = review\n"
		"description = translate, then review\n"
		"\n"
		"[step]\n"
		"model = fake/echo\n"
		"system = You translate.\n"
		"prompt = Translate: {input}\n"
		"temperature = 0.25\n"
		"top_p = 0.5\n"
		"max_tokens = 300\n"
		"stop = END\n"
		"stop = ###\n"
		"\n"
		"  [ step ]   ; the reviewer\n"
		"  model   =   fake/sys  \n"
		"system =\n",
		&err);
	is_int(st, LLM_OK, "a two-step file parses");
	is_str(err.ptr, "", "no message");
	if (st != LLM_OK || cf.nsteps != 2)
		goto out;
	is_str(cf.path, "t.chain", "path is the name given");
	is_str(cf.name, "review", "[chain] name");
	is_str(cf.description, "translate, then review", "[chain] description");
	is_int((long long)cf.nsteps, 2, "two steps");
	s = &cf.steps[0];
	is_str(s->model, "fake/echo", "step 1 model");
	is_int(s->line, 7, "step 1 is on line 7");
	is_int(s->model_line, 8, "its model on line 8");
	is_str(s->system, "You translate.", "step 1 system");
	is_str(s->prompt, "Translate: {input}", "step 1 prompt");
	ok(s->has_temperature && s->temperature == 0.25, "temperature 0.25");
	ok(s->has_top_p && s->top_p == 0.5, "top_p 0.5");
	is_int(s->max_tokens, 300, "max_tokens 300");
	is_int((long long)s->nstop, 2, "stop is repeatable");
	is_str(s->nstop == 2 ? s->stop[1] : NULL, "###",
		"stops in order, '#' inside a value is text");
	s = &cf.steps[1];
	is_str(s->model, "fake/sys", "blanks around key, value and section");
	is_int(s->line, 17, "step 2 on line 17");
	is_str(s->system, "", "an empty system means none");
	ok(s->prompt == NULL, "no prompt: the default template");
	ok(!s->has_temperature && !s->has_top_p && s->max_tokens == 0 &&
			s->nstop == 0,
		"unset numbers stay unset");
out:
	chainfile_release(&cf);
	ok(cf.steps == NULL && cf.nsteps == 0 && cf.path == NULL,
		"release empties it");
	chainfile_release(&cf);
	buf_release(&err);
}

static void
test_continuation(void)
{
	struct chainfile cf = CHAINFILE_INIT;
	struct buf err = BUF_INIT;
	enum llm_status st;

	st = parse(&cf,
		"[step]\n"
		"model = m\n"
		"prompt = Translate this:\n"
		"    first\n"
		"\n"
		"      indented more\n"
		"    ; not a comment\n"
		"    # nor this\n"
		"\n"
		"\n"
		"; a comment ends the value\n"
		"system =\n"
		"\n"
		"\tOn its own lines.   \n"
		"\tTwo of them.\n"
		"[step]\n"
		"  model = a\n"
		"  prompt = {previous}\n"
		"  system = indented keys\n"
		"    continue when indented more\n",
		&err);
	is_int(st, LLM_OK, "continuation lines parse");
	is_str(err.ptr, "", "no message");
	is_str(cf.nsteps ? cf.steps[0].prompt : NULL,
		"Translate this:\nfirst\n\n  indented more\n; not a comment\n"
		"# nor this",
		"common indentation removed, blank lines inside kept, "
		"trailing ones dropped");
	is_str(cf.nsteps ? cf.steps[0].system : NULL,
		"On its own lines.\nTwo of them.",
		"'key =' alone starts the value on the next line");
	is_str(cf.nsteps > 1 ? cf.steps[1].model : NULL, "a",
		"a key indented like the one before is a key");
	is_str(cf.nsteps > 1 ? cf.steps[1].prompt : NULL, "{previous}",
		"  so is the next one");
	is_str(cf.nsteps > 1 ? cf.steps[1].system : NULL,
		"indented keys\ncontinue when indented more",
		"  and a line indented more continues it");

	st = parse(&cf, "\xEF\xBB\xBF[step]\r\nmodel = m\r\nprompt = a\r\n"
			"  b\r\n",
		&err);
	is_int(st, LLM_OK, "a BOM and CRLF line ends");
	is_str(cf.nsteps ? cf.steps[0].prompt : NULL, "a\nb",
		"  CR dropped, LF kept between lines");
	is_str(cf.nsteps ? cf.steps[0].model : NULL, "m", "  model 'm'");

	st = parse(&cf, "[step]\nmodel = m", &err);
	is_int(st, LLM_OK, "no newline at the end");
	is_str(cf.nsteps ? cf.steps[0].model : NULL, "m", "  model 'm'");
	chainfile_release(&cf);
	buf_release(&err);
}

static void
test_env(void)
{
	struct chainfile cf = CHAINFILE_INIT;
	struct buf err = BUF_INIT;

	setenv("CHAIN_TEST_MODEL", "fake/fixed-x", 1);
	unsetenv("CHAIN_TEST_UNSET");
	is_int(parse(&cf,
		       "[step]\nmodel = ${CHAIN_TEST_MODEL}\n"
		       "system = ${CHAIN_TEST_MODEL}\n"
		       "[step]\nmodel = ${CHAIN_TEST_UNSET:-fake/echo}\n",
		       &err),
		LLM_OK, "${VAR} in model");
	is_str(cf.nsteps ? cf.steps[0].model : NULL, "fake/fixed-x",
		"  expanded");
	is_str(cf.nsteps ? cf.steps[0].system : NULL, "${CHAIN_TEST_MODEL}",
		"  but not in system");
	is_str(cf.nsteps > 1 ? cf.steps[1].model : NULL, "fake/echo",
		"  ${VAR:-default}");
	bad("[step]\nmodel = ${CHAIN_TEST_UNSET}\n",
		"t.chain:2: model is empty (its variables are unset)",
		"model of an unset variable");
	chainfile_release(&cf);
	buf_release(&err);
}

static void
test_errors(void)
{
	bad("", "t.chain:1: no [step] section: a chain needs at least one "
		"step",
		"empty file");
	bad("; only\n; comments\n[chain]\nname = x\n",
		"t.chain:4: no [step] section: a chain needs at least one "
		"step",
		"no [step]: the last line");
	bad("[step]\nmodel = m\n\n[step]\nsystem = s\n",
		"t.chain:4: step 2 has no model: add 'model = MODEL'",
		"a step without model: its [step] line");
	bad("[step]\nmodel = m\ntempature = 1\n",
		"t.chain:3: unknown key 'tempature' in [step] (known: model, "
		"system, prompt, temperature, top_p, max_tokens, stop)",
		"unknown key in [step]");
	bad("[chain]\nmodel = m\n",
		"t.chain:2: unknown key 'model' in [chain] (known: name, "
		"description)",
		"unknown key in [chain]");
	bad("[steps]\nmodel = m\n",
		"t.chain:1: unknown section '[steps]' (a chain file has [step] "
		"sections and one [chain])",
		"unknown section");
	bad("[chain]\n[step]\nmodel = m\n[chain]\n",
		"t.chain:4: a second [chain] section (the first is on line 1)",
		"two [chain] sections");
	bad("model = m\n[step]\n",
		"t.chain:1: 'model' is outside a section: start the file with "
		"[step]",
		"a key before any section");
	bad("[step]\nmodel = a\nsystem = x\nmodel = b\n",
		"t.chain:4: 'model' is given twice in this section (first on "
		"line 2)",
		"a key given twice");
	bad("[step\nmodel = m\n", "t.chain:1: no ']' after '['",
		"unclosed section");
	bad("[step] x\n", "t.chain:1: text after the section name: 'x'",
		"text after a section");
	bad("[step]\nmodel m\n",
		"t.chain:2: expected 'key = value', a [section] or a comment",
		"a line without '='");
	bad("[step]\n = m\n", "t.chain:2: no key before '='", "no key");
	bad("[step]\nmodel =\n", "t.chain:2: model is empty", "empty model");
	bad("[step]\nmodel = m\nprompt =\n\n[step]\n",
		"t.chain:3: prompt is empty", "empty prompt");
	bad("[step]\nmodel = m\nstop =\n", "t.chain:3: stop is empty",
		"empty stop");
	bad("[step]\nmodel = m\ntemperature = hot\n",
		"t.chain:3: temperature is invalid: 'hot'", "bad temperature");
	bad("[step]\nmodel = m\ntemperature = 0.2 ; cool\n",
		"t.chain:3: temperature is invalid: '0.2 ; cool'",
		"no comments after a value");
	bad("[step]\nmodel = m\ntemperature = 2.5\n",
		"t.chain:3: temperature is too large: '2.5'",
		"temperature out of range");
	bad("[step]\nmodel = m\ntop_p = -1\n",
		"t.chain:3: top_p is too small: '-1'", "top_p out of range");
	bad("[step]\nmodel = m\nmax_tokens = 0\n",
		"t.chain:3: max_tokens is too small: '0'", "max_tokens 0");
	bad("[step]\nmodel = m\nmax_tokens = 1.5\n",
		"t.chain:3: max_tokens is invalid: '1.5'",
		"max_tokens not an integer");
	bad("[step]\nmodel = m\ntemperature =\n",
		"t.chain:3: temperature is invalid: ''", "empty number");
	bad("[step]\nmodel = m\nprompt = {input} {foo}\n",
		"t.chain:3: unknown variable '{foo}' in the template (use "
		"{input} or {previous})",
		"unknown variable");
	bad("[step]\nmodel = m\n[step]\nmodel = m\nprompt =\n  Look:\n\n"
		"  {input}\n  {prevoius}\n",
		"t.chain:9: unknown variable '{prevoius}' in the template (use "
		"{input} or {previous})",
		"in a multi-line template, the line of the brace");
	bad("[step]\nmodel = m\nprompt = Fix: {previous}\n",
		"t.chain:3: '{previous}' in the first step: there is no "
		"previous output",
		"{previous} in step 1");
	bad("[step]\nmodel = m\nprompt = {input}\n  as {\"json\": 1}\n",
		"t.chain:4: unmatched '{' in the template (write '{{' for a "
		"literal brace)",
		"a lone '{'");
	bad("[step]\nmodel = m\nprompt = a } b\n",
		"t.chain:3: unmatched '}' in the template (write '}}' for a "
		"literal brace)",
		"a lone '}'");
	bad("[step]\nmodel = m\nprompt = {input\n",
		"t.chain:3: unmatched '{' in the template (write '{{' for a "
		"literal brace)",
		"an unclosed variable");
}

static void
test_expand(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t at = 99;

	is_int(chainfile_expand("{input} / {previous}", "IN", "PREV", &out,
		       &at, &err),
		LLM_OK, "expand both variables");
	is_str(out.ptr, "IN / PREV", "  values in place");
	is_int((long long)at, 99, "  at untouched on success");
	buf_reset(&out);
	is_int(chainfile_expand("{{input}} {{{input}}} }}{{", "x", NULL, &out,
		       NULL, &err),
		LLM_OK, "doubled braces");
	is_str(out.ptr, "{input} {x} }{", "  are literal braces");
	buf_reset(&out);
	is_int(chainfile_expand("{input}{previous}", "{previous}", "{input}",
		       &out, NULL, &err),
		LLM_OK, "values are not expanded again");
	is_str(out.ptr, "{previous}{input}", "  they come out as they are");
	buf_reset(&out);
	is_int(chainfile_expand("ab {nope}", "x", "y", &out, &at, &err),
		LLM_ERR_DATA, "unknown variable");
	is_int((long long)at, 3, "  at the offset of its brace");
	is_int(chainfile_expand("{previous}", "x", NULL, NULL, &at, &err),
		LLM_ERR_DATA, "{previous} without a previous step");
	is_int((long long)at, 0, "  at 0");
	is_int(chainfile_expand("{_a1}", "x", "y", NULL, &at, &err),
		LLM_ERR_DATA, "names may hold '_' and digits");
	is_str(err.ptr,
		"unknown variable '{_a1}' in the template (use {input} or "
		"{previous})",
		"  and are named in the message");
	is_int(chainfile_expand("{1}", "x", "y", NULL, &at, &err),
		LLM_ERR_DATA, "a name cannot start with a digit");
	is_str(err.ptr,
		"unmatched '{' in the template (write '{{' for a literal "
		"brace)",
		"  so its brace is unmatched");
	is_int(chainfile_expand("", "x", "y", &out, NULL, &err), LLM_OK,
		"an empty template");
	buf_release(&out);
	buf_release(&err);
}

static void
test_template(void)
{
	struct chain_step s;

	memset(&s, 0, sizeof(s));
	is_str(chainfile_template(&s, 1, false), "{input}", "step 1: input");
	is_str(chainfile_template(&s, 1, true), "{input}",
		"step 1 with --carry-input: input");
	is_str(chainfile_template(&s, 2, false), "{previous}",
		"step 2: previous");
	is_str(chainfile_template(&s, 3, true),
		"Original input:\n{input}\n\nPrevious step's output:\n"
		"{previous}",
		"step 3 with --carry-input: both, labelled");
	s.prompt = (char *)"mine {previous}";
	is_str(chainfile_template(&s, 2, true), "mine {previous}",
		"a step's own prompt wins");
}

static void
test_load(void)
{
	struct chainfile cf = CHAINFILE_INIT;
	struct buf err = BUF_INIT;
	char path[] = "/tmp/test-chainfile.XXXXXX";
	int fd = mkstemp(path);
	enum llm_status st;

	ok(fd >= 0, "temporary file");
	if (fd < 0)
		return;
	ok(write(fd, "[step]\nmodel = m\n\0\n", 19) == 19, "written");
	close(fd);
	st = chainfile_load(&cf, path, &err);
	is_int(st, LLM_ERR_DATA, "a NUL byte is bad data");
	ok(strstr(err.ptr, ":3: a NUL byte: this is not a chain file") !=
			NULL,
		"  named with its line");
	chainfile_release(&cf);
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, "[step]\nmodel = m\n", 17) == 17,
		"rewritten");
	if (fd >= 0)
		close(fd);
	buf_reset(&err);
	is_int(chainfile_load(&cf, path, &err), LLM_OK, "a file loads");
	is_str(cf.path, path, "  its path is the name");
	chainfile_release(&cf);
	unlink(path);
	buf_reset(&err);
	is_int(chainfile_load(&cf, path, &err), LLM_ERR_USAGE,
		"a missing file is a usage error");
	ok(strstr(err.ptr, "No such file") != NULL, "  with the reason");
	chainfile_release(&cf);

	is_str(chainfile_add_step(&cf, "x")->model, "x", "add_step copies");
	chainfile_add_step(&cf, "y")->system = strdup("s");
	is_int((long long)cf.nsteps, 2, "  and appends");
	ok(cf.path == NULL, "  a chain not from a file has no path");
	chainfile_release(&cf);
	buf_release(&err);
}

int
main(void)
{
	test_basic();
	test_continuation();
	test_env();
	test_errors();
	test_expand();
	test_template();
	test_load();
	return tap_done();
}
