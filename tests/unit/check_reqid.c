/*
 * check_reqid.c - unit tests for request ids (reqid.c).
 *
 * A generated id is decoded back here, with an alphabet of the test's
 * own, into the fields reqid.h describes: the worker's start time, pid
 * and random bits, then the counter. Ids of one generator are distinct
 * and sort in the order they were made; two processes make different
 * fixed parts; a client's id is kept exactly when it is 1 to 128
 * visible ASCII characters.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqid.h"

#define ALPHABET	"0123456789abcdefghjkmnpqrstvwxyz"

/* The value of n base32 characters at s, most significant first. */
static uint64_t
decode(const char *s, int n)
{
	const char	*p;
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < n; i++) {
		/* No ck_assert per character: the counter test is long. */
		if (s[i] == '\0' || (p = strchr(ALPHABET, s[i])) == NULL)
			ck_abort_msg("%c in %s", s[i], s);
		v = v << 5 | (uint64_t)(p - ALPHABET);
	}
	return v;
}

struct parts {
	uint64_t	 time;		/* 24 bits */
	uint64_t	 pid;		/* 22 bits */
	uint64_t	 rnd;		/* 34 bits */
	uint64_t	 counter;	/* 50 bits */
};

/* Split id into the fields of reqid.h. */
static struct parts
split(const char *id)
{
	struct parts	 f;
	uint64_t	 hi, lo;

	ck_assert_uint_eq(strlen(id), REQID_LEN);
	/* 80 bits: the first 8 characters are 40, the next 8 are 40. */
	hi = decode(id, 8);
	lo = decode(id + 8, 8);
	f.time = hi >> 16;
	f.pid = (hi & 0xffff) << 6 | lo >> 34;
	f.rnd = lo & ((1ULL << 34) - 1);
	f.counter = decode(id + 16, 10);
	return f;
}

START_TEST(fields)
{
	struct reqid_gen	 g;
	struct parts		 f;
	char			 id[REQID_LEN + 1];

	reqid_gen_init_parts(&g, 0xabcdefULL, 4194303, 0x3ffffffffULL);
	reqid_next(&g, id);
	f = split(id);
	ck_assert_uint_eq(f.time, 0xabcdef);
	ck_assert_uint_eq(f.pid, 4194303);
	ck_assert_uint_eq(f.rnd, 0x3ffffffffULL);
	ck_assert_uint_eq(f.counter, 0);

	/* Only the low bits of each part count. */
	reqid_gen_init_parts(&g, 0x7f000001ULL, (pid_t)(1 << 22 | 5),
	    0xfc00000001ULL);
	reqid_next(&g, id);
	f = split(id);
	ck_assert_uint_eq(f.time, 0x000001);
	ck_assert_uint_eq(f.pid, 5);
	ck_assert_uint_eq(f.rnd, 1);

	/* All zero, then all ones, character by character. */
	reqid_gen_init_parts(&g, 0, 0, 0);
	reqid_next(&g, id);
	ck_assert_str_eq(id, "00000000000000000000000000");
	reqid_gen_init_parts(&g, ~0ULL, (pid_t)0x3fffff, ~0ULL);
	g.next = (1ULL << 50) - 1;
	reqid_next(&g, id);
	ck_assert_str_eq(id, "zzzzzzzzzzzzzzzzzzzzzzzzzz");
}
END_TEST

/* The counter: distinct ids in the order made, the prefix unchanged. */
START_TEST(counter)
{
	struct reqid_gen	 g;
	char			 prev[REQID_LEN + 1], id[REQID_LEN + 1];
	int			 i;

	reqid_gen_init_parts(&g, 123456, 4242, 987654321);
	reqid_next(&g, prev);
	for (i = 1; i < 100000; i++) {
		reqid_next(&g, id);
		if (memcmp(id, prev, 16) != 0 || strcmp(prev, id) >= 0 ||
		    decode(id + 16, 10) != (uint64_t)i)
			ck_abort_msg("%d: %s then %s", i, prev, id);
		memcpy(prev, id, sizeof(id));
	}
	ck_assert_str_eq(id + 16, "00000031mz");	/* 99999 */
}
END_TEST

/*
 * The real thing: this process's pid and the time now, and a child's
 * fixed part differs from its parent's (other pid, other random bits).
 */
START_TEST(processes)
{
	struct reqid_gen	 g;
	struct parts		 f;
	char			 id[REQID_LEN + 1], child[REQID_LEN + 1];
	int			 p[2], status;
	uint64_t		 now = (uint64_t)time(NULL);
	pid_t			 pid;

	reqid_gen_init(&g);
	reqid_next(&g, id);
	f = split(id);
	ck_assert_uint_eq(f.pid, (uint64_t)getpid() & 0x3fffff);
	ck_assert_msg(((now - f.time) & 0xffffff) <= 2, "time %llx, now %llx",
	    (unsigned long long)f.time, (unsigned long long)now);
	ck_assert_uint_eq(f.counter, 0);

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		reqid_gen_init(&g);
		reqid_next(&g, child);
		_exit(write(p[1], child, REQID_LEN) == REQID_LEN ? 0 : 1);
	}
	ck_assert_int_eq(read(p[0], child, REQID_LEN), REQID_LEN);
	child[REQID_LEN] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(split(child).pid, (uint64_t)pid & 0x3fffff);
	ck_assert_msg(memcmp(id, child, 16) != 0, "parent %s, child %s", id,
	    child);
	(void)close(p[0]);
	(void)close(p[1]);
}
END_TEST

START_TEST(client_ids)
{
	char	 buf[REQID_MAX + 1], s[REQID_MAX + 2], all[95];
	int	 i;

	/* Every visible ASCII character, 1 and 128 long. */
	for (i = 0; i < 94; i++)
		all[i] = (char)(0x21 + i);
	all[94] = '\0';
	ck_assert_int_eq(reqid_copy(buf, all), 94);
	ck_assert_str_eq(buf, all);
	ck_assert_int_eq(reqid_copy(buf, "x"), 1);
	ck_assert_str_eq(buf, "x");
	memset(s, 'a', REQID_MAX);
	s[REQID_MAX] = '\0';
	ck_assert_int_eq(reqid_copy(buf, s), REQID_MAX);
	ck_assert_str_eq(buf, s);

	/* Refused, buf untouched. */
	strcpy(buf, "kept");
	s[REQID_MAX] = 'a';
	s[REQID_MAX + 1] = '\0';
	ck_assert_int_eq(reqid_copy(buf, s), -1);	/* 129 */
	ck_assert_int_eq(reqid_copy(buf, ""), -1);
	ck_assert_int_eq(reqid_copy(buf, "a b"), -1);
	ck_assert_int_eq(reqid_copy(buf, "a\tb"), -1);
	ck_assert_int_eq(reqid_copy(buf, "a\x7f"), -1);
	ck_assert_int_eq(reqid_copy(buf, "\x1f"), -1);
	ck_assert_int_eq(reqid_copy(buf, "caf\xc3\xa9"), -1);
	ck_assert_int_eq(reqid_copy(buf, "\xff"), -1);
	ck_assert_str_eq(buf, "kept");
}
END_TEST

static Suite *
reqid_suite(void)
{
	Suite	*s = suite_create("reqid");
	TCase	*tc = tcase_create("ids");

	tcase_add_test(tc, fields);
	tcase_add_test(tc, counter);
	tcase_add_test(tc, processes);
	tcase_add_test(tc, client_ids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(reqid_suite());
}
