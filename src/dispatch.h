/*
 * dispatch.h - run a route's handler the way its mode says.
 *
 * Non-blocking routes run on the loop thread; every call is timed, and
 * one that held the loop longer than loop_block_warn_ms is reported with
 * the route, the handler and a hint, as asyncio's debug mode does.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "api.h"

/*
 * Run req's handler on the loop thread. Returns an enum sy_result; on
 * SY_ERROR the response has been replaced by a 500. warn_ms is the
 * loop-block threshold (0: off).
 */
int	dispatch_run(struct sy_req *req, unsigned warn_ms);

#endif /* DISPATCH_H */
