/* status.c - statuses and exit codes; see status.h. */
#include "status.h"

const char *
status_str(enum llm_status st)
{
	switch (st) {
	case LLM_OK:
		return "success";
	case LLM_ERR_USAGE:
		return "usage error";
	case LLM_ERR_DATA:
		return "malformed data";
	case LLM_ERR_UNAVAILABLE:
		return "provider unavailable";
	case LLM_ERR_INTERNAL:
		return "internal error";
	case LLM_ERR_IO:
		return "input/output error";
	case LLM_ERR_TEMP:
		return "temporary failure";
	case LLM_ERR_AUTH:
		return "authentication refused";
	case LLM_ERR_CONFIG:
		return "configuration error";
	case LLM_ERR_INTERRUPTED:
		return "interrupted";
	case LLM_ERR_TERMINATED:
		return "terminated";
	case LLM_ERR_PIPE:
		return "output closed";
	}
	return "unknown error";
}

int
status_exit_code(enum llm_status st)
{
	switch (st) {
	case LLM_OK:
		return 0;
	case LLM_ERR_USAGE:
		return 64;
	case LLM_ERR_DATA:
		return 65;
	case LLM_ERR_UNAVAILABLE:
		return 69;
	case LLM_ERR_INTERNAL:
		return 70;
	case LLM_ERR_IO:
		return 74;
	case LLM_ERR_TEMP:
		return 75;
	case LLM_ERR_AUTH:
		return 77;
	case LLM_ERR_CONFIG:
		return 78;
	case LLM_ERR_INTERRUPTED:
		return 130;
	case LLM_ERR_TERMINATED:
		return 143;
	case LLM_ERR_PIPE:
		return 0;
	}
	return 70;
}
