// Ownership of a GLib source attached to the default main context: the
// source is removed when the owner goes away, so no timer can call into a
// destroyed guest.
#pragma once

#include <glib.h>

#include <utility>

namespace qvnc_emu {

class SourceId {
public:
    SourceId() = default;
    explicit SourceId(guint id) : id_(id) {}
    ~SourceId() { reset(); }

    SourceId(const SourceId &) = delete;
    SourceId &operator=(const SourceId &) = delete;
    SourceId(SourceId &&other) noexcept : id_(std::exchange(other.id_, 0u)) {}
    SourceId &operator=(SourceId &&other) noexcept
    {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, 0u);
        }
        return *this;
    }

    void reset()
    {
        if (id_ != 0) {
            g_source_remove(std::exchange(id_, 0u));
        }
    }

    // For a callback about to return G_SOURCE_REMOVE: GLib destroys the
    // source itself, so the owner must forget the id rather than remove it.
    void release() { id_ = 0; }

    explicit operator bool() const { return id_ != 0; }

private:
    guint id_ = 0;
};

} // namespace qvnc_emu
