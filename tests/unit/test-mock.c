/* test-mock.c - unit tests of lib/mock: offline answers, word by word,
 * delays, usage, signals; and call_run()'s path for local providers. */
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
static struct model mod = { .ref = s_ref, .id = s_echo };

struct sink {
	struct buf text;
	struct buf pieces; /* each piece, then '|' */
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

static int
refuse(void *ud, const char *p, size_t n)
{
	(void)ud;
	(void)p;
	(void)n;
	return LLM_ERR_PIPE;
}

/* Run the mock; its result in res, what on_text saw in s. */
static enum llm_status
run(struct llm_request *rq, struct llm_result *res, struct sink *s,
	struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find("mock");
	struct provider_stream ps;
	enum llm_status st;

	buf_reset(&s->text);
	buf_reset(&s->pieces);
	s->calls = 0;
	buf_reset(err);
	llm_result_init(res);
	provider_stream_init(&ps, ops, res, on_text, s);
	st = ops->local(rq, &ps, err);
	provider_stream_release(&ps);
	return st;
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
	struct sink s = { BUF_INIT, BUF_INIT, 0 };
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct call c;
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

	/* time */
	t0 = call_now_ms();
	run(&rq, &res, &s, &err);
	dt = call_now_ms() - t0;
	ok(dt < 100, "no delay by default");
	llm_result_release(&res);
	mod.id = s_echo_slow;
	t0 = call_now_ms();
	is_int(run(&rq, &res, &s, &err), LLM_OK, "+slow");
	dt = call_now_ms() - t0;
	ok(dt >= 150 && dt < 1000, "50 ms between 4 pieces");
	is_str(res.text.ptr, "  hello  big\n world ", "+slow still echoes");
	llm_result_release(&res);
	mod.id = s_echo;
	prov.delay_ms = 120;
	t0 = call_now_ms();
	run(&rq, &res, &s, &err);
	dt = call_now_ms() - t0;
	ok(dt >= 120 && dt < 1000, "delay_ms before the first byte");
	llm_result_release(&res);

	/* a reader that went away stops it */
	prov.delay_ms = 0;
	{
		struct provider_stream ps;

		llm_result_init(&res);
		provider_stream_init(&ps, ops, &res, refuse, NULL);
		is_int(ops->local(&rq, &ps, &err), LLM_ERR_PIPE,
			"the callback's status ends the answer");
		ok(res.finish == NULL, "without a finish reason");
		provider_stream_release(&ps);
		llm_result_release(&res);
	}

	/* through call_run */
	call_init(&c);
	c.provider = &prov;
	c.model = &mod;
	c.rq.messages = msgs;
	c.rq.nmessages = 3;
	c.rq.stream = true;
	c.on_text = on_text;
	c.ud = &s;
	buf_reset(&s.text);
	is_int(call_run(&c), LLM_OK, "call_run with a mock provider");
	is_str(s.text.ptr, "  hello  big\n world ", "the answer streamed");
	is_int(c.attempts, 1, "one attempt");
	is_int(c.http_status, 0, "no HTTP");
	is_int(c.input_tokens, 7, "usage: input");
	is_int(c.output_tokens, 3, "usage: output");
	ok(!c.tokens_estimated, "not estimated");
	ok(c.ttft_ms >= 0 && c.ttft_ms <= c.latency_ms, "ttft and latency");
	is_str(c.res.finish, "stop", "finish");
	call_release(&c);

	call_init(&c);
	c.provider = &prov;
	c.model = &mod;
	is_int(call_dry_run(&c, &out), LLM_OK, "a dry run");
	is_str(out.ptr, "# mock (type mock) answers offline: nothing is sent\n",
		"says nothing is sent");
	call_release(&c);

	/* SIGINT ends the wait at once */
	sig_install();
	prov.delay_ms = 5000;
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
		kill(getppid(), SIGINT);
		_exit(0);
	}
	t0 = call_now_ms();
	is_int(run(&rq, &res, &s, &err), LLM_ERR_INTERRUPTED,
		"SIGINT during delay_ms: interrupted");
	dt = call_now_ms() - t0;
	ok(dt < 2000, "at once");
	is_str(err.ptr, "interrupted", "its message");
	is_str(res.text.ptr, "", "nothing answered");
	llm_result_release(&res);
	waitpid(pid, NULL, 0);

	buf_release(&s.text);
	buf_release(&s.pieces);
	buf_release(&err);
	buf_release(&out);
	return tap_done();
}
