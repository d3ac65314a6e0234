/*
 * check_compress.c - unit tests for compress.c: the Accept-Encoding
 * parser (known values, every prefix, hostile input), compressible
 * types, and gzip round trips through zlib's inflate.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "compress.h"

struct known {
	const char	*value;
	int		 gzip;		/* does it accept gzip? */
};

static const struct known known[] = {
	{ "gzip", 1 },
	{ "GZIP", 1 },
	{ "x-gzip", 1 },
	{ "gzip, deflate, br", 1 },
	{ "br, gzip", 1 },
	{ "deflate, br", 0 },
	{ "", 0 },
	{ ",,, ,", 0 },
	{ "identity", 0 },
	{ "*", 1 },
	{ "*;q=0", 0 },
	{ "*;q=0.1", 1 },
	{ "gzip;q=0", 0 },
	{ "gzip;q=0.0", 0 },
	{ "gzip;q=0.000", 0 },
	{ "gzip;q=0.001", 1 },
	{ "gzip;q=1", 1 },
	{ "gzip;q=1.0", 1 },
	{ "gzip;q=1.000", 1 },
	{ "gzip; q=0.5", 1 },
	{ "gzip ; q=0.5", 1 },
	{ "gzip;Q=0.5", 1 },
	/* gzip's own q-value wins over "*". */
	{ "gzip;q=0, *", 0 },
	{ "*, gzip;q=0", 0 },
	{ "*;q=0, gzip", 1 },
	{ "*;q=0.5, br", 1 },
	/* Against identity: not below an explicit one. */
	{ "gzip;q=0.5, identity;q=1", 0 },
	{ "gzip;q=0.5, identity;q=0.5", 1 },
	{ "gzip, identity;q=0", 1 },
	{ "identity;q=0.9, gzip", 1 },
	{ "*;q=0.3, identity", 0 },
	/* The best of gzip and x-gzip. */
	{ "gzip;q=0, x-gzip", 1 },
	/* Malformed q-values: the element is skipped. */
	{ "gzip;q=2", 0 },
	{ "gzip;q=1.5", 0 },
	{ "gzip;q=1.001", 0 },
	{ "gzip;q=-1", 0 },
	{ "gzip;q=", 0 },
	{ "gzip;q=abc", 0 },
	{ "gzip;q=0.5x", 0 },
	{ "gzip;q=0.5555", 0 },
	{ "gzip;q=2, *", 1 },
	{ "gzip;q=0.5x, gzip;q=0.4", 1 },
	/* Other parameters are skipped. */
	{ "gzip;level=9", 1 },
	{ "gzip;level=9;q=0", 0 },
	/* Not a coding, or a longer name. */
	{ "gzipx", 0 },
	{ "gzi", 0 },
	{ "xgzip", 0 },
	{ "gzip deflate", 0 },
	{ "\"gzip\"", 0 },
	{ "gzip/1", 0 },
	{ ";q=1", 0 },
	{ "gzip,", 1 },
	{ " \tgzip \t", 1 },
};

START_TEST(test_known)
{
	const struct known	*k = &known[_i];

	ck_assert_msg(compress_accepts(k->value, strlen(k->value), "gzip") ==
	    k->gzip, "\"%s\": want %d", k->value, k->gzip);
}
END_TEST

/* Every prefix, in a buffer of its exact size: no read past the end. */
START_TEST(test_cut_everywhere)
{
	const char	*s = known[_i].value;
	size_t		 len = strlen(s), cut;
	char		*copy;
	int		 got;

	for (cut = 0; cut <= len; cut++) {
		copy = malloc(cut > 0 ? cut : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, s, cut);
		got = compress_accepts(copy, cut, "gzip");
		ck_assert(got == 0 || got == 1);
		free(copy);
	}
	/* Cut right after "gzip": accepted whatever followed. */
	if (strncmp(s, "gzip", 4) == 0)
		ck_assert_int_eq(compress_accepts(s, 4, "gzip"), 1);
}
END_TEST

START_TEST(test_other_codings)
{
	ck_assert_int_eq(compress_accepts("br, gzip", 8, "br"), 1);
	ck_assert_int_eq(compress_accepts("gzip", 4, "br"), 0);
	ck_assert_int_eq(compress_accepts("*", 1, "br"), 1);
	/* x-gzip is gzip's alias only. */
	ck_assert_int_eq(compress_accepts("x-gzip", 6, "br"), 0);
}
END_TEST

START_TEST(test_hostile)
{
	static char	 buf[200000];
	size_t		 len, i;

	/* Thousands of elements, the last the only gzip. */
	for (len = 0, i = 0; i < 10000; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "br;q=0.5, ");
	memcpy(buf + len, "gzip", 4);
	ck_assert_int_eq(compress_accepts(buf, len + 4, "gzip"), 1);
	/* A huge token, huge parameters, only separators. */
	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(compress_accepts(buf, sizeof(buf), "gzip"), 0);
	memset(buf, ';', sizeof(buf));
	ck_assert_int_eq(compress_accepts(buf, sizeof(buf), "gzip"), 0);
	memset(buf, ',', sizeof(buf));
	ck_assert_int_eq(compress_accepts(buf, sizeof(buf), "gzip"), 0);
	memcpy(buf, "gzip;q=0.", 9);
	memset(buf + 9, '0', 1000);
	ck_assert_int_eq(compress_accepts(buf, 9 + 1000, "gzip"), 0);
	/* Control bytes and NULs inside: not tokens. */
	ck_assert_int_eq(compress_accepts("gz\0ip", 5, "gzip"), 0);
	ck_assert_int_eq(compress_accepts("\x01gzip", 5, "gzip"), 0);
}
END_TEST

