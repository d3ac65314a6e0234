/*
 * ranges.c - parse a Range header into byte ranges of a file.
 *
 * The grammar (RFC 9110 14.1.1, 14.2):
 *
 *	Range       = "bytes" "=" range-set
 *	range-set   = 1#range-spec	(elements separated by OWS "," OWS)
 *	range-spec  = first-pos "-" [ last-pos ] / "-" suffix-length
 *
 * A range-spec whose last-pos is below its first-pos makes the whole
 * header invalid, and an invalid header is ignored: the client gets the
 * whole representation with 200, as RFC 9110 14.2 asks of a syntax
 * error. Satisfiable specs are clipped to the file; when none is, the
 * answer is 416.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <strings.h>

#include "handlers/ranges.h"

_Static_assert(sizeof(off_t) == 8, "off_t: 64 bits (OFF_MAX)");

#define OFF_MAX	((off_t)INT64_MAX)

/*
 * Digits at s[*i..len) as an off_t, saturating at OFF_MAX. -1 when there
 * is no digit.
 */
static off_t
parse_pos(const char *s, size_t len, size_t *i)
{
	off_t	 v = 0;
	size_t	 start = *i;
	int	 d;

	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		d = s[*i] - '0';
		v = v > (OFF_MAX - d) / 10 ? OFF_MAX : v * 10 + d;
	}
	return *i == start ? -1 : v;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Insert [start, start + rlen) into the sorted, disjoint r[0..*n). */
static void
range_add(struct range *r, size_t *n, off_t start, off_t rlen)
{
	off_t	 end = start + rlen;	/* <= size: no overflow */
	size_t	 i, j, k;

	/* The first range that ends at or after start touches or follows. */
	for (i = 0; i < *n && r[i].start + r[i].len < start; i++)
		continue;
	/* Merge every range that starts at or before end. */
	for (j = i; j < *n && r[j].start <= end; j++) {
		if (r[j].start < start)
			start = r[j].start;
		if (r[j].start + r[j].len > end)
			end = r[j].start + r[j].len;
	}
	if (j == i) {
		for (k = *n; k > i; k--)
			r[k] = r[k - 1];
		(*n)++;
	} else if (j > i + 1) {
		for (k = j; k < *n; k++)
			r[i + 1 + k - j] = r[k];
		*n -= j - i - 1;
	}
	r[i].start = start;
	r[i].len = end - start;
}

enum ranges_result
ranges_parse(const char *s, size_t len, off_t size, struct range *r,
    size_t max, size_t *n)
{
	size_t	 i = 0, specs = 0;
	off_t	 first, last;

	*n = 0;
	if (len < 6 || strncasecmp(s, "bytes=", 6) != 0 || size <= 0)
		goto invalid;
	for (i = 6;;) {
		while (i < len && (is_ows(s[i]) || s[i] == ','))
			i++;
		if (i == len)
			break;
		if (++specs > max)
			goto invalid;
		if (s[i] == '-') {
			i++;
			if ((last = parse_pos(s, len, &i)) == -1)
				goto invalid;
			/* A suffix longer than the file is the whole file. */
			first = last >= size ? 0 : size - last;
			last = size - 1;
			if (first > last)
				first = -1;	/* "-0": unsatisfiable */
		} else {
			if ((first = parse_pos(s, len, &i)) == -1 ||
			    i == len || s[i++] != '-')
				goto invalid;
			if (i < len && s[i] >= '0' && s[i] <= '9') {
				last = parse_pos(s, len, &i);
				if (last < first)
					goto invalid;
				if (last >= size)
					last = size - 1;
			} else
				last = size - 1;
			if (first >= size)
				first = -1;
		}
		/* The element ends here: OWS, then "," or the end. */
		while (i < len && is_ows(s[i]))
			i++;
		if (i < len && s[i] != ',')
			goto invalid;
		if (first != -1)
			range_add(r, n, first, last - first + 1);
	}
	if (specs == 0)
		goto invalid;		/* "bytes=", "bytes=,," */
	return *n > 0 ? RANGES_OK : RANGES_UNSATISFIABLE;

 invalid:
	*n = 0;
	return RANGES_IGNORE;
}
