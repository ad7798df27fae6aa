/*
 * json.h - small helpers over cJSON for reading provider documents and
 * building requests.
 *
 * Every getter treats a missing key or a value of another type as
 * absent.  Returned strings are borrowed from the cJSON tree.
 */
#ifndef LLM_JSON_H
#define LLM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* obj[key] if it is a string, else NULL. */
const char *json_str(const cJSON *obj, const char *key);
/* obj[key] as a long if it is a number, else def. */
long json_long(const cJSON *obj, const char *key, long def);
/* obj[key] if it is an object (or array), else NULL. */
cJSON *json_obj(const cJSON *obj, const char *key);
cJSON *json_arr(const cJSON *obj, const char *key);
/* Parse n bytes (need not be NUL-terminated); NULL if invalid. */
cJSON *json_parse(const char *p, size_t n);
/* Append the compact text of j to out. */
void json_print(const cJSON *j, struct buf *out);
/* Parse "KEY=VALUE": VALUE as JSON, else as a string; add it to obj,
 * replacing a key of the same name.  Returns false if there is no '='. */
bool json_set_option(cJSON *obj, const char *kv);
/* Add a number that is printed without a spurious fraction. */
void json_add_number(cJSON *obj, const char *key, double v);

#endif
