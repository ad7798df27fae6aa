/*
 * tap.h - a tiny TAP producer for the unit tests (cf. redis testhelp.h).
 *
 *   ok(expr, "name");          one test
 *   is_str(got, want, "name"); string equality, shows both on failure
 *   is_int(got, want, "name");
 *   return tap_done();         prints the plan, returns the exit code
 */
#ifndef LLM_TAP_H
#define LLM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok(int cond, const char *name, const char *file, int line)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}

static inline int
tap_is_str(const char *got, const char *want, const char *name,
	const char *file, int line)
{
	int cond = (got == NULL && want == NULL) ||
		(got && want && strcmp(got, want) == 0);

	if (!tap_ok(cond, name, file, line)) {
		printf("#   got:  '%s'\n", got ? got : "(null)");
		printf("#   want: '%s'\n", want ? want : "(null)");
	}
	return cond;
}

static inline int
tap_is_int(long long got, long long want, const char *name, const char *file,
	int line)
{
	int cond = got == want;

	if (!tap_ok(cond, name, file, line))
		printf("#   got: %lld, want: %lld\n", got, want);
	return cond;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define ok(c, name)          tap_ok(!!(c), (name), __FILE__, __LINE__)
#define is_str(g, w, name)   tap_is_str((g), (w), (name), __FILE__, __LINE__)
#define is_int(g, w, name)   tap_is_int((g), (w), (name), __FILE__, __LINE__)

#endif
