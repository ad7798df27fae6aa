/*
 * prompt.h - where a prompt comes from (DESIGN.md, "Prompt and output").
 *
 * The prompt is the arguments joined by spaces; when stdin is not a
 * terminal (or the only argument is "-") its text is the prompt's
 * content; with both, the prompt is ARGS, a blank line, then stdin.
 * Trailing line ends of stdin are dropped.  A prompt of only whitespace
 * is a usage error.
 */
#ifndef LLM_PROMPT_H
#define LLM_PROMPT_H

#include "buf.h"
#include "status.h"

enum llm_status prompt_read(int argc, char **argv, struct buf *prompt,
	struct buf *err);
/* Read a whole file (for --system-file and the like) into out; "-" is
 * stdin.  LLM_ERR_USAGE with a message when it cannot be read. */
enum llm_status prompt_read_file(const char *path, struct buf *out,
	struct buf *err);

#endif
