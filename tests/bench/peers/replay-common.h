/* What the peer replay servers share: the command line and the clock.
 *
 *   --vfr FILE   the workload (../shared/bench/vfr.h)
 *   --port N     TCP port on 127.0.0.1
 *   --fps F      records per second; 0 = demand-driven: the next record is
 *                applied when a client has a request pending and the
 *                previous record's damage has been sent (default 0)
 *
 * Each server loads the base image, then applies records 1..n-1,0,1,...
 * and reports exactly each record's rects as damage, one call per rect,
 * as ../shared/bench/README.md prescribes. */
#ifndef REPLAY_COMMON_H
#define REPLAY_COMMON_H

#include <stdint.h>

struct replay_args {
	const char *vfr;
	int port;
	double fps;
};

/* Parses argv; prints usage and returns -1 on a bad command line. */
int replay_parse_args(int argc, char **argv, struct replay_args *out, const char *prog);
/* Monotonic microseconds. */
int64_t replay_now_us(void);

#endif
