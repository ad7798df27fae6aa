/* test-compare.c - unit tests of lib/compare and lib/report: the pure
 * parts of llm-compare (options, prompts files, percentiles, the judge's
 * request and verdicts) and its output formats, on results made here. */
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"
#include "tap.h"

static char pname[] = "fake", ptype[] = "openai";
static struct provider prov = { .name = pname, .type = ptype };
static char mref[] = "fake/echo", mid[] = "echo";
static struct model model = { .ref = mref, .id = mid };

/* A finished call: ok with text, or failed with err. */
static void
mkcall(struct compare_run *rn, const char *ref, enum llm_status st,
	const char *text, long lat, long ttft, long in, long out, double cost)
{
	struct call *c = &rn->call;

	call_init(c);
	rn->used = true;
	rn->final = true;
	c->provider = &prov;
	c->model = &model;
	c->ref = ref;
	c->st = st;
	c->latency_ms = lat;
	c->ttft_ms = ttft;
	c->input_tokens = in;
	c->output_tokens = out;
	c->cost = cost;
	c->attempts = 1;
	if (st == LLM_OK) {
		buf_adds(&c->res.text, text);
		c->res.finish = "stop";
	} else {
		buf_adds(&c->err, text);
		c->res.finish = "error";
	}
}

static void
test_options(void)
{
	struct compare_opts o = COMPARE_OPTS_INIT;
	enum compare_format f = COMPARE_TEXT;

	compare_opts_add_models(&o, "a,b");
	compare_opts_add_models(&o, " c , ,d,");
	compare_opts_add_models(&o, "");
	compare_opts_add_models(&o, "ollama/llama3.2:8b");
	ok(o.nmodels == 5, "-m splits at commas, skips empty names");
	is_str(o.models[0], "a", "first");
	is_str(o.models[2], "c", "blanks trimmed");
	is_str(o.models[3], "d", "empty pieces skipped");
	is_str(o.models[4], "ollama/llama3.2:8b", "a name with ':' and '/'");
	compare_opts_release(&o);
	compare_opts_release(&o);
	ok(o.nmodels == 0 && o.models == NULL, "release twice is safe");

	ok(compare_format_parse("csv", &f) && f == COMPARE_CSV, "csv");
	ok(compare_format_parse("jsonl", &f) && f == COMPARE_JSONL, "jsonl");
	ok(compare_format_parse("markdown", &f) && f == COMPARE_MARKDOWN,
		"markdown");
	ok(!compare_format_parse("md", &f) && !compare_format_parse("", &f),
		"unknown formats are refused");
}

static void
test_prompts(void)
{
	static const char text[] = "first\r\n# a comment\n\n   \t\n"
				   "  second, indented  \n#x\nthird";
	char **p;
	size_t n, i;

	compare_prompts_parse(text, sizeof(text) - 1, &p, &n);
	ok(n == 3, "three prompts");
	is_str(n > 0 ? p[0] : NULL, "first", "CR dropped");
	is_str(n > 1 ? p[1] : NULL, "  second, indented",
		"leading blanks kept, trailing ones dropped");
	is_str(n > 2 ? p[2] : NULL, "third", "no final newline");
	for (i = 0; i < n; i++)
		free(p[i]);
	free(p);
	compare_prompts_parse("\n# only\n", 8, &p, &n);
	ok(n == 0 && p == NULL, "no prompts at all");
}

