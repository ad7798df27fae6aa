/* test-status.c - unit tests of lib/status: every status's exit code, as
 * DESIGN.md's table fixes it, and its description. */
#include <string.h>

#include "status.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		enum llm_status st;
		int code;
		const char *str;
	} want[] = {
		{ LLM_OK, 0, "success" },
		{ LLM_ERR_USAGE, 64, "usage error" },
		{ LLM_ERR_DATA, 65, "malformed data" },
		{ LLM_ERR_UNAVAILABLE, 69, "provider unavailable" },
		{ LLM_ERR_INTERNAL, 70, "internal error" },
		{ LLM_ERR_IO, 74, "input/output error" },
		{ LLM_ERR_TEMP, 75, "temporary failure" },
		{ LLM_ERR_AUTH, 77, "authentication refused" },
		{ LLM_ERR_CONFIG, 78, "configuration error" },
		{ LLM_ERR_INTERRUPTED, 130, "interrupted" },
		{ LLM_ERR_TERMINATED, 143, "terminated" },
		{ LLM_ERR_PIPE, 0, "output closed" },
	};
	char name[80];
	size_t i, j;
	int distinct = 1;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(name, sizeof(name), "status %d exits %d",
			(int)want[i].st, want[i].code);
		is_int(status_exit_code(want[i].st), want[i].code, name);
		snprintf(name, sizeof(name), "status %d is '%s'",
			(int)want[i].st, want[i].str);
		is_str(status_str(want[i].st), want[i].str, name);
	}
	/* Each description names one status only. */
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (j = i + 1; j < sizeof(want) / sizeof(want[0]); j++)
			if (strcmp(status_str(want[i].st),
				    status_str(want[j].st)) == 0)
				distinct = 0;
	ok(distinct, "descriptions are distinct");
	ok(LLM_OK == 0, "LLM_OK is 0, so 'if (st)' means failure");
	is_int(status_exit_code((enum llm_status)99), 70,
		"an unknown status is an internal error");
	is_str(status_str((enum llm_status)99), "unknown error",
		"an unknown status has a description");
	return tap_done();
}
