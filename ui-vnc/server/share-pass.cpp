// Shared encoding: see share-pass.hpp.
#include "share-pass.hpp"

#include <algorithm>

#include "connection.hpp"
#include "server.hpp"
#include "worker-pool.hpp"

namespace qvnc::vnc {

namespace {

// Idle shared encoders kept per display: one per settings in use is the
// common case; a few more cover groups of one key whose encodes overlap.
constexpr size_t kMaxIdleEncoders = 8;

} // namespace

void SharePass::run()
{
    if (running_) {
        return;
    }
    running_ = true;
    ngroups_ = 0;
    cands_.clear();
    for (const auto &c : server_.connections()) {
        std::optional<ShareKey> key = c->share_key();
        if (!key || !c->dirty().any()) {
            continue;
        }
        // While clients of these settings encode, the others wait for
        // them (parked) so that all are grouped at once when they are done.
        bool busy = false;
        for (const auto &d : server_.connections()) {
            busy = busy || d->encoding_with(*key);
        }
        if (!busy) {
            cands_.push_back({c.get(), *key, c->dirty().count()});
        }
    }
    // Largest damage first: each group's first member has the damage the
    // group is sent, and the others' damage is part of it.
    std::stable_sort(cands_.begin(), cands_.end(),
                     [](const Candidate &a, const Candidate &b) { return a.blocks > b.blocks; });
    for (const Candidate &c : cands_) {
        Group *g = nullptr;
        for (size_t i = 0; i < ngroups_ && !g; i++) {
            const Candidate &lead = groups_[i].lead;
            if (groups_[i].key == c.key && 2 * c.blocks >= lead.blocks &&
                c.conn->dirty().subset_of(lead.conn->dirty())) {
                g = &groups_[i];
            }
        }
        if (!g) {
            if (ngroups_ == groups_.size()) {
                groups_.emplace_back();
            }
            g = &groups_[ngroups_++];
            g->key = c.key;
            g->lead = c;
            g->members.clear();
        }
        g->members.push_back(c.conn);
    }
    for (size_t i = 0; i < ngroups_; i++) {
        if (groups_[i].members.size() >= 2) {
            start(groups_[i]);
        }
        groups_[i].members.clear();
    }
    running_ = false;
}

std::unique_ptr<Encoder> SharePass::take_encoder(const ShareKey &key)
{
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (it->first == key) {
            std::unique_ptr<Encoder> e = std::move(it->second);
            idle_.erase(it);
            return e;
        }
    }
    // The members' own encoders accept shared bytes, so this exists.
    return make_encoder(key.encoding);
}

void SharePass::start(const Group &g)
{
    std::shared_ptr<Job> job;
    if (!free_jobs_.empty()) {
        job = std::move(free_jobs_.back());
        free_jobs_.pop_back();
    } else {
        job = std::make_shared<Job>();
    }
    Job &j = *job;
    j.key = g.key;
    j.members.clear();
    EncodeJob &e = j.enc;
    e.rects.clear();
    e.copies.clear();
    e.out.clear();
    // Each member's pseudo-rectangles go out now; the first takes the
    // rectangles from its map, the others' maps (part of it) are emptied.
    for (size_t i = 0; i < g.members.size(); i++) {
        Connection *c = g.members[i];
        c->begin_shared_update(i == 0 ? &e.rects : nullptr);
        j.members.push_back({c, c->alive_token()});
    }
    Connection &lead = *g.members.front();
    e.key = g.key.encoding;
    e.encoder = take_encoder(g.key);
    e.encoder->forget_history();
    // The converter (its tables) is copied only when the formats changed.
    if (!e.conv || e.pf != g.key.pf || j.conv_from != server_.framebuffer().format()) {
        e.conv = lead.converter();
        j.conv_from = server_.framebuffer().format();
    }
    e.pf = g.key.pf;
    e.compress_level = g.key.compress_level;
    e.quality_level = g.key.quality_level;
    e.lossy = server_.config().lossy;
    encodes_++;

    size_t pixels = 0;
    for (const Rect &r : e.rects) {
        pixels += static_cast<size_t>(r.w) * static_cast<size_t>(r.h);
    }
    if (encode_inline(g.key.encoding, pixels)) {
        // As for one client (connection-encode.cpp): a cursor's few blocks
        // cost less to encode here than to hand to a worker.
        const EncodeContext ectx{server_.framebuffer(), e.pf,    *e.conv, e.compress_level, e.quality_level,
                                 e.lossy,               nullptr, server_.tile_freq()};
        encode_update(*e.encoder, ectx, e.copies, e.rects, e.out);
        e.lossy_rects.clear();
        e.encoder->take_lossy(e.lossy_rects);
        finish(job, true);
        return;
    }
    server_.lend_pixels(e, e.rects);
    e.pool = &server_.workers();
    set_adaptive(e, server_.tile_freq());
    server_.workers().submit([job] { encode_update(job->enc); },
                             // The pool belongs to the server, which owns
                             // this pass: `this` outlives every delivery.
                             [this, job] { finish(job, false); });
}

void SharePass::finish(const std::shared_ptr<Job> &job, bool inline_encoded)
{
    Job &j = *job;
    server_.return_pixels(j.enc);
    if (idle_.size() < kMaxIdleEncoders) {
        idle_.emplace_back(j.key, std::move(j.enc.encoder));
    }
    j.enc.encoder.reset();
    // One buffer for every member's queue (zero-copy), reused once the
    // last of them has written it (use_count() back to 1: the job's).
    if (!j.bytes || j.bytes.use_count() > 1) {
        j.bytes = std::make_shared<io::ByteBuffer>();
    }
    j.bytes->clear();
    std::swap(*j.bytes, j.enc.out);
    const std::shared_ptr<const io::ByteBuffer> bytes = j.bytes;
    for (const Member &m : j.members) {
        if (!m.alive.expired()) {
            m.conn->finish_shared_update(bytes, j.key.encoding);
            m.conn->mark_lossy(j.enc.lossy_rects);
            sends_++;
        }
    }
    if (!inline_encoded) {
        // What accumulated meanwhile: shared again where the members are
        // still in step, else each client's own update.
        done_.clear();
        for (const Member &m : j.members) {
            if (!m.alive.expired()) {
                done_.push_back(m.conn);
            }
        }
        server_.after_jobs(done_);
    }
    j.members.clear();
    j.enc.out.clear();
    free_jobs_.push_back(job);
}

// Server's side of it: the generation counter and the peers' state.

void Server::after_jobs(std::span<Connection *const> finished)
{
    // The compare pass waited for jobs reading the pixels in place; it
    // waits again (pull_damage) if others still read where it would write.
    if (pull_deferred_) {
        pull_deferred_ = false;
        refresh();
    }
    share_.run();
    for (auto &c : conns_) {
        if (c->parked() && !c->encoding() && !share_peer_busy(*c)) {
            c->try_send_update(); // not grouped: its own update
        }
    }
    for (Connection *c : finished) {
        if (!c->encoding()) {
            c->try_send_update(); // parks while its settings are encoding
        }
    }
}

bool Server::share_peer_busy(Connection &c) const
{
    std::optional<ShareKey> key = c.share_key();
    if (!key) {
        return false;
    }
    for (const auto &d : conns_) {
        if (d.get() != &c && d->encoding_with(*key)) {
            return true;
        }
    }
    return false;
}

} // namespace qvnc::vnc
