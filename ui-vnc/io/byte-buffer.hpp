// An owning, growable byte buffer with a read offset.  Consuming from the
// front only moves the offset; the bytes are compacted lazily when the dead
// prefix outweighs the live data, so a burst of small messages costs no
// memmove per message (QEMU's buffer_advance does one each time).
//
// The storage is a plain array, not a std::vector: prepare(n) hands out n
// bytes the caller is about to overwrite (a Raw rectangle, a socket read),
// and vector::resize would zero them first -- for a 1080p Raw frame, 8 MB
// of memset before the 8 MB of pixels.  Only written bytes are ever read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace qvnc::io {

class ByteBuffer {
public:
    ByteBuffer() = default;
    ByteBuffer(const ByteBuffer &o) { append(o.data()); }
    ByteBuffer &operator=(const ByteBuffer &o)
    {
        if (this != &o) {
            clear();
            append(o.data());
        }
        return *this;
    }
    ByteBuffer(ByteBuffer &&o) noexcept { swap(o); }
    ByteBuffer &operator=(ByteBuffer &&o) noexcept
    {
        if (this != &o) {
            ByteBuffer tmp(std::move(o)); // o ends up empty, as a moved-from vector
            swap(tmp);
        }
        return *this;
    }

    std::span<const uint8_t> data() const { return {buf_.get() + off_, end_ - off_}; }
    size_t size() const { return end_ - off_; }
    bool empty() const { return size() == 0; }
    size_t capacity() const { return cap_; }

    void append(std::span<const uint8_t> b)
    {
        if (b.empty()) {
            return;
        }
        std::memcpy(grow(b.size()), b.data(), b.size());
    }
    void append(std::string_view s) { append({reinterpret_cast<const uint8_t *>(s.data()), s.size()}); }
    void push_back(uint8_t b) { *grow(1) = b; }

    // Room for n more bytes at the end (not initialised); commit(k) keeps
    // the first k of them.
    uint8_t *prepare(size_t n)
    {
        compact();
        uint8_t *p = grow(n);
        pending_ = n;
        return p;
    }
    void commit(size_t k)
    {
        end_ -= pending_ - std::min(k, pending_);
        pending_ = 0;
    }

    // Overwrites a big-endian u16 at `pos` bytes from the current start
    // (a count that is only known after the items were written).
    void patch_u16(size_t pos, uint16_t v)
    {
        buf_[off_ + pos] = static_cast<uint8_t>(v >> 8);
        buf_[off_ + pos + 1] = static_cast<uint8_t>(v);
    }

    // Sets bits in the byte at `pos` bytes from the current start (a flag
    // that is only known after the byte was written).
    void patch_or_u8(size_t pos, uint8_t bits) { buf_[off_ + pos] |= bits; }

    // Keeps only the first n live bytes.
    void truncate(size_t n)
    {
        if (n < size()) {
            end_ = off_ + n;
        }
    }

    void consume(size_t n)
    {
        off_ += std::min(n, size());
        if (off_ == end_) {
            off_ = end_ = 0;
        }
    }
    void clear() { off_ = end_ = 0; }
    // Gives memory back after a burst (e.g. a full-screen update): when
    // empty, a capacity above `keep` is released unless the bytes held
    // since the last call filled a quarter of it.  A stream of large
    // updates (Raw at 1080p: 5-8 MB each) keeps its buffer instead of
    // faulting fresh pages in and regrowing it for every update; the first
    // small burst after them gives it back.
    void shrink_if_idle(size_t keep = 64 * 1024)
    {
        const size_t peak = peak_;
        peak_ = 0;
        if (empty() && cap_ > keep && peak < cap_ / 4) {
            buf_.reset();
            cap_ = off_ = end_ = 0;
        }
    }

    // Exchanges contents and storage (an encoded update handed over whole).
    void swap(ByteBuffer &o) noexcept
    {
        std::swap(buf_, o.buf_);
        std::swap(cap_, o.cap_);
        std::swap(off_, o.off_);
        std::swap(end_, o.end_);
        std::swap(peak_, o.peak_);
        std::swap(pending_, o.pending_);
    }

private:

    // Extends the live bytes by n at the end and returns where they start.
    uint8_t *grow(size_t n)
    {
        if (cap_ - end_ < n) {
            // Geometric growth, as a vector: appends stay amortised O(1).
            const size_t need = end_ + n;
            const size_t cap = std::max(need, cap_ + cap_ / 2);
            auto next = std::make_unique_for_overwrite<uint8_t[]>(cap);
            if (end_ > 0) {
                std::memcpy(next.get(), buf_.get(), end_);
            }
            buf_ = std::move(next);
            cap_ = cap;
        }
        uint8_t *p = buf_.get() + end_;
        end_ += n;
        peak_ = std::max(peak_, end_);
        return p;
    }

    void compact()
    {
        if (off_ > 0 && off_ >= size()) {
            std::memmove(buf_.get(), buf_.get() + off_, size());
            end_ -= off_;
            off_ = 0;
        }
    }

    std::unique_ptr<uint8_t[]> buf_;
    size_t cap_ = 0;
    size_t peak_ = 0; // highest end_ since the last shrink_if_idle()
    size_t off_ = 0; // first live byte
    size_t end_ = 0; // one past the last live byte
    size_t pending_ = 0;
};

} // namespace qvnc::io
