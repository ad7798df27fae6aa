/* test-mock.c - unit tests of lib/mock: offline answers, word by word,
 * delays, usage; and call_run()'s path for local providers: several at
 * once, time limits, retries, signals. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "provider.h"
#include "sig.h"
#include "tap.h"

static char s_p[] = "mock", s_type[] = "mock", s_echo[] = "echo",
	    s_echo_slow[] = "echo+slow", s_other[] = "demo",
	    s_reply[] = "Fixed  answer.", s_ref[] = "mock/echo";
static struct provider prov = { .name = s_p, .type = s_type,
	.retries = -1 };
static struct model mod = { .ref = s_ref, .id = s_echo },
		    mod_echo = { .ref = s_ref, .id = s_echo };
static char s_late[] = "late";
static struct provider late = { .name = s_late, .type = s_type,
	.retries = -1 };

struct sink {
	struct buf text;
	struct buf pieces; /* each piece, then '|' */
	struct buf waits;  /* the waits asked for, ',' between them */
	int calls;
};

static int
on_text(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->text, p, n);
	buf_add(&s->pieces, p, n);
	buf_addch(&s->pieces, '|');
	s->calls++;
	return 0;
}

/* on_text that keeps the loop busy for 400 ms first. */
static int
busy_text(void *ud, const char *p, size_t n)
{
	struct timespec ts = { 0, 400000000 };

	nanosleep(&ts, NULL);
	return on_text(ud, p, n);
}

static int
refuse(void *ud, const char *p, size_t n)
{
	(void)ud;
	(void)p;
	(void)n;
	return LLM_ERR_PIPE;
}

/* Run the mock as an event loop would, without waiting: its result in
 * res, what on_text saw and the waits it asked for in s. */
static enum llm_status
run_with(struct llm_request *rq, struct llm_result *res, struct sink *s,
	llm_text_fn fn, struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find("mock");
	struct provider_local lp = { .text = BUF_INIT };
	struct provider_stream ps;
	enum llm_status st;

	buf_reset(&s->text);
	buf_reset(&s->pieces);
	buf_reset(&s->waits);
	s->calls = 0;
	buf_reset(err);
	llm_result_init(res);
	provider_stream_init(&ps, ops, res, fn, s);
	st = ops->local(rq, &lp, res, err);
	buf_addf(&s->waits, "%ld", lp.wait_ms);
	while (st == LLM_OK && !lp.ended) {
		st = ops->local_next(rq, &lp, &ps, err);
		if (!lp.ended)
			buf_addf(&s->waits, ",%ld", lp.wait_ms);
	}
	provider_stream_release(&ps);
	buf_release(&lp.text);
	return st;
}

static enum llm_status
run(struct llm_request *rq, struct llm_result *res, struct sink *s,
	struct buf *err)
{
	return run_with(rq, res, s, on_text, err);
}

