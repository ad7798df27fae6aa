/*
 * opt.h - checked conversions of option arguments (cf. strtonum(3)).
 *
 * On failure they return false and set *errstr to "invalid", "too small"
 * or "too large", for messages like "max-tokens is invalid: 'x'".
 */
#ifndef LLM_OPT_H
#define LLM_OPT_H

#include <stdbool.h>

bool opt_long(const char *s, long min, long max, long *out,
	const char **errstr);
bool opt_double(const char *s, double min, double max, double *out,
	const char **errstr);

#endif