static void
test_percentile(void)
{
	long one[] = { 7 };
	long ten[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	long twenty[20];
	long four[] = { 400, 100, 300, 200 };
	int i;

	ok(compare_percentile(NULL, 0, 50) == -1, "no values: -1");
	is_int(compare_percentile(one, 1, 50), 7, "one value: p50");
	is_int(compare_percentile(one, 1, 95), 7, "one value: p95");
	is_int(compare_percentile(ten, 10, 50), 5, "1..10: p50 is 5");
	ok(ten[0] == 1 && ten[9] == 10, "the values are sorted in place");
	is_int(compare_percentile(ten, 10, 95), 10, "1..10: p95 is 10");
	for (i = 0; i < 20; i++)
		twenty[i] = 20 - i;
	is_int(compare_percentile(twenty, 20, 95), 19,
		"1..20: p95 is the 19th (nearest rank)");
	is_int(compare_percentile(twenty, 20, 100), 20, "p100 is the maximum");
	is_int(compare_percentile(twenty, 20, 1), 1, "p1 is the minimum");
	is_int(compare_percentile(four, 4, 50), 200,
		"an even count: the lower middle");
	is_int(compare_percentile(four, 4, 95), 400, "4 values: p95 is max");
}

static void
test_ranking(void)
{
	size_t o[4] = { 9, 9, 9, 9 };

	ok(compare_parse_ranking("RANKING: B > A", 2, o) == 0 && o[0] == 1 &&
			o[1] == 0,
		"RANKING: B > A");
	ok(compare_parse_ranking("A is better.\nRANKING: A > C > B\n", 3, o) ==
				0 &&
			o[0] == 0 && o[1] == 2 && o[2] == 1,
		"after some reasoning, with a final newline");
	ok(compare_parse_ranking("**RANKING:** Answer B > Answer A.", 2, o) ==
				0 &&
			o[0] == 1 && o[1] == 0,
		"markdown bold, 'Answer' and a full stop");
	ok(compare_parse_ranking("ranking: b, a", 2, o) == 0 && o[0] == 1,
		"lower case, commas");
	ok(compare_parse_ranking("Ranking: [B] > [A] (B is clearer)", 2, o) ==
				0 &&
			o[0] == 1 && o[1] == 0,
		"brackets, a remark after the last label");
	ok(compare_parse_ranking("RANKING: A > B\nOn second thought:\n"
				 "RANKING: B > A",
			   2, o) == 0 &&
			o[0] == 1,
		"the last RANKING line wins");
	ok(compare_parse_ranking("RANKING: B > A\nRANKING: <letter> > "
				 "<letter>",
			   2, o) == 0 &&
			o[0] == 1,
		"a last line that does not parse: an earlier one is used");
	ok(compare_parse_ranking("RANKING: B > A >", 2, o) == 0,
		"a trailing separator");
	ok(compare_parse_ranking("I like A", 2, o) == -1, "no RANKING line");
	ok(compare_parse_ranking("", 2, o) == -1, "an empty verdict");
	ok(compare_parse_ranking("RANKING: B", 2, o) == -1, "a label missing");
	ok(compare_parse_ranking("RANKING: A > A", 2, o) == -1,
		"a label twice");
	ok(compare_parse_ranking("RANKING: A > C", 2, o) == -1,
		"a label out of range");
	ok(compare_parse_ranking("RANKING: A > B > C", 2, o) == -1,
		"too many labels");
	ok(compare_parse_ranking("RANKING: Alpha > Beta", 2, o) == -1,
		"words are not labels");
	ok(compare_parse_ranking("RANKING B > A", 2, o) == -1,
		"no colon: not the format");
	ok(compare_parse_ranking("RANKING: A = B", 2, o) == -1,
		"ties are not a ranking");
}

static void
test_judge_prompt(void)
{
	struct buf b = BUF_INIT;
	const char *answers[] = { "four", "4\n", "" };

	compare_judge_prompt(&b, NULL, "2+2?", answers, 2);
	is_str(b.ptr,
		"Rank the following 2 answers to the question below from best "
		"to worst, for correctness, helpfulness and clarity. Judge them "
		"by their content only, not by their order or their length.\n"
		"\n"
		"<question>\n"
		"2+2?\n"
		"</question>\n"
		"\n"
		"<answer label=\"A\">\n"
		"four\n"
		"</answer>\n"
		"\n"
		"<answer label=\"B\">\n"
		"4\n"
		"</answer>\n"
		"\n"
		"Explain your judgement briefly if you wish. Then end your "
		"reply with one line in exactly this form, naming each of the "
		"letters A and B once, best first:\n"
		"RANKING: <letter> > <letter>\n",
		"the judge's request for two answers");
	buf_reset(&b);
	compare_judge_prompt(&b, "Be terse.", "q", answers, 3);
	ok(strstr(b.ptr, "system prompt:\n<system>\nBe terse.\n</system>\n") !=
			NULL,
		"the system prompt is shown to the judge");
	ok(strstr(b.ptr, "<answer label=\"C\">\n</answer>\n") != NULL,
		"an empty answer");
	ok(strstr(b.ptr, "letters A, B and C once") != NULL &&
			strstr(b.ptr, "RANKING: <letter> > <letter> > "
				      "<letter>\n") != NULL,
		"three labels");
	buf_release(&b);
}

static void
test_cost(void)
{
	struct buf b = BUF_INIT;
	static const struct {
		double usd;
		const char *want;
	} t[] = {
		{ -1, "$?" },
		{ 0, "$0.00" },
		{ 0.0000115, "$0.0000115" },
		{ 0.000012345, "$0.0000123" },
		{ 0.5, "$0.50" },
		{ 0.0123, "$0.0123" },
		{ 12.3456, "$12.35" },
		{ 1e-13, "$0.00" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		report_cost(&b, t[i].usd);
		is_str(b.ptr, t[i].want, t[i].want);
	}
	buf_release(&b);
}

static void
free_cell(struct compare_cell *c)
{
	size_t i;

	for (i = 0; i < c->nruns; i++)
		call_release(&c->runs[i].call);
	free(c->runs);
}

static void
test_text(void)
{
	struct compare_run runs[5];
	struct compare_cell c = { .ref = "fake/echo", .runs = runs, .nruns = 1 };
	struct compare_stats s;
	struct buf b = BUF_INIT;
	char gname[] = "fast";
	struct group g = { .name = gname };

	memset(runs, 0, sizeof(runs));
	mkcall(&runs[0], "fake/echo", LLM_OK, "hello world", 312, 40, 12, 34,
		0.000123);
	report_text_cell(&b, &c);
	is_str(b.ptr,
		"== fake/echo | 312 ms | first token 40 ms | 12+34 tokens | "
		"109 tok/s | $0.000123 ==\n"
		"hello world\n",
		"a block: the header line, then the answer and a newline");
	buf_reset(&b);
	runs[0].call.tokens_estimated = true;
	runs[0].call.cost = -1;
	runs[0].call.output_tokens = 2;
	report_text_header(&b, &c);
	is_str(b.ptr,
		"== fake/echo | 312 ms | first token 40 ms | ~12+2 tokens | "
		"6.4 tok/s | $? ==\n",
		"estimated tokens, a slow rate with a decimal, no price");
	buf_reset(&b);
	runs[0].call.latency_ms = 0;
	runs[0].call.output_tokens = -1;
	report_text_header(&b, &c);
	ok(strstr(b.ptr, "~12+? tokens | ? tok/s |") != NULL,
		"unknown values are '?'");
	call_release(&runs[0].call);

	buf_reset(&b);
	mkcall(&runs[0], "fake/echo", LLM_OK, "", 5, 5, 4, 0, 0);
	report_text_cell(&b, &c);
	ok(strchr(b.ptr, '\n') == b.ptr + b.len - 1,
		"an empty answer: the header line alone");
	call_release(&runs[0].call);

	buf_reset(&b);
	mkcall(&runs[0], "fake/fail-500", LLM_ERR_UNAVAILABLE,
		"fake: HTTP 500: boom", 81, -1, -1, -1, -1);
	c.ref = "fake/fail-500";
	report_text_cell(&b, &c);
	is_str(b.ptr, "== fake/fail-500 | failed | 81 ms ==\n"
		      "fake: HTTP 500: boom\n",
		"a failure: 'failed' and the error as the body");
	call_release(&runs[0].call);

	buf_reset(&b);
	mkcall(&runs[0], "fake/hang", LLM_ERR_INTERRUPTED, "interrupted", 900,
		-1, -1, -1, -1);
	buf_adds(&runs[0].call.res.text, "one two ");
	c.ref = "fake/hang";
	report_text_cell(&b, &c);
	is_str(b.ptr, "== fake/hang | interrupted | 900 ms ==\none two \n",
		"interrupted: what arrived is the body");
	call_release(&runs[0].call);

	/* A group, and -n 5. */
	c.ref = "fast";
	c.group = &g;
	c.nruns = 5;
	mkcall(&runs[0], "fake/a", LLM_OK, "x", 100, 10, 5, 1, 0.001);
	mkcall(&runs[1], "fake/a", LLM_OK, "y", 300, 30, 5, 1, 0.001);
	mkcall(&runs[2], "fake/b", LLM_OK, "y", 200, 20, 5, 1, -1);
	mkcall(&runs[3], "fake/a", LLM_ERR_TEMP, "fake: timed out", 5000, -1,
		-1, -1, -1);
	mkcall(&runs[4], "fake/a", LLM_OK, "z", 400, 40, 5, 1, 0.001);
	compare_stats(&c, &s);
	ok(s.n == 5 && s.ok == 4 && s.failed == 1 && s.interrupted == 0,
		"stats: counts");
	ok(s.lat_p50 == 200 && s.lat_p95 == 400, "stats: latency p50, p95");
	ok(s.ttft_p50 == 20 && s.ttft_p95 == 40, "stats: first token");
	ok(s.distinct == 3, "stats: three distinct answers");
	ok(s.common == &runs[1].call, "stats: the most common answer");
	ok(s.first == &runs[3].call, "stats: the first failure");
	ok(s.input_tokens == 20 && s.output_tokens == 4, "stats: tokens");
	ok(s.cost > 0.00299 && s.cost < 0.00301, "stats: the known costs");
	buf_reset(&b);
	report_text_cell(&b, &c);
	is_str(b.ptr,
		"== fast (fake/a, fake/b) | 5 runs, 1 failed | p50 200 ms | "
		"p95 400 ms | first token p50 20 ms, p95 40 ms | 20+4 tokens | "
		"3 distinct of 4 | $0.003 ==\n"
		"y\n",
		"-n: percentiles, spread, the most common answer");
	for (c.nruns = 0; c.nruns < 5; c.nruns++)
		call_release(&runs[c.nruns].call);

	c.nruns = 2;
	mkcall(&runs[0], "fake/a", LLM_ERR_UNAVAILABLE, "down", 1, -1, -1, -1,
		-1);
	mkcall(&runs[1], "fake/b", LLM_ERR_INTERRUPTED, "interrupted", 1, -1,
		-1, -1, -1);
	buf_reset(&b);
	report_text_cell(&b, &c);
	is_str(b.ptr, "== fast (fake/a, fake/b) | 2 runs, 1 failed, "
		      "1 interrupted ==\ndown\n",
		"-n with no answer: the first failure");
	call_release(&runs[0].call);
	call_release(&runs[1].call);

	buf_reset(&b);
	report_text_heading(&b, 0, "short");
	report_text_heading(&b, 11,
		"\xC3\xA9" "123456789012345678901234567890123456789012345678"
		"901234567890");
	is_str(b.ptr,
		"# prompt 1: short\n"
		"# prompt 12: \xC3\xA9"
		"1234567890123456789012345678901234567890123456789012345678"
		"9...\n",
		"headings: the first 60 characters");
	buf_release(&b);
}

/* A result of one prompt, models a and b, and a judge. */
static void
test_report(void)
{
	struct compare_prompt pr;
	struct compare_cell cells[2];
	struct compare_result r;
	struct buf b = BUF_INIT;
	size_t cands[2] = { 0, 1 }, o1[2] = { 0, 1 }, o2[2] = { 1, 0 };
	size_t rk[2] = { 1, 0 }, best[2] = { 1, 0 };
	double avg[2] = { 1.5, 1.5 };
	int i;

	memset(&pr, 0, sizeof(pr));
	memset(&r, 0, sizeof(r));
	memset(cells, 0, sizeof(cells));
	for (i = 0; i < 2; i++) {
		cells[i].nruns = 1;
		cells[i].runs = calloc(1, sizeof(struct compare_run));
	}
	cells[0].ref = "fake/a";
	cells[1].ref = "fake/b";
	mkcall(&cells[0].runs[0], "fake/a", LLM_OK, "one, \"1\"", 10, 5, 4, 2,
		0.0000115);
	mkcall(&cells[1].runs[0], "fake/b", LLM_ERR_UNAVAILABLE,
		"fake: HTTP 500: x", 20, -1, -1, -1, -1);
	cells[0].runs[0].id = 7;
	pr.text = (char *)"q?";
	pr.cells = cells;
	r.prompts = &pr;
	r.nprompts = 1;
	r.ncells = 2;
	r.repeat = 1;
	r.group_id = "G1";

	report_write(&b, &r, COMPARE_CSV);
	is_str(b.ptr,
		"prompt_index,prompt,run,ref,model,provider,provider_model,"
		"status,latency_ms,ttft_ms,input_tokens,output_tokens,"
		"tokens_estimated,cost_usd,finish_reason,response,error\r\n"
		"1,q?,1,fake/a,fake/a,fake,echo,ok,10,5,4,2,0,0.0000115,stop,"
		"\"one, \"\"1\"\"\",\r\n"
		"1,q?,1,fake/b,fake/b,fake,echo,error,20,,,,0,,error,,"
		"fake: HTTP 500: x\r\n",
		"csv: a header, one row per run, RFC 4180 quoting");

	buf_reset(&b);
	report_write(&b, &r, COMPARE_JSONL);
	is_str(b.ptr,
		"{\"type\":\"answer\",\"group_id\":\"G1\",\"prompt_index\":1,"
		"\"prompt\":\"q?\",\"run\":1,\"ref\":\"fake/a\",\"group\":null,"
		"\"response\":\"one, \\\"1\\\"\",\"model\":\"fake/a\","
		"\"provider\":\"fake\",\"provider_model\":\"echo\","
		"\"status\":\"ok\",\"usage\":{\"input_tokens\":4,"
		"\"output_tokens\":2,\"cached_tokens\":null,\"estimated\":false},"
		"\"latency_ms\":10,\"ttft_ms\":5,\"cost_usd\":1.15e-05,"
		"\"finish_reason\":\"stop\",\"finish_reason_raw\":null,"
		"\"response_id\":null,\"request_id\":null,\"attempts\":1,"
		"\"cached\":false,\"route\":null,\"id\":7}\n"
		"{\"type\":\"answer\",\"group_id\":\"G1\",\"prompt_index\":1,"
		"\"prompt\":\"q?\",\"run\":1,\"ref\":\"fake/b\",\"group\":null,"
		"\"response\":\"\",\"model\":\"fake/b\",\"provider\":\"fake\","
		"\"provider_model\":\"echo\",\"status\":\"error\","
		"\"error\":\"fake: HTTP 500: x\",\"usage\":{\"input_tokens\":null,"
		"\"output_tokens\":null,\"cached_tokens\":null,"
		"\"estimated\":false},\"latency_ms\":20,\"ttft_ms\":null,"
		"\"cost_usd\":null,\"finish_reason\":\"error\","
		"\"finish_reason_raw\":null,\"response_id\":null,"
		"\"request_id\":null,\"attempts\":1,\"cached\":false,"
		"\"route\":null,\"id\":null}\n",
		"jsonl: one object per run, the run's fields and where it "
		"belongs");

	buf_reset(&b);
	report_write(&b, &r, COMPARE_MARKDOWN);
	is_str(b.ptr,
		"| model | status | latency | first token | tokens | tok/s | "
		"cost |\n"
		"| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
		"| fake/a | ok | 10 ms | 5 ms | 4+2 | 200 | $0.0000115 |\n"
		"| fake/b | failed | 20 ms | ? ms | ?+? | ? | $? |\n"
		"\n## fake/a\n\none, \"1\"\n"
		"\n## fake/b\n\n**failed:** fake: HTTP 500: x\n",
		"markdown: a summary table, then a section per model");

	/* The judge: b could not be judged, so pretend both answered. */
	call_release(&cells[1].runs[0].call);
	mkcall(&cells[1].runs[0], "fake/b", LLM_OK, "two", 20, 10, 4, 1, -1);
	r.judge = "fake/j";
	pr.judge.asked = pr.judge.ran = pr.judge.done = true;
	pr.judge.cands = cands;
	pr.judge.ncands = 2;
	pr.judge.v[0].order = o1;
	pr.judge.v[1].order = o2;
	pr.judge.v[0].ranking = rk;
	pr.judge.avg = avg;
	pr.judge.best = best;
	mkcall(&pr.judge.v[0].run, "fake/j", LLM_OK, "RANKING: B > A", 3, 3, 1,
		1, -1);
	mkcall(&pr.judge.v[1].run, "fake/j", LLM_OK, "I like A\nmore", 3, 3, 1,
		1, -1);
	buf_reset(&b);
	report_text_judge(&b, &r, &pr);
	is_str(b.ptr,
		"== judge fake/j ==\n"
		"as given: fake/b > fake/a\n"
		"reversed: no ranking found in the verdict:\n"
		"  I like A\n"
		"  more\n"
		"mean rank: fake/b 1.5, fake/a 1.5\n",
		"the judge's block: both orders, the verdict without a "
		"ranking, the mean rank");
	buf_reset(&b);
	report_write(&b, &r, COMPARE_TEXT);
	ok(strstr(b.ptr, "one, \"1\"\n\n== fake/b | 20 ms") != NULL &&
			strstr(b.ptr, "two\n\n== judge fake/j ==\n") != NULL,
		"text: blocks and the judge's, a blank line between");
	buf_reset(&b);
	report_write(&b, &r, COMPARE_CSV);
	ok(strstr(b.ptr, ",judge_rank_1,judge_rank_2,judge_mean_rank\r\n") &&
			strstr(b.ptr, ",one,,2,,1.5\r\n") == NULL &&
			strstr(b.ptr, "\"one, \"\"1\"\"\",,2,,1.5\r\n") &&
			strstr(b.ptr, ",two,,1,,1.5\r\n"),
		"csv: the judge's ranks of each model");
	buf_reset(&b);
	report_write(&b, &r, COMPARE_JSON);
	ok(strstr(b.ptr, "\"judge\":{\"model\":\"fake/j\",\"status\":"
			 "\"partial\",\"verdicts\":[{\"order_name\":"
			 "\"as given\",\"order\":[\"fake/a\",\"fake/b\"],"
			 "\"ranking\":[\"fake/b\",\"fake/a\"],") != NULL,
		"json: the judge's object");
	ok(strstr(b.ptr, "\"ranking\":[{\"model\":\"fake/b\",\"mean_rank\":1.5,"
			 "\"ranks\":[1,null]},{\"model\":\"fake/a\","
			 "\"mean_rank\":1.5,\"ranks\":[2,null]}]}}") != NULL,
		"json: the judge's ranking");
	ok(strncmp(b.ptr, "{\"group_id\":\"G1\",\"system\":null,\"prompt\":"
			  "\"q?\",\"results\":[{\"ref\":\"fake/a\"",
		   70) == 0,
		"json: one object with the prompt and the results");

	pr.judge.ran = false;
	pr.judge.why = "fewer than two answers to judge";
	buf_reset(&b);
	report_text_judge(&b, &r, &pr);
	is_str(b.ptr, "== judge fake/j ==\n"
		      "not run: fewer than two answers to judge\n",
		"a judge that was not asked");

	for (i = 0; i < 2; i++)
		free_cell(&cells[i]);
	call_release(&pr.judge.v[0].run.call);
	call_release(&pr.judge.v[1].run.call);
	buf_release(&b);
}

int
main(void)
{
	test_options();
	test_prompts();
	test_percentile();
	test_ranking();
	test_judge_prompt();
	test_cost();
	test_text();
	test_report();
	return tap_done();
}
