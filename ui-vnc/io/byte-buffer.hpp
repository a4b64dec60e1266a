// An owning, growable byte buffer with a read offset.  Consuming from the
// front only moves the offset; the bytes are compacted lazily when the dead
// prefix outweighs the live data, so a burst of small messages costs no
// memmove per message (QEMU's buffer_advance does one each time).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace qvnc::io {

class ByteBuffer {
public:
    std::span<const uint8_t> data() const { return {buf_.data() + off_, buf_.size() - off_}; }
    size_t size() const { return buf_.size() - off_; }
    bool empty() const { return size() == 0; }

    void append(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
    void append(std::string_view s)
    {
        auto p = reinterpret_cast<const uint8_t *>(s.data());
        buf_.insert(buf_.end(), p, p + s.size());
    }
    void push_back(uint8_t b) { buf_.push_back(b); }

    // Room for n more bytes at the end; commit(k) keeps the first k of them.
    uint8_t *prepare(size_t n)
    {
        compact();
        buf_.resize(buf_.size() + n);
        pending_ = n;
        return buf_.data() + buf_.size() - n;
    }
    void commit(size_t k)
    {
        buf_.resize(buf_.size() - pending_ + std::min(k, pending_));
        pending_ = 0;
    }

    // Overwrites a big-endian u16 at `pos` bytes from the current start
    // (a count that is only known after the items were written).
    void patch_u16(size_t pos, uint16_t v)
    {
        buf_[off_ + pos] = static_cast<uint8_t>(v >> 8);
        buf_[off_ + pos + 1] = static_cast<uint8_t>(v);
    }

    // Keeps only the first n live bytes.
    void truncate(size_t n)
    {
        if (n < size()) {
            buf_.resize(off_ + n);
        }
    }

    void consume(size_t n)
    {
        off_ += std::min(n, size());
        if (off_ == buf_.size()) {
            buf_.clear();
            off_ = 0;
        }
    }
    void clear()
    {
        buf_.clear();
        off_ = 0;
    }
    // Gives memory back after a burst (e.g. a full-screen update).
    void shrink_if_idle(size_t keep = 64 * 1024)
    {
        if (empty() && buf_.capacity() > keep) {
            std::vector<uint8_t>().swap(buf_);
            off_ = 0;
        }
    }

private:
    void compact()
    {
        if (off_ > 0 && off_ >= size()) {
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(off_));
            off_ = 0;
        }
    }

    std::vector<uint8_t> buf_;
    size_t off_ = 0;
    size_t pending_ = 0;
};

} // namespace qvnc::io
