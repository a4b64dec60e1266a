#include "ct-equal.hpp"

#include <nettle/memops.h>

namespace qvnc::crypto {

bool ct_equal(std::span<const uint8_t> a, std::span<const uint8_t> b)
{
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    // nettle's memeql_sec is written (and maintained) to stay branch-free
    // over the contents; a hand-rolled loop could be shortcut by the optimiser.
    return memeql_sec(a.data(), b.data(), a.size()) != 0;
}

} // namespace qvnc::crypto
