/*
 * chainfile.h - llm-chain's chain files and the prompt templates of their
 * steps.
 *
 * A chain file is read line by line (not with inih: the same [step]
 * section repeats, values may span lines, and every error must name its
 * line).  The format:
 *
 *   ; a comment: a line whose first non-blank character is ';' or '#'
 *   [chain]                 optional, at most once: name, description
 *   name = translate-review
 *
 *   [step]                  one per step, in order
 *   model = claude-haiku    required; ${VAR} and ${VAR:-default} expand
 *   system = You translate into French.
 *   prompt = Translate this:
 *
 *       {input}
 *   temperature = 0.2       also top_p, max_tokens, stop (repeatable)
 *
 * - "key = value"; blanks around both are dropped.  A value runs to the
 *   end of its line: there are no comments after a value.
 * - A value continues on the lines below its key that are indented more
 *   than the key (spaces and tabs count one each).  Blank lines between
 *   them are kept; blank lines after the last one are not.  The
 *   indentation common to the continuation lines is removed, the rest is
 *   kept; trailing blanks are dropped.  Inside a value, ';' and '#' are
 *   text.  "prompt =" alone starts the value on the next line.  A line
 *   "[step]" or "[chain]" always starts a section, indented or not.
 * - A template (prompt) holds {input}, the chain's input, and {previous},
 *   the last step's answer; "{{" and "}}" are literal braces.  Any other
 *   '{' or '}' is an error, as is {previous} in the first step.  system
 *   and the other values are sent as written.
 * - system with an empty value means no system prompt at all.  An empty
 *   model or prompt, an empty or out-of-range number (temperature 0..2,
 *   top_p 0..1, max_tokens 1..100000000), an unknown section or key, a
 *   key given twice in one section (stop excepted), a step without model
 *   and a file without a [step] are errors.
 *
 * Errors are LLM_ERR_DATA with "FILE:LINE: message", LINE being the line
 * of the offending key, section, or (in a template) the offending brace.
 *
 * struct chainfile owns all its strings; chainfile_release() frees them.
 */
#ifndef LLM_CHAINFILE_H
#define LLM_CHAINFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct chain_step {
	char *model;  /* the model reference; required */
	char *system; /* NULL: none given; "": none wanted */
	char *prompt; /* the template; NULL: the default one */
	bool has_temperature, has_top_p;
	double temperature, top_p;
	long max_tokens; /* 0 = unset */
	char **stop;
	size_t nstop;
	int line;       /* its [step] line; 0 for steps not from a file */
	int model_line; /* its model key's line */
};

struct chainfile {
	char *path; /* the name used in messages; NULL when not from a file */
	char *name, *description; /* from [chain], or NULL */
	struct chain_step *steps;
	size_t nsteps, alloc;
};

/* clang-format off */
#define CHAINFILE_INIT { 0 }
/* clang-format on */

/* The template of a step without prompt: "{input}" for the first step;
 * "{previous}" for later ones, or with carry_input CHAINFILE_CARRY. */
#define CHAINFILE_CARRY \
	"Original input:\n{input}\n\nPrevious step's output:\n{previous}"

/* Parse the text of a chain file; name is used in messages and as
 * cf->path.  On error cf holds no steps. */
enum llm_status chainfile_parse(struct chainfile *cf, const char *text,
	const char *name, struct buf *err);
/* Read and parse the file at path ("-" is standard input).  A file that
 * cannot be read is LLM_ERR_USAGE. */
enum llm_status chainfile_load(struct chainfile *cf, const char *path,
	struct buf *err);
/* Append a step for model (copied), as -m does; returns it. */
struct chain_step *chainfile_add_step(struct chainfile *cf,
	const char *model);
void chainfile_release(struct chainfile *cf);

/* The template of step k (from 1): its prompt, else the default. */
const char *chainfile_template(const struct chain_step *s, size_t k,
	bool carry_input);

/*
 * Expand template t with input and previous (NULL: there is no previous
 * step) into out, or only check it when out is NULL.  On a bad template:
 * LLM_ERR_DATA, the message in err and the offset of the offending brace
 * in *at (when at is not NULL).
 */
enum llm_status chainfile_expand(const char *t, const char *input,
	const char *previous, struct buf *out, size_t *at, struct buf *err);

#endif
