/*
 * report.h - llm-compare's output formats: text, markdown, json, jsonl
 * and csv (see llm-compare(1) for each one's exact shape).
 *
 * The text format is a sequence of pieces with a blank line between
 * them: for each prompt, a heading (only with --prompts), one block per
 * -m reference, and the judge's block (with --judge).  compare.c writes
 * the pieces as they become ready; report_write() writes them all.
 *
 * Everything is appended to out; the result is borrowed.
 */
#ifndef LLM_REPORT_H
#define LLM_REPORT_H

#include "buf.h"
#include "compare.h"

/* "# prompt N: " and the prompt's first 60 characters ("..." when cut). */
void report_text_heading(struct buf *out, size_t index, const char *prompt);
/* A cell's block: the header line, then its answer (or error). */
void report_text_cell(struct buf *out, const struct compare_cell *c);
/* The header line alone ("== fake/echo | 312 ms | ... ==\n"). */
void report_text_header(struct buf *out, const struct compare_cell *c);
/* The judge's block of prompt pr. */
void report_text_judge(struct buf *out, const struct compare_result *r,
	const struct compare_prompt *pr);
/* The whole report in format f. */
void report_write(struct buf *out, const struct compare_result *r,
	enum compare_format f);

/* "$0.0000115": USD with three significant digits (at least two
 * decimals); "$?" when usd < 0. */
void report_cost(struct buf *out, double usd);
/* A cell's title: its reference, and for a group the members that
 * answered, "fast (fake/a, fake/b)". */
void report_title(struct buf *out, const struct compare_cell *c);

#endif
