/* test-opt.c - unit tests of lib/opt: checked option numbers. */
#include <limits.h>
#include <stdio.h>

#include "opt.h"
#include "tap.h"

/* opt_long's error string for s, or "ok=VALUE". */
static const char *
l(const char *s, long min, long max)
{
	static char res[64];
	const char *errstr = "unset";
	long v = -12345;

	if (opt_long(s, min, max, &v, &errstr))
		snprintf(res, sizeof(res), "ok=%ld", v);
	else
		snprintf(res, sizeof(res), "%s (v=%ld)", errstr, v);
	return res;
}

static const char *
d(const char *s, double min, double max)
{
	static char res[64];
	const char *errstr = "unset";
	double v = -12345;

	if (opt_double(s, min, max, &v, &errstr))
		snprintf(res, sizeof(res), "ok=%g", v);
	else
		snprintf(res, sizeof(res), "%s (v=%g)", errstr, v);
	return res;
}

int
main(void)
{
	is_str(l("42", 0, 100), "ok=42", "a long in range");
	is_str(l("0", 0, 100), "ok=0", "the minimum itself");
	is_str(l("100", 0, 100), "ok=100", "the maximum itself");
	is_str(l("-5", -10, 10), "ok=-5", "a negative number");
	is_str(l("+7", 0, 10), "ok=7", "a leading plus");
	is_str(l("007", 0, 10), "ok=7", "decimal, not octal");
	is_str(l("-1", 0, 100), "too small (v=-12345)",
		"below the minimum; *out untouched");
	is_str(l("101", 0, 100), "too large (v=-12345)", "above the maximum");
	is_str(l("", 0, 100), "invalid (v=-12345)", "the empty string");
	is_str(l("abc", 0, 100), "invalid (v=-12345)", "not a number");
	is_str(l("12abc", 0, 100), "invalid (v=-12345)", "trailing garbage");
	is_str(l("12 ", 0, 100), "invalid (v=-12345)", "a trailing space");
	is_str(l("1.5", 0, 100), "invalid (v=-12345)", "a fraction");
	is_str(l("0x10", 0, 100), "invalid (v=-12345)", "hex is invalid");
	is_str(l("-", 0, 100), "invalid (v=-12345)", "a sign alone");
	is_str(l("99999999999999999999999", 0, LONG_MAX),
		"too large (v=-12345)", "overflow is too large");
	is_str(l("-99999999999999999999999", LONG_MIN, 0),
		"too small (v=-12345)", "underflow is too small");
	{
		char s[32], want[40];

		snprintf(s, sizeof(s), "%ld", LONG_MAX);
		snprintf(want, sizeof(want), "ok=%ld", LONG_MAX);
		is_str(l(s, 0, LONG_MAX), want,
			"LONG_MAX is accepted when it is the maximum");
		snprintf(s, sizeof(s), "%ld", LONG_MIN);
		snprintf(want, sizeof(want), "ok=%ld", LONG_MIN);
		is_str(l(s, LONG_MIN, 0), want,
			"LONG_MIN is accepted when it is the minimum");
	}

	is_str(d("0.7", 0, 2), "ok=0.7", "a double in range");
	is_str(d("2", 0, 2), "ok=2", "the maximum itself");
	is_str(d("0", 0, 2), "ok=0", "the minimum itself");
	is_str(d("1e-1", 0, 2), "ok=0.1", "an exponent");
	is_str(d("-0.1", 0, 2), "too small (v=-12345)", "below the minimum");
	is_str(d("2.0001", 0, 2), "too large (v=-12345)", "above the maximum");
	is_str(d("", 0, 2), "invalid (v=-12345)", "the empty string");
	is_str(d("x", 0, 2), "invalid (v=-12345)", "not a number");
	is_str(d("1.5x", 0, 2), "invalid (v=-12345)", "trailing garbage");
	is_str(d(".", 0, 2), "invalid (v=-12345)", "a dot alone");
	is_str(d("nan", 0, 2), "invalid (v=-12345)", "NaN");
	is_str(d("1e999", 0, 1e300), "invalid (v=-12345)",
		"overflow is invalid (ERANGE)");
	is_str(d("inf", 0, 2), "too large (v=-12345)", "infinity is too large");
	is_str(d("-inf", 0, 2), "too small (v=-12345)",
		"minus infinity is too small");
	return tap_done();
}
