/* opt.c - checked option numbers; see opt.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "opt.h"

bool
opt_long(const char *s, long min, long max, long *out, const char **errstr)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || (errno == ERANGE && v == 0)) {
		*errstr = "invalid";
		return false;
	}
	if (v < min || (errno == ERANGE && v == LONG_MIN)) {
		*errstr = "too small";
		return false;
	}
	if (v > max || (errno == ERANGE && v == LONG_MAX)) {
		*errstr = "too large";
		return false;
	}
	*out = v;
	return true;
}

bool
opt_double(const char *s, double min, double max, double *out,
	const char **errstr)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isnan(v) || errno == ERANGE) {
		*errstr = "invalid";
		return false;
	}
	if (v < min) {
		*errstr = "too small";
		return false;
	}
	if (v > max) {
		*errstr = "too large";
		return false;
	}
	*out = v;
	return true;
}
