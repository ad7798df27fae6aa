/* json.c - cJSON helpers; see json.h. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xalloc.h"

const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

long
json_long(const cJSON *obj, const char *key, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : def;
}

cJSON *
json_obj(const cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsObject(v) ? v : NULL;
}

cJSON *
json_arr(const cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

cJSON *
json_parse(const char *p, size_t n)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(p, n, &end, false);

	/* Only whitespace may follow the document. */
	while (j && end && end < p + n) {
		if (*end != ' ' && *end != '\t' && *end != '\n' &&
			*end != '\r' && *end != '\0') {
			cJSON_Delete(j);
			return NULL;
		}
		end++;
	}
	return j;
}

void
json_print(const cJSON *j, struct buf *out)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s) {
		buf_adds(out, s);
		cJSON_free(s);
	}
}

bool
json_set_option(cJSON *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *key;
	cJSON *v;

	if (eq == NULL || eq == kv)
		return false;
	key = xstrndup(kv, (size_t)(eq - kv));
	v = json_parse(eq + 1, strlen(eq + 1));
	if (v == NULL)
		v = cJSON_CreateString(eq + 1);
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, v);
	free(key);
	return true;
}

void
json_add_number(cJSON *obj, const char *key, double v)
{
	cJSON_AddNumberToObject(obj, key, v);
}
