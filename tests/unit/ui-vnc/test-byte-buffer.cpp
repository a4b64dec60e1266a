// ByteBuffer's memory policy: a connection's output buffer keeps its
// capacity through a stream of large updates and gives it back after a
// small one (shrink_if_idle).
#include <cstdint>
#include <vector>

#include "byte-buffer.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using qvnc::io::ByteBuffer;

namespace {

constexpr size_t kKeep = 1 << 20;

void burst(ByteBuffer &b, size_t n)
{
    const std::vector<uint8_t> bytes(n, 0x5A);
    b.append(bytes);
    assert_int_equal(b.size(), n);
    b.consume(n); // written to the socket
    assert_true(b.empty());
}

void test_large_bursts_keep_capacity(void **)
{
    ByteBuffer b;
    burst(b, 5 * kKeep);
    const size_t cap = b.capacity();
    assert_true(cap >= 5 * kKeep);
    b.shrink_if_idle(kKeep);
    assert_int_equal(b.capacity(), cap); // kept: the burst filled it
    burst(b, 5 * kKeep);
    b.shrink_if_idle(kKeep);
    assert_int_equal(b.capacity(), cap); // no regrowth, the same buffer
}

void test_small_burst_gives_back(void **)
{
    ByteBuffer b;
    burst(b, 5 * kKeep);
    b.shrink_if_idle(kKeep);
    assert_true(b.capacity() > kKeep);
    burst(b, 1000); // the stream calmed down
    b.shrink_if_idle(kKeep);
    assert_int_equal(b.capacity(), 0);
}

void test_small_capacity_stays(void **)
{
    ByteBuffer b;
    burst(b, 1000);
    const size_t cap = b.capacity();
    b.shrink_if_idle(kKeep);
    assert_int_equal(b.capacity(), cap); // under `keep`: always kept
}

void test_not_while_holding_bytes(void **)
{
    ByteBuffer b;
    const std::vector<uint8_t> bytes(5 * kKeep, 1);
    b.append(bytes);
    b.consume(10);
    b.shrink_if_idle(kKeep);
    b.shrink_if_idle(kKeep); // peak forgotten, but bytes are still queued
    assert_int_equal(b.size(), 5 * kKeep - 10);
    assert_true(b.capacity() >= 5 * kKeep);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_bursts_keep_capacity),
        cmocka_unit_test(test_small_burst_gives_back),
        cmocka_unit_test(test_small_capacity_stays),
        cmocka_unit_test(test_not_while_holding_bytes),
    };
    return cmocka_run_group_tests_name("ui-vnc/byte-buffer", tests, nullptr, nullptr);
}
