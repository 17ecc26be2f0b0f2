/*
 * check.h: the unit tests' only harness. Each CHECK prints one line
 * "PASS: file:line what" or "FAIL: file:line what"; tests/run.sh counts them.
 * check_done() is main's return value: 1 if anything failed.
 */
#ifndef RECFS_CHECK_H
#define RECFS_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, what)                                                     \
	do {                                                                  \
		int check_ok_ = !!(cond);                                     \
		printf("%s: %s:%d %s\n", check_ok_ ? "PASS" : "FAIL",         \
		       __FILE__, __LINE__, (what));                           \
		if (!check_ok_)                                               \
			check_failures++;                                     \
	} while (0)

static inline int check_done(void)
{
	return check_failures ? 1 : 0;
}

#endif
