/*
 * date.h - the cached Date header.
 *
 * Formatting a date costs a gmtime_r and a strftime; a busy worker answers
 * thousands of requests within the same second, so the text is rebuilt at
 * most once per second. Loop thread only (one cache per process).
 */
#ifndef DATE_H
#define DATE_H

#include <time.h>

#define DATE_LEN	29	/* strlen("Sun, 06 Nov 1994 08:49:37 GMT") */

/*
 * The IMF-fixdate (RFC 9110) for now, NUL-terminated, DATE_LEN bytes.
 * The result stays valid until the next call with another second.
 */
const char	*date_format(time_t now);

#endif /* DATE_H */