/* A call of p's model mod with n messages, streamed into s. */
static void
setup(struct call *c, struct provider *p, const struct llm_message *msgs,
	size_t n, struct sink *s)
{
	call_init(c);
	c->provider = p;
	c->model = &mod;
	c->rq.messages = msgs;
	c->rq.nmessages = n;
	c->rq.stream = true;
	c->on_text = on_text;
	c->ud = s;
	buf_reset(&s->text);
	buf_reset(&s->pieces);
	s->calls = 0;
}

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("mock");
	struct llm_message msgs[] = { { "user", "first question" },
		{ "assistant", "an answer" },
		{ "user", "  hello  big\n world " } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "", .system = "Be terse.", .messages = msgs,
		.nmessages = 3, .stream = true };
	struct llm_result res;
	struct llm_message words[] = { { "user", "w1 w2 w3 w4 w5 w6 w7 w8 w9 "
		"w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20" } },
			   tail_msg[] = { { "user", "LATE" } };
	struct sink s = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct call c, c2, *cs[2];
	double t0, dt;
	pid_t pid;

	ok(ops != NULL, "the mock type exists");
	ok(ops->local != NULL && ops->build == NULL && ops->feed == NULL &&
			ops->list_build == NULL,
		"it answers locally and has no HTTP operations");

	is_int(run(&rq, &res, &s, &err), LLM_OK, "echo");
	is_str(res.text.ptr, "  hello  big\n world ", "the last user message");
	is_str(s.pieces.ptr, "  |hello  |big\n |world |",
		"streamed word by word, whitespace after each word");
	is_int(res.usage.input, 2 + 2 + 2 + 3, "input: words of all messages "
					       "and the system prompt");
	is_int(res.usage.output, 3, "output: words of the answer");
	ok(res.usage.cached < 0, "no cache count");
	is_str(res.finish, "stop", "finish stop");
	is_str(res.finish_raw, "stop", "raw stop");
	ok(res.done, "done");
	llm_result_release(&res);

	rq.stream = false;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "echo, not streamed");
	is_int(s.calls, 1, "one piece");
	is_str(s.text.ptr, "  hello  big\n world ", "the same bytes");
	llm_result_release(&res);
	rq.stream = true;

	rq.nmessages = 2;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "echo of the last user turn");
	is_str(res.text.ptr, "first question", "even with an answer after it");
	llm_result_release(&res);
	rq.nmessages = 0;
	rq.system = NULL;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "echo of nothing");
	is_str(res.text.ptr, "", "is empty");
	is_int(s.calls, 0, "no text calls");
	is_int(res.usage.input, 0, "no input");
	is_int(res.usage.output, 0, "no output");
	llm_result_release(&res);
	rq.nmessages = 3;

	mod.id = s_other;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "another model");
	is_str(res.text.ptr, "This is a mock reply from demo.",
		"the default answer names it");
	is_int(res.usage.output, 7, "its words");
	llm_result_release(&res);
	prov.reply = s_reply;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "a provider with reply");
	is_str(res.text.ptr, "Fixed  answer.", "answers it");
	is_str(s.pieces.ptr, "Fixed  |answer.|", "word by word");
	llm_result_release(&res);
	mod.id = s_echo;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "echo beats reply");
	is_str(res.text.ptr, "  hello  big\n world ", "still echoes");
	llm_result_release(&res);

	/* when the pieces are due */
	is_int(run(&rq, &res, &s, &err), LLM_OK, "no delay");
	is_str(s.waits.ptr, "0,0,0,0", "no waits by default");
	llm_result_release(&res);
	mod.id = s_echo_slow;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "+slow");
	is_str(s.waits.ptr, "0,50,50,50", "50 ms between 4 pieces");
	is_str(res.text.ptr, "  hello  big\n world ", "+slow still echoes");
	llm_result_release(&res);
	rq.stream = false;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "+slow, not streamed");
	is_str(s.waits.ptr, "0", "all at once");
	is_int(s.calls, 1, "in one piece");
	llm_result_release(&res);
	rq.stream = true;
	mod.id = s_echo;
	prov.delay_ms = 120;
	is_int(run(&rq, &res, &s, &err), LLM_OK, "delay_ms");
	is_str(s.waits.ptr, "120,0,0,0", "passes before the first piece");
	llm_result_release(&res);
	prov.delay_ms = 0;

	/* a reader that went away stops it */
	is_int(run_with(&rq, &res, &s, refuse, &err), LLM_ERR_PIPE,
		"the callback's status ends the answer");
	ok(res.finish == NULL && !res.done, "without a finish reason");
	is_str(res.text.ptr, "  ", "after the first piece");
	is_int(res.usage.output, 0, "output: words given");
	llm_result_release(&res);

	/* through call_run */
	setup(&c, &prov, msgs, 3, &s);
	is_int(call_run(&c), LLM_OK, "call_run with a mock provider");
	is_str(s.text.ptr, "  hello  big\n world ", "the answer streamed");
	is_str(s.pieces.ptr, "  |hello  |big\n |world |", "word by word");
	is_int(c.attempts, 1, "one attempt");
	is_int(c.http_status, 0, "no HTTP");
	is_int(c.input_tokens, 7, "usage: input");
	is_int(c.output_tokens, 3, "usage: output");
	ok(!c.tokens_estimated, "not estimated");
	ok(c.ttft_ms >= 0 && c.ttft_ms <= c.latency_ms, "ttft and latency");
	is_str(c.res.finish, "stop", "finish");
	call_release(&c);

	setup(&c, &prov, msgs, 3, &s);
	c.rq.stream = false;
	is_int(call_run(&c), LLM_OK, "not streamed");
	is_str(s.pieces.ptr, "  hello  big\n world |", "the answer in one piece");
	is_str(c.res.finish, "stop", "finish");
	call_release(&c);

	setup(&c, &late, msgs, 3, &s);
	late.delay_ms = 150;
	is_int(call_run(&c), LLM_OK, "delay_ms through call_run");
	ok(c.ttft_ms >= 150 && c.latency_ms >= 150, "before the first byte");
	call_release(&c);

	/* several at once: the late answer lands among the slow words */
	setup(&c, &prov, words, 1, &s);
	mod.id = s_echo_slow;
	setup(&c2, &late, tail_msg, 1, &s);
	c2.model = &mod_echo;
	late.delay_ms = 300;
	cs[0] = &c;
	cs[1] = &c2;
	call_run_many(cs, 2);
	is_int(c.st, LLM_OK, "the slow one is ok");
	is_int(c2.st, LLM_OK, "the late one is ok");
	is_int((long)s.text.len, (long)strlen(words[0].content) + 4,
		"all of both");
	{
		const char *p = strstr(s.pieces.ptr, "|LATE|");

		/* (one after the other: "LATE|w1 |..." or "...w20|LATE|") */
		ok(p && strcmp(p, "|LATE|") != 0,
			"between two words of the other");
	}
	ok(c2.latency_ms < c.latency_ms, "and ends first");
	call_release(&c);
	call_release(&c2);
	mod.id = s_echo;

	/* time limits, as for HTTP */
	late.delay_ms = 1000;
	setup(&c, &late, msgs, 3, &s);
	c.first_byte_timeout = 0.2;
	is_int(call_run(&c), LLM_ERR_TEMP, "no first byte in time");
	is_str(c.err.ptr, "late: no answer within 0.2 s", "its message");
	is_str(c.res.text.ptr, "", "before the answer");
	is_str(c.res.finish, "error", "finish error");
	is_int(c.attempts, 1, "one attempt");
	call_release(&c);

	setup(&c, &late, msgs, 3, &s);
	c.first_byte_timeout = 0.2;
	c.retries = 1;
	is_int(call_run(&c), LLM_ERR_TEMP, "retried, and silent again");
	is_str(c.err.ptr, "late: no answer within 0.2 s (after 2 attempts)",
		"its message");
	is_int(c.attempts, 2, "two attempts");
	call_release(&c);

	setup(&c, &late, msgs, 3, &s);
	c.timeout = 0.3;
	is_int(call_run(&c), LLM_ERR_TEMP, "the whole call's limit");
	is_str(c.err.ptr, "late: timed out after 0.3 s", "its message");
	call_release(&c);

	setup(&c, &prov, words, 1, &s);
	mod.id = s_echo_slow;
	c.idle_timeout = 0.02;
	c.retries = 2;
	is_int(call_run(&c), LLM_ERR_TEMP, "a stalled answer");
	is_str(c.err.ptr, "mock: the answer stalled for 0.02 s", "its message");
	is_str(s.text.ptr, "w1 ", "what came before the stall was delivered");
	is_str(c.res.text.ptr, "w1 ", "and kept");
	is_int(c.attempts, 1, "and not retried");
	call_release(&c);
	mod.id = s_echo;

	/* a loop that comes late judges a piece by when it was due */
	late.delay_ms = 300;
	setup(&c, &late, msgs, 3, &s);
	c.first_byte_timeout = 0.2;
	setup(&c2, &prov, tail_msg, 1, &s);
	c2.on_text = busy_text;
	cs[0] = &c;
	cs[1] = &c2;
	call_run_many(cs, 2);
	is_int(c.st, LLM_ERR_TEMP, "due after the first-byte limit: timed out");
	is_str(c.res.text.ptr, "", "though the loop came only after it was due");
	is_int(c2.st, LLM_OK, "the busy one is ok");
	call_release(&c);
	call_release(&c2);
	late.delay_ms = 100;
	setup(&c, &late, msgs, 3, &s);
	c.first_byte_timeout = 0.2;
	setup(&c2, &prov, tail_msg, 1, &s);
	c2.on_text = busy_text;
	call_run_many(cs, 2);
	is_int(c.st, LLM_OK, "due before the limit: given");
	is_str(c.res.text.ptr, "  hello  big\n world ", "though the loop came late");
	call_release(&c);
	call_release(&c2);

	call_init(&c);
	c.provider = &prov;
	c.model = &mod;
	is_int(call_dry_run(&c, &out), LLM_OK, "a dry run");
	is_str(out.ptr, "# mock (type mock) answers offline: nothing is sent\n",
		"says nothing is sent");
	call_release(&c);

	/* SIGINT ends the wait at once */
	sig_install();
	late.delay_ms = 5000;
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
		kill(getppid(), SIGINT);
		_exit(0);
	}
	setup(&c, &late, msgs, 3, &s);
	t0 = call_now_ms();
	is_int(call_run(&c), LLM_ERR_INTERRUPTED,
		"SIGINT during delay_ms: interrupted");
	dt = call_now_ms() - t0;
	ok(dt < 2000, "at once");
	is_str(c.err.ptr, "interrupted", "its message");
	is_str(c.res.text.ptr, "", "nothing answered");
	is_int(c.input_tokens, 7, "usage: input");
	is_int(c.output_tokens, 0, "usage: no output");
	call_release(&c);
	waitpid(pid, NULL, 0);

	buf_release(&s.text);
	buf_release(&s.pieces);
	buf_release(&s.waits);
	buf_release(&err);
	buf_release(&out);
	return tap_done();
}
