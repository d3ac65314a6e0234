/*
 * date.c - the cached Date header, rebuilt at most once a second.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <time.h>

#include "date.h"

static time_t	date_cached = (time_t)-1;
static char	date_text[64];	/* DATE_LEN used; room for any year */

const char *
date_format(time_t now)
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

	if (now == date_cached)
		return date_text;
	if (gmtime_r(&now, &tm) == NULL)
		return date_text;
	(void)snprintf(date_text, sizeof(date_text),
	    "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	date_cached = now;
	return date_text;
}
