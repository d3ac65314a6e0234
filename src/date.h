/*
 * date.h - the cached Date header.
 *
 * Formatting a date (sy_http_date()) costs a gmtime_r and a snprintf; a
 * busy worker answers thousands of requests within the same second, so
 * the text is rebuilt at most once per second. Loop thread only (one
 * cache per process).
 */
#ifndef DATE_H
#define DATE_H

#include <time.h>

#include "switchyard.h"

#define DATE_LEN	SY_HTTP_DATE_LEN

/*
 * The IMF-fixdate (RFC 9110) for now, NUL-terminated, DATE_LEN bytes.
 * The result stays valid until the next call with another second.
 */
const char	*date_format(time_t now);

#endif /* DATE_H */
