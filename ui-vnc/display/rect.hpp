// A rectangle in framebuffer pixels, and the few operations damage
// tracking and update requests need.
#pragma once

#include <algorithm>

namespace qvnc::vnc {

struct Rect {
    int x = 0, y = 0, w = 0, h = 0;

    bool empty() const { return w <= 0 || h <= 0; }
    int right() const { return x + w; }
    int bottom() const { return y + h; }
    bool operator==(const Rect &) const = default;
};

// The overlap of a and b; empty (all zero) when they do not overlap.
inline Rect intersect(const Rect &a, const Rect &b)
{
    // 64-bit edges: x + w must not overflow for rectangles built from
    // untrusted values.
    const long long x0 = std::max(a.x, b.x);
    const long long y0 = std::max(a.y, b.y);
    const long long x1 = std::min(static_cast<long long>(a.x) + a.w, static_cast<long long>(b.x) + b.w);
    const long long y1 = std::min(static_cast<long long>(a.y) + a.h, static_cast<long long>(b.y) + b.h);
    if (x1 <= x0 || y1 <= y0) {
        return {};
    }
    return {static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1 - x0), static_cast<int>(y1 - y0)};
}

// The smallest rectangle holding both; an empty one adds nothing.
inline Rect bounding(const Rect &a, const Rect &b)
{
    if (a.empty()) {
        return b;
    }
    if (b.empty()) {
        return a;
    }
    const int x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
    return {x0, y0, std::max(a.right(), b.right()) - x0, std::max(a.bottom(), b.bottom()) - y0};
}

inline bool intersects(const Rect &a, const Rect &b)
{
    return !intersect(a, b).empty();
}

// True when every pixel of inner lies in outer (an empty inner is contained).
inline bool contains(const Rect &outer, const Rect &inner)
{
    // In 64 bits: x + w of a hostile rectangle must not wrap around.
    auto r = [](const Rect &q) { return static_cast<long long>(q.x) + q.w; };
    auto b = [](const Rect &q) { return static_cast<long long>(q.y) + q.h; };
    return inner.empty() || (inner.x >= outer.x && inner.y >= outer.y && r(inner) <= r(outer) &&
                             b(inner) <= b(outer));
}

} // namespace qvnc::vnc
