/* The VFR reader of ../shared/bench/vfr.h, compiled once for the peer
 * replay servers (bench tools, C like the libraries they drive). */
#define VFR_IMPLEMENTATION
#include "vfr.h"
