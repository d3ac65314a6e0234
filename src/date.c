/*
 * date.c - HTTP dates: sy_http_date(), and the cached Date header,
 * rebuilt with it at most once a second.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "date.h"

static time_t	date_cached = (time_t)-1;
static char	date_text[64];	/* DATE_LEN used; room for any year */

size_t
sy_http_date(time_t t, char *buf, size_t bufsize)
{
	/*
	 * Not strftime("%a"): its day and month names follow the locale,
	 * while HTTP wants the English ones whatever LC_TIME says.
	 */
	static const char	 days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char	 months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	int			 n;

	if (gmtime_r(&t, &tm) == NULL)
		n = -1;
	else
		n = snprintf(buf, bufsize,
		    "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= bufsize) {
		if (bufsize > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

const char *
date_format(time_t now)
{
	char	 text[sizeof(date_text)];

	/* On failure (no such year) the last good text stays. */
	if (now == date_cached || sy_http_date(now, text, sizeof(text)) == 0)
		return date_text;
	memcpy(date_text, text, sizeof(date_text));
	date_cached = now;
	return date_text;
}
