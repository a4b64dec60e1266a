// cmocka for C++ tests.  cmocka 1.1.5's header has no extern "C" guard and
// needs these includes first.  A failed assertion longjmps out of the test
// and skips C++ destructors: own test objects in setup/teardown fixtures,
// or keep the assertion after the object's scope when it matters.
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h>
}
