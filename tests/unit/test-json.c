/* test-json.c - unit tests of lib/json: typed getters, parsing of
 * unterminated input, -o KEY=VALUE options, printing. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

/* The compact text of j (static; overwritten by the next call). */
static struct buf tb = BUF_INIT;

static const char *
text(const cJSON *j)
{
	buf_reset(&tb);
	json_print(j, &tb);
	return tb.ptr;
}

int
main(void)
{
	static const char doc[] = "{\"s\":\"str\",\"n\":42.9,\"neg\":-3,"
				   "\"o\":{\"k\":1},\"a\":[1,2],\"t\":true,"
				   "\"z\":null,\"ns\":\"7\",\"S\":\"upper\"}";
	/* Valid JSON followed by bytes that are not part of it. */
	static const char unterminated[] = { '{', '"', 'a', '"', ':', '1',
		'}', 'X', 'Y' };
	struct buf out = BUF_INIT;
	cJSON *j, *o;

	j = json_parse(doc, strlen(doc));
	ok(j != NULL, "json_parse of a document");

	is_str(json_str(j, "s"), "str", "json_str of a string");
	ok(json_str(j, "n") == NULL, "json_str of a number is NULL");
	ok(json_str(j, "o") == NULL, "json_str of an object is NULL");
	ok(json_str(j, "z") == NULL, "json_str of null is NULL");
	ok(json_str(j, "missing") == NULL, "json_str of a missing key");
	is_str(json_str(j, "S"), "upper", "keys are case-sensitive (S)");
	ok(json_str(j, "O") == NULL, "keys are case-sensitive (O)");
	ok(json_str(NULL, "s") == NULL, "json_str of a NULL object");

	is_int(json_long(j, "n", -1), 42, "json_long truncates 42.9");
	is_int(json_long(j, "neg", 0), -3, "json_long of a negative");
	is_int(json_long(j, "ns", -1), -1, "a numeric string is not a number");
	is_int(json_long(j, "t", -1), -1, "true is not a number");
	is_int(json_long(j, "z", -7), -7, "null gives the default");
	is_int(json_long(j, "missing", 99), 99, "missing gives the default");

	o = json_obj(j, "o");
	ok(o != NULL && json_long(o, "k", 0) == 1, "json_obj of an object");
	ok(json_obj(j, "a") == NULL, "json_obj of an array is NULL");
	ok(json_obj(j, "s") == NULL, "json_obj of a string is NULL");
	ok(json_obj(j, "missing") == NULL, "json_obj of a missing key");
	ok(json_arr(j, "a") != NULL &&
			cJSON_GetArraySize(json_arr(j, "a")) == 2,
		"json_arr of an array");
	ok(json_arr(j, "o") == NULL, "json_arr of an object is NULL");
	ok(json_arr(j, "z") == NULL, "json_arr of null is NULL");
	cJSON_Delete(j);

	j = json_parse(unterminated, 7);
	ok(j != NULL, "json_parse stops at n (no NUL needed)");
	is_str(text(j), "{\"a\":1}", "and reads what is there");
	cJSON_Delete(j);
	j = json_parse(unterminated, 9);
	ok(j == NULL, "a document with trailing bytes is invalid");
	cJSON_Delete(j);
	j = json_parse("{} \n\t", 5);
	ok(j != NULL, "trailing whitespace is fine");
	cJSON_Delete(j);
	ok(json_parse(unterminated, 6) == NULL, "cut short it is invalid");
	ok(json_parse("", 0) == NULL, "empty input is invalid");
	ok(json_parse("{\"a\":", 5) == NULL, "a truncated document");

	j = cJSON_CreateObject();
	ok(json_set_option(j, "seed=42"), "KEY=number");
	ok(json_set_option(j, "resp={\"type\":\"json_object\"}"),
		"KEY=object");
	ok(json_set_option(j, "user=bob"), "KEY=text");
	ok(json_set_option(j, "quoted=\"x y\""), "KEY=JSON string");
	ok(json_set_option(j, "flag=false"), "KEY=false");
	ok(json_set_option(j, "list=[1,\"a\"]"), "KEY=array");
	ok(json_set_option(j, "empty="), "KEY= (empty)");
	ok(json_set_option(j, "eq=a=b"), "the first '=' splits");
	is_str(text(j),
		"{\"seed\":42,\"resp\":{\"type\":\"json_object\"},"
		"\"user\":\"bob\",\"quoted\":\"x y\",\"flag\":false,"
		"\"list\":[1,\"a\"],\"empty\":\"\",\"eq\":\"a=b\"}",
		"values as JSON, else as strings");
	ok(json_set_option(j, "seed=7"), "replacing a key");
	ok(json_set_option(j, "user=1.5"), "replacing with another type");
	is_str(text(j),
		"{\"resp\":{\"type\":\"json_object\"},\"quoted\":\"x y\","
		"\"flag\":false,\"list\":[1,\"a\"],\"empty\":\"\","
		"\"eq\":\"a=b\",\"seed\":7,\"user\":1.5}",
		"a replaced key appears once, with its new value");
	ok(json_set_option(j, "keep_alive=5m"), "KEY=5m");
	is_str(json_str(j, "keep_alive"), "5m",
		"a number with trailing text stays a string");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "keep_alive");
	ok(!json_set_option(j, "noequals"), "no '=' is false");
	ok(!json_set_option(j, "=value"), "an empty key is false");
	ok(!json_set_option(j, ""), "an empty option is false");
	is_int(cJSON_GetArraySize(j), 8, "failed options add nothing");
	ok(json_set_option(j, "Seed=1"), "keys are case-sensitive");
	is_int(cJSON_GetArraySize(j), 9, "Seed is a new key");
	cJSON_Delete(j);

	j = cJSON_CreateObject();
	json_add_number(j, "i", 64);
	json_add_number(j, "f", 0.2);
	json_add_number(j, "big", 131072);
	cJSON_AddStringToObject(j, "u", "\xC3\xA9\n\"");
	buf_adds(&out, "prefix:");
	json_print(j, &out);
	is_str(out.ptr,
		"prefix:{\"i\":64,\"f\":0.2,\"big\":131072,\"u\":\"\xC3\xA9\\n\\\"\"}",
		"json_print appends compact text, numbers without fractions");
	cJSON_Delete(j);
	buf_release(&out);
	is_str(text(NULL), "", "json_print of NULL appends nothing");
	buf_release(&tb);
	return tap_done();
}
