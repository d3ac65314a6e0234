/*
 * check_date.c - unit tests for date.c: sy_http_date() and the cache.
 *
 * The cache is one per process and check runs each test in a child of
 * its own, but a test never relies on that: every test uses seconds that
 * no other test in it asks for first, so a stale cache cannot pass for a
 * right answer.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"

struct known {
	time_t		 t;
	const char	*text;
};

static const struct known known[] = {
	{ 0,		"Thu, 01 Jan 1970 00:00:00 GMT" },
	/* The example of RFC 9110, 5.6.7. */
	{ 784111777,	"Sun, 06 Nov 1994 08:49:37 GMT" },
	/* A leap day, its last second and the day after. */
	{ 951782400,	"Tue, 29 Feb 2000 00:00:00 GMT" },
	{ 951868799,	"Tue, 29 Feb 2000 23:59:59 GMT" },
	{ 951868800,	"Wed, 01 Mar 2000 00:00:00 GMT" },
	{ 1709164800,	"Thu, 29 Feb 2024 00:00:00 GMT" },
	/* The last second of a year, of a leap year, and a new year. */
	{ 1704067199,	"Sun, 31 Dec 2023 23:59:59 GMT" },
	{ 1704067200,	"Mon, 01 Jan 2024 00:00:00 GMT" },
	{ 1735689599,	"Tue, 31 Dec 2024 23:59:59 GMT" },
	{ 1000000000,	"Sun, 09 Sep 2001 01:46:40 GMT" },
	/* Either side of the 32-bit time_t limit. */
	{ 2147483647,	"Tue, 19 Jan 2038 03:14:07 GMT" },
	{ 2147483648,	"Tue, 19 Jan 2038 03:14:08 GMT" },
};

#define NKNOWN	(sizeof(known) / sizeof(known[0]))

/* Every known epoch, then every one again in reverse: cache or not. */
START_TEST(test_known)
{
	const char	*s;
	size_t		 i;

	for (i = 0; i < NKNOWN; i++) {
		s = date_format(known[i].t);
		ck_assert_str_eq(s, known[i].text);
		ck_assert_uint_eq(strlen(s), DATE_LEN);
	}
	for (i = NKNOWN; i-- > 0;) {
		s = date_format(known[i].t);
		ck_assert_str_eq(s, known[i].text);
	}
}
END_TEST

/*
 * sy_http_date() writes what the cache serves, and refuses a buffer one
 * byte short rather than cut the date: empty string, 0.
 */
START_TEST(test_http_date)
{
	char	 buf[SY_HTTP_DATE_LEN + 1];
	size_t	 i;

	for (i = 0; i < NKNOWN; i++) {
		memset(buf, 'x', sizeof(buf));
		ck_assert_uint_eq(sy_http_date(known[i].t, buf, sizeof(buf)),
		    SY_HTTP_DATE_LEN);
		ck_assert_str_eq(buf, known[i].text);
		memset(buf, 'x', sizeof(buf));
		ck_assert_uint_eq(sy_http_date(known[i].t, buf,
		    sizeof(buf) - 1), 0);
		ck_assert_str_eq(buf, "");
	}
	buf[0] = 'x';
	ck_assert_uint_eq(sy_http_date(0, buf, 0), 0);
	ck_assert_int_eq(buf[0], 'x');
	/* Year 10000: one more digit, so it no longer fits. */
	ck_assert_uint_eq(sy_http_date((time_t)253402300800LL, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Every second of one day, and the first of each month for 30 years. */
START_TEST(test_length_and_gmtime)
{
	static const char	 days[] = "SunMonTueWedThuFriSat";
	static const char	 months[] =
	    "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm		 tm;
	char			 want[64];
	time_t			 t;
	const char		*s;

	for (t = 1700000000; t < 1700000000 + 86400 + 7; t += 7) {
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		(void)snprintf(want, sizeof(want),
		    "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
		    days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		s = date_format(t);
		ck_assert_str_eq(s, want);
		ck_assert_uint_eq(strlen(s), DATE_LEN);
	}
	for (t = 946684800; t < 946684800 + 30 * 365 * 86400L;
	    t += 86400 * 31) {
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		(void)snprintf(want, sizeof(want),
		    "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
		    days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		ck_assert_str_eq(date_format(t), want);
	}
}
END_TEST

START_TEST(test_cache)
{
	const char	*a, *b, *c;
	char		 first[DATE_LEN + 1];

	a = date_format(784111777);
	memcpy(first, a, sizeof(first));
	b = date_format(784111777);
	ck_assert_ptr_eq(a, b);
	ck_assert_str_eq(b, "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_str_eq(b, first);

	c = date_format(784111778);
	ck_assert_str_eq(c, "Sun, 06 Nov 1994 08:49:38 GMT");
	ck_assert_str_ne(c, first);
	ck_assert_ptr_eq(date_format(784111778), c);

	/* Back in time (a clock step) is just another second. */
	ck_assert_str_eq(date_format(784111777), first);
}
END_TEST

/* Day and month names from strftime, to tell an English locale. */
static int
locale_is_english(void)
{
	struct tm	 tm;
	time_t		 t = 784111777;
	char		 buf[64];

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(buf, sizeof(buf), "%a %b", &tm), 0);
	return strcmp(buf, "Sun Nov") == 0;
}

START_TEST(test_locale)
{
	static const char	*const names[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
		"es_ES.UTF-8", "it_IT.UTF-8", "ru_RU.UTF-8", "ja_JP.UTF-8",
		"de_DE", "fr_FR",
	};
	const char		*used = NULL;
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (setlocale(LC_ALL, names[i]) != NULL &&
		    !locale_is_english()) {
			used = names[i];
			break;
		}
	if (used != NULL) {
		/* A locale that names days otherwise: Date must not. */
		ck_assert_str_eq(date_format(0),
		    "Thu, 01 Jan 1970 00:00:00 GMT");
		ck_assert_str_eq(date_format(784111777),
		    "Sun, 06 Nov 1994 08:49:37 GMT");
		ck_assert_str_eq(date_format(1735689599),
		    "Tue, 31 Dec 2024 23:59:59 GMT");
	} else {
		fprintf(stderr, "check_date: no non-English locale "
		    "installed; checking C and C.UTF-8 only\n");
		ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
		ck_assert_str_eq(date_format(0),
		    "Thu, 01 Jan 1970 00:00:00 GMT");
		if (setlocale(LC_ALL, "C.UTF-8") == NULL)
			ck_assert_ptr_nonnull(setlocale(LC_ALL, "POSIX"));
		ck_assert_str_eq(date_format(784111777),
		    "Sun, 06 Nov 1994 08:49:37 GMT");
		ck_assert_str_eq(date_format(1735689599),
		    "Tue, 31 Dec 2024 23:59:59 GMT");
	}
	/* Formatted under one locale, still right under another. */
	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
	ck_assert_str_eq(date_format(1735689599),
	    "Tue, 31 Dec 2024 23:59:59 GMT");
}
END_TEST

static Suite *
date_suite(void)
{
	Suite	*s = suite_create("date");
	TCase	*tc = tcase_create("format");

	tcase_add_test(tc, test_known);
	tcase_add_test(tc, test_http_date);
	tcase_add_test(tc, test_length_and_gmtime);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_locale);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(date_suite());
}
