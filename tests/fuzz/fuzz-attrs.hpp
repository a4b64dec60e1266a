// Attributes for harness code.
//
// FUZZ_UNINSTRUMENTED: the function is compiled without SanitizerCoverage
// (ASan and UBSan stay on).  For the harness's own checking and painting
// loops: they run once per pixel or per byte, and their edges and
// comparison hooks only describe the harness, never the library, yet they
// cost more than the code under test (perf: ~35% of fuzz-encoders' time
// went to __sanitizer_cov_trace_*cmp* called from its pixel comparison).
// noinline keeps the body out of instrumented callers.
#pragma once

#define FUZZ_UNINSTRUMENTED __attribute__((no_sanitize("coverage"), noinline))
