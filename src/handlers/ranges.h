/*
 * ranges.h - the Range request header (RFC 9110 14.2), for the static
 * handler: "bytes=0-99", "bytes=500-", "bytes=-200", "bytes=0-0,-1".
 */
#ifndef RANGES_H
#define RANGES_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Range-specs read from one header, at most. Browsers and download
 * managers send one, PDF viewers a handful; more is ignored (the whole
 * file, 200), so a header of thousands of tiny ranges costs one parse
 * and never thousands of parts.
 */
#define RANGES_MAX	16

struct range {
	off_t	 start;		/* first byte, < the file's size */
	off_t	 len;		/* bytes, > 0; start + len <= size */
};

enum ranges_result {
	RANGES_IGNORE = 0,	/* not "bytes=" and a valid range-set, or
				   more than max specs: serve the whole */
	RANGES_OK,		/* *n >= 1 ranges, sorted, disjoint */
	RANGES_UNSATISFIABLE	/* valid, but none overlaps: 416 */
};

/*
 * Parse the Range value s[0..len) against a representation of size
 * bytes (> 0) into r[0..max), sorted by start, with overlapping and
 * adjacent ranges merged (RFC 9110 14.6 allows it). The unit is
 * case-insensitive; spaces may surround list elements, not sit inside
 * one; empty elements are skipped; a number too large for off_t counts
 * as the largest one (still a valid number: "bytes=99999999999999999999-"
 * is unsatisfiable, not malformed). Any thread.
 */
enum ranges_result ranges_parse(const char *s, size_t len, off_t size,
	    struct range *r, size_t max, size_t *n);

#endif /* RANGES_H */