struct type_case {
	const char	*type;
	int		 ok;
};

static const struct type_case types[] = {
	{ "text/html; charset=utf-8", 1 },
	{ "text/plain", 1 },
	{ "TEXT/CSS", 1 },
	{ "text/javascript; charset=utf-8", 1 },
	{ "application/json", 1 },
	{ "application/json; charset=utf-8", 1 },
	{ "application/javascript", 1 },
	{ "application/xml", 1 },
	{ "image/svg+xml", 1 },
	{ "application/problem+json", 1 },
	{ "application/atom+xml", 1 },
	{ "application/vnd.api+json ; x=y", 1 },
	{ "text/", 0 },
	{ "text", 0 },
	{ "image/png", 0 },
	{ "application/octet-stream", 0 },
	{ "application/gzip", 0 },
	{ "application/jsonx", 0 },
	{ "+json", 0 },
	{ "", 0 },
};

START_TEST(test_types)
{
	ck_assert_msg(compress_type_ok(types[_i].type) == types[_i].ok,
	    "\"%s\": want %d", types[_i].type, types[_i].ok);
}
END_TEST

START_TEST(test_type_null)
{
	ck_assert_int_eq(compress_type_ok(NULL), 0);
}
END_TEST

/* Inflate gz (a gzip stream) and compare with want[0..len). */
static void
check_inflates_to(struct evbuffer *gz, const unsigned char *want,
    size_t len)
{
	size_t		 gzlen = evbuffer_get_length(gz);
	unsigned char	*in = evbuffer_pullup(gz, -1);
	unsigned char	*out = malloc(len + 1);
	z_stream	 z;

	ck_assert_ptr_nonnull(out);
	ck_assert(gzlen >= 18);			/* header and trailer */
	ck_assert(in[0] == 0x1f && in[1] == 0x8b);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)gzlen;
	z.next_out = out;
	z.avail_out = (uInt)len + 1;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, len);
	ck_assert_uint_eq(z.avail_in, 0);	/* nothing after the trailer */
	ck_assert(memcmp(out, want, len) == 0);
	(void)inflateEnd(&z);
	free(out);
}

/* A body in many chains (and references), sizes around the buffers'. */
START_TEST(test_gzip_round_trip)
{
	static const size_t	 sizes[] = { 0, 1, 1023, 1024, 10240,
				    16384, 65536 + 7, 1 << 20 };
	size_t			 len = sizes[_i], i, off;
	unsigned char		*data = malloc(len + 1);
	struct evbuffer		*body = evbuffer_new(), *gz = evbuffer_new();
	unsigned int		 x = 12345;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(gz);
	/* Text-like, some repeats, some noise. */
	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (i / 64) % 3 == 0 ? (unsigned char)('a' + i % 26) :
		    (unsigned char)(x >> 16);
	}
	/* Odd-sized pieces: copies and references, many chains. */
	for (off = 0, i = 0; off < len; i++) {
		size_t	 n = 1 + (i * 977) % 5000;

		if (n > len - off)
			n = len - off;
		if (i % 2)
			ck_assert_int_eq(evbuffer_add(body, data + off, n), 0);
		else
			ck_assert_int_eq(evbuffer_add_reference(body,
			    data + off, n, NULL, NULL), 0);
		off += n;
	}
	ck_assert_uint_eq(evbuffer_get_length(body), len);
	ck_assert_int_eq(compress_gzip(body, gz), 0);
	/* The body is left as it was. */
	ck_assert_uint_eq(evbuffer_get_length(body), len);
	check_inflates_to(gz, data, len);
	evbuffer_free(body);
	evbuffer_free(gz);
	free(data);
}
END_TEST

/* Repetitive text shrinks a lot: the level is not "store". */
START_TEST(test_gzip_shrinks)
{
	struct evbuffer	*body = evbuffer_new(), *gz = evbuffer_new();
	int		 i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(evbuffer_add_printf(body,
		    "{\"id\": %d, \"name\": \"item\"},", i % 10) > 0, 1);
	ck_assert_int_eq(compress_gzip(body, gz), 0);
	ck_assert_uint_lt(evbuffer_get_length(gz),
	    evbuffer_get_length(body) / 10);
	evbuffer_free(body);
	evbuffer_free(gz);
}
END_TEST

static Suite *
compress_suite(void)
{
	Suite	*s = suite_create("compress");
	TCase	*tc = tcase_create("accept_encoding");
	TCase	*tt = tcase_create("types");
	TCase	*tg = tcase_create("gzip");

	tcase_add_loop_test(tc, test_known, 0,
	    (int)(sizeof(known) / sizeof(known[0])));
	tcase_add_loop_test(tc, test_cut_everywhere, 0,
	    (int)(sizeof(known) / sizeof(known[0])));
	tcase_add_test(tc, test_other_codings);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tt, test_types, 0,
	    (int)(sizeof(types) / sizeof(types[0])));
	tcase_add_test(tt, test_type_null);
	suite_add_tcase(s, tt);
	tcase_add_loop_test(tg, test_gzip_round_trip, 0, 8);
	tcase_add_test(tg, test_gzip_shrinks);
	suite_add_tcase(s, tg);
	return s;
}

int
main(void)
{
	return unit_run(compress_suite());
}
