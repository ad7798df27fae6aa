/*
 * sig.h - SIGINT and SIGTERM as data, and SIGPIPE ignored.
 *
 * sig_install() makes SIGINT and SIGTERM set a flag and write a byte to
 * a self-pipe (so that a poll() wakes at once) instead of killing the
 * process: whatever has arrived can then be printed and logged before
 * exiting with 130 or 143.  SIGPIPE is ignored for the whole process, so
 * a closed stdout shows up as EPIPE from write.
 */
#ifndef LLM_SIG_H
#define LLM_SIG_H

void sig_install(void);
/* The read end of the self-pipe, or -1 before sig_install(). */
int sig_fd(void);
/* The signal caught (SIGINT or SIGTERM), or 0. */
int sig_caught(void);
/* In a child after fork(): a self-pipe of its own, so that a signal to
 * one process does not wake the other. */
void sig_forked(void);

#endif
