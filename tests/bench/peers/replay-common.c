#include "replay-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int replay_parse_args(int argc, char **argv, struct replay_args *out, const char *prog)
{
	out->vfr = NULL;
	out->port = 0;
	out->fps = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--vfr") == 0)
			out->vfr = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			out->port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--fps") == 0)
			out->fps = atof(argv[i + 1]);
		else
			break;
	}
	if (!out->vfr || out->port <= 0 || out->port > 65535 || out->fps < 0 || argc % 2 == 0) {
		fprintf(stderr, "usage: %s --vfr FILE --port N [--fps F (0 = demand)]\n", prog);
		return -1;
	}
	return 0;
}

int64_t replay_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
