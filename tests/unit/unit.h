/*
 * unit.h - what every check suite's main() does: run the suite, exit 0
 * only when no test failed (a suite with no test at all fails too, so
 * "no tests ran" cannot pass).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdlib.h>

#include <check.h>

static inline int
unit_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 nfailed, nrun;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	nrun = srunner_ntests_run(sr);
	srunner_free(sr);
	return nfailed == 0 && nrun > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* UNIT_H */
