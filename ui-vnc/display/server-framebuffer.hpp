// The server's own copy of the emulator's surface (QEMU's vd->server).
// Encoders read only this copy, and comparing the emulator's damaged blocks
// against it turns "the guest says it drew here" into "these pixels really
// changed", which is what clients are sent.
//
// The pixels can be shared with an encoder job (share_from): the job then
// reads them in place instead of a snapshot copy, which on full-screen
// damage saves a copy of the frame per update.  Whoever changes shared
// pixels first copies them for itself (copy on write), so a job never sees
// a change; the server avoids paying that by deferring its compare pass
// while a job reads (Server::pull_damage).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dirty-map.hpp"
#include "rect.hpp"
#include "surface.hpp"

namespace qvnc::vnc {

class ServerFramebuffer {
public:
    ServerFramebuffer() = default;
    // A copy would have to choose between sharing and copying the pixels:
    // share_from() and copy_rects_from() say which.
    ServerFramebuffer(const ServerFramebuffer &) = delete;
    ServerFramebuffer &operator=(const ServerFramebuffer &) = delete;
    ServerFramebuffer(ServerFramebuffer &&) = default;
    ServerFramebuffer &operator=(ServerFramebuffer &&) = default;

    // Reallocates for a new emulator surface and copies its pixels.  The
    // format is kept as is; the size is clamped to kVncMaxWidth x
    // kVncMaxHeight.  Because the copy starts out equal to the guest, the
    // caller must mark every client's map dirty itself: refresh_from() will
    // find no difference.  A surface with no pixels, no data or a format
    // whose pixel size is not a whole number of bytes gives an empty (0x0)
    // framebuffer.
    void reset(const SurfaceView &guest);

    // For every block dirty in guest_dirty, compares the guest's pixels with
    // the copy; differing blocks are copied and marked in `changed`.  Returns
    // whether any block changed.  Reads of the guest never go past
    // min(guest.stride, guest.width * Bpp) in a row or guest.height rows,
    // however the guest and the copy differ in size (CVE-2015-5225).  A guest
    // in another format than the copy is not compared at all (false): the
    // caller must reset() first.
    // `write_shared`: write in place even while the pixels are shared (no
    // copy first): the caller knows no sharer reads any block guest_dirty
    // marks.
    bool refresh_from(const SurfaceView &guest, const DirtyMap &guest_dirty, DirtyMap &changed,
                      bool write_shared = false);

    // refresh_from in bands of rows on several threads: plan_rows() (on
    // the loop thread: it may copy shared pixels first, as refresh_from
    // does) says which rows; refresh_rows() then compares and copies rows
    // [y0, y1) of them, any bands at once, and stores each row's changed
    // words in `differ` (row plan.y0 at 0, plan.words a row) instead of a
    // map; the caller ORs them into its map.
    struct RowsPlan {
        int y0 = 0, y1 = 0; // empty: nothing to compare
        size_t words = 0;
        uint8_t *pixels = nullptr;
    };
    RowsPlan plan_rows(const SurfaceView &guest, const DirtyMap &guest_dirty, bool write_shared = false);
    void refresh_rows(const RowsPlan &plan, const SurfaceView &guest, const DirtyMap &guest_dirty, int y0, int y1,
                      std::span<uint64_t> differ) const;

    int width() const { return width_; }
    int height() const { return height_; }
    int stride() const { return stride_; }
    uint32_t format() const { return format_; }
    int bytes_per_pixel() const { return bytes_pp_; }
    bool empty() const { return width_ == 0 || height_ == 0; }
    // Row y (0 <= y < height()) of the copy.
    const uint8_t *row(int y) const { return pixels_->data() + static_cast<size_t>(y) * stride_; }
    // The copy as a surface, e.g. for encoders; valid until the next reset().
    SurfaceView view() const;

    // Takes src's geometry and format (reallocating only when they differ)
    // and copies the pixels of `rects` (clipped to src), nothing else: an
    // encoder job's snapshot of what it is about to encode, so the loop
    // thread can go on changing src meanwhile.  Pixels outside `rects` are
    // left as they were and must not be read.
    void copy_rects_from(const ServerFramebuffer &src, std::span<const Rect> rects);

    // Takes src's geometry and its pixels by reference: this reads what src
    // holds now, however src changes later (src copies its pixels for
    // itself before it changes them while they are shared).  Costs no copy.
    void share_from(const ServerFramebuffer &src);
    // Drops the pixels (0x0): a sharer lets go, so the source changes its
    // pixels in place again.
    void release();
    // Whether another framebuffer shares these pixels.  Loop thread only:
    // sharers are made and released there.
    bool shared() const { return pixels_ && pixels_.use_count() > 1; }

    // Moves the pixels of `src` to `dst` (same size, both inside the copy:
    // the caller checks), overlapping allowed, as a guest blit does.
    void copy_rect(const Rect &src, const Rect &dst);
    // Copies rows [y0, y1) of r from the guest (same format; r inside both:
    // the caller checks).  Bands of one rect may run on several threads;
    // call make_writable() on the loop thread first.
    void take_rows(const SurfaceView &guest, const Rect &r, int y0, int y1);
    // The pixels made writable (copied first while shared); loop thread.
    void make_writable() { writable(); }

private:
    // The pixels, ready to be changed: copied first while shared.
    uint8_t *writable();
    struct Span;
    Span span_of(const SurfaceView &guest, const DirtyMap &guest_dirty) const;
    template <class Sink>
    bool scan_rows(const Span &sp, const SurfaceView &guest, const DirtyMap &guest_dirty, int y0, int y1,
                   uint8_t *pixels, Sink &&sink) const;

    int width_ = 0;
    int height_ = 0;
    int stride_ = 0;
    int bytes_pp_ = 0;
    uint32_t format_ = 0;
    std::shared_ptr<std::vector<uint8_t>> pixels_; // null when empty
};

} // namespace qvnc::vnc
