/*
 * check_ranges.c - unit tests for handlers/ranges.c, the Range parser.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/ranges.h"

/* "a-b,c-d" of the parsed ranges (last bytes inclusive), for comparing. */
static const char *
show(const struct range *r, size_t n)
{
	static char	 buf[1024];
	size_t		 i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld-%lld",
		    i ? "," : "", (long long)r[i].start,
		    (long long)(r[i].start + r[i].len - 1));
	return buf;
}

struct known {
	const char		*header;
	off_t			 size;
	enum ranges_result	 want;
	const char		*ranges;	/* RANGES_OK: show() */
};

static const struct known known[] = {
	{ "bytes=0-99", 1000, RANGES_OK, "0-99" },
	{ "bytes=0-0", 1000, RANGES_OK, "0-0" },
	{ "bytes=999-999", 1000, RANGES_OK, "999-999" },
	{ "bytes=500-", 1000, RANGES_OK, "500-999" },
	{ "bytes=-200", 1000, RANGES_OK, "800-999" },
	{ "bytes=-1000", 1000, RANGES_OK, "0-999" },
	{ "bytes=-5000", 1000, RANGES_OK, "0-999" },
	{ "bytes=0-5000", 1000, RANGES_OK, "0-999" },
	{ "BYTES=1-2", 1000, RANGES_OK, "1-2" },
	{ "Bytes=1-2", 1000, RANGES_OK, "1-2" },
	/* Several: sorted, overlapping and adjacent ones merged. */
	{ "bytes=0-9,20-29", 1000, RANGES_OK, "0-9,20-29" },
	{ "bytes=20-29,0-9", 1000, RANGES_OK, "0-9,20-29" },
	{ "bytes=0-9,10-19", 1000, RANGES_OK, "0-19" },
	{ "bytes=0-9,5-19", 1000, RANGES_OK, "0-19" },
	{ "bytes=0-9,0-9,0-9", 1000, RANGES_OK, "0-9" },
	{ "bytes=0-9,20-29,5-25", 1000, RANGES_OK, "0-29" },
	{ "bytes=0-9,20-29,40-49,8-42", 1000, RANGES_OK, "0-49" },
	{ "bytes=40-49,0-9,20-29,12-13", 1000, RANGES_OK,
	    "0-9,12-13,20-29,40-49" },
	{ "bytes=0-0,-1", 1000, RANGES_OK, "0-0,999-999" },
	{ "bytes=500-,0-", 1000, RANGES_OK, "0-999" },
	/* An unsatisfiable spec among satisfiable ones is dropped. */
	{ "bytes=5000-6000,0-1", 1000, RANGES_OK, "0-1" },
	{ "bytes=-0,0-1", 1000, RANGES_OK, "0-1" },
	/* List syntax: spaces around elements, empty elements. */
	{ "bytes= 0-1 , 3-4 ", 1000, RANGES_OK, "0-1,3-4" },
	{ "bytes=\t0-1,\t3-4", 1000, RANGES_OK, "0-1,3-4" },
	{ "bytes=,0-1,,3-4,", 1000, RANGES_OK, "0-1,3-4" },
	/* Unsatisfiable: valid, but nothing of the file. */
	{ "bytes=1000-", 1000, RANGES_UNSATISFIABLE, NULL },
	{ "bytes=1000-2000", 1000, RANGES_UNSATISFIABLE, NULL },
	{ "bytes=-0", 1000, RANGES_UNSATISFIABLE, NULL },
	{ "bytes=1000-1000,2000-", 1000, RANGES_UNSATISFIABLE, NULL },
	/* Overflowing numbers are large, not malformed. */
	{ "bytes=99999999999999999999999-", 1000, RANGES_UNSATISFIABLE,
	    NULL },
	{ "bytes=0-99999999999999999999999", 1000, RANGES_OK, "0-999" },
	{ "bytes=-99999999999999999999999", 1000, RANGES_OK, "0-999" },
	{ "bytes=9223372036854775807-", 1000, RANGES_UNSATISFIABLE, NULL },
	{ "bytes=9223372036854775806-9223372036854775807", 1000,
	    RANGES_UNSATISFIABLE, NULL },
	/* Malformed: ignored, the whole file. */
	{ "", 1000, RANGES_IGNORE, NULL },
	{ "bytes", 1000, RANGES_IGNORE, NULL },
	{ "bytes=", 1000, RANGES_IGNORE, NULL },
	{ "bytes=,", 1000, RANGES_IGNORE, NULL },
	{ "bytes= ", 1000, RANGES_IGNORE, NULL },
	{ "bytes=-", 1000, RANGES_IGNORE, NULL },
	{ "bytes=--1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=-1-2", 1000, RANGES_IGNORE, NULL },
	{ "bytes=1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=a-b", 1000, RANGES_IGNORE, NULL },
	{ "bytes=1-a", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0x1-2", 1000, RANGES_IGNORE, NULL },
	{ "bytes=+1-2", 1000, RANGES_IGNORE, NULL },
	{ "bytes=5-1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0-1,5-1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0 -1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0- 1", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0-1 2-3", 1000, RANGES_IGNORE, NULL },
	{ "bytes=0-1;2-3", 1000, RANGES_IGNORE, NULL },
	{ "bytes =0-1", 1000, RANGES_IGNORE, NULL },
	{ " bytes=0-1", 1000, RANGES_IGNORE, NULL },
	{ "bits=0-1", 1000, RANGES_IGNORE, NULL },
	{ "items=0-1", 1000, RANGES_IGNORE, NULL },
	{ "bytes:0-1", 1000, RANGES_IGNORE, NULL },
	/* An empty file has no byte to range over. */
	{ "bytes=0-1", 0, RANGES_IGNORE, NULL },
};

START_TEST(test_known)
{
	const struct known	*k = &known[_i];
	struct range		 r[RANGES_MAX];
	size_t			 n = 99;
	enum ranges_result	 got;

	got = ranges_parse(k->header, strlen(k->header), k->size, r,
	    RANGES_MAX, &n);
	ck_assert_msg(got == k->want, "\"%s\": %d, want %d", k->header,
	    (int)got, (int)k->want);
	if (k->want == RANGES_OK)
		ck_assert_str_eq(show(r, n), k->ranges);
	else
		ck_assert_uint_eq(n, 0);
}
END_TEST

/* Whatever came back lies inside the file, sorted and disjoint. */
static void
check_sane(const char *s, size_t len, off_t size)
{
	struct range		 r[RANGES_MAX];
	size_t			 n, i;
	enum ranges_result	 got;

	got = ranges_parse(s, len, size, r, RANGES_MAX, &n);
	ck_assert(got == RANGES_OK || got == RANGES_IGNORE ||
	    got == RANGES_UNSATISFIABLE);
	ck_assert(got == RANGES_OK ? n >= 1 && n <= RANGES_MAX : n == 0);
	for (i = 0; i < n; i++) {
		ck_assert(r[i].start >= 0 && r[i].len > 0);
		ck_assert(r[i].start + r[i].len <= size);
		/* Disjoint and not even adjacent: merged otherwise. */
		if (i > 0)
			ck_assert(r[i - 1].start + r[i - 1].len < r[i].start);
	}
}

/*
 * Every prefix of every known header: the length bounds the parse (no
 * read past it, which ASan would see in the copy), and a prefix is
 * parsed as what it is, e.g. "bytes=0-9" cut to "bytes=0-" is 0-999.
 */
START_TEST(test_cut_everywhere)
{
	const char	*s = known[_i].header;
	size_t		 len = strlen(s), cut;
	char		*copy;

	for (cut = 0; cut <= len; cut++) {
		copy = malloc(cut > 0 ? cut : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, s, cut);
		check_sane(copy, cut, 1000);
		check_sane(copy, cut, 1);
		free(copy);
	}
}
END_TEST

START_TEST(test_prefixes)
{
	struct range	 r[RANGES_MAX];
	size_t		 n;
	const char	*s = "bytes=10-19,30-";

	ck_assert_int_eq(ranges_parse(s, 6, 100, r, RANGES_MAX, &n),
	    RANGES_IGNORE);
	ck_assert_int_eq(ranges_parse(s, 8, 100, r, RANGES_MAX, &n),
	    RANGES_IGNORE);				/* "bytes=10" */
	ck_assert_int_eq(ranges_parse(s, 9, 100, r, RANGES_MAX, &n),
	    RANGES_OK);					/* "bytes=10-" */
	ck_assert_str_eq(show(r, n), "10-99");
	ck_assert_int_eq(ranges_parse(s, 10, 100, r, RANGES_MAX, &n),
	    RANGES_IGNORE);			/* "bytes=10-1": backwards */
	ck_assert_int_eq(ranges_parse(s, 11, 100, r, RANGES_MAX, &n),
	    RANGES_OK);
	ck_assert_str_eq(show(r, n), "10-19");
	ck_assert_int_eq(ranges_parse(s, strlen(s), 100, r, RANGES_MAX, &n),
	    RANGES_OK);
	ck_assert_str_eq(show(r, n), "10-19,30-99");
}
END_TEST

/* Up to max specs are read; one more and the header is ignored. */
START_TEST(test_many)
{
	struct range	 r[RANGES_MAX];
	char		 buf[64 * 1024];
	size_t		 len = 6, n, i;

	memcpy(buf, "bytes=", 6);
	for (i = 0; i < RANGES_MAX; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%zu-%zu",
		    i ? "," : "", i * 10, i * 10 + 1);
	ck_assert_int_eq(ranges_parse(buf, len, 100000, r, RANGES_MAX, &n),
	    RANGES_OK);
	ck_assert_uint_eq(n, RANGES_MAX);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",5000-5001");
	ck_assert_int_eq(ranges_parse(buf, len, 100000, r, RANGES_MAX, &n),
	    RANGES_IGNORE);
	ck_assert_uint_eq(n, 0);

	/* Thousands of the same byte: still too many specs, one pass. */
	len = 6;
	for (i = 0; i < 5000; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s0-0",
		    i ? "," : "");
	ck_assert_int_eq(ranges_parse(buf, len, 100000, r, RANGES_MAX, &n),
	    RANGES_IGNORE);
	/* And thousands of commas are empty elements, not specs. */
	len = 6;
	memset(buf + len, ',', 30000);
	len += 30000;
	memcpy(buf + len, "1-2", 3);
	len += 3;
	ck_assert_int_eq(ranges_parse(buf, len, 100000, r, RANGES_MAX, &n),
	    RANGES_OK);
	ck_assert_str_eq(show(r, n), "1-2");
}
END_TEST

/* A smaller max is honoured as the array's size. */
START_TEST(test_small_max)
{
	struct range	 r[2];
	size_t		 n;

	ck_assert_int_eq(ranges_parse("bytes=0-1,4-5", 13, 100, r, 2, &n),
	    RANGES_OK);
	ck_assert_str_eq(show(r, n), "0-1,4-5");
	ck_assert_int_eq(ranges_parse("bytes=0-1,4-5,8-9", 17, 100, r, 2, &n),
	    RANGES_IGNORE);
}
END_TEST

static Suite *
ranges_suite(void)
{
	Suite	*s = suite_create("ranges");
	TCase	*tc = tcase_create("parse");
	int	 nknown = (int)(sizeof(known) / sizeof(known[0]));

	tcase_add_loop_test(tc, test_known, 0, nknown);
	tcase_add_loop_test(tc, test_cut_everywhere, 0, nknown);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_small_max);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ranges_suite());
}
