// Encode once, send many (issue 8): clients of one display whose encoding
// settings are identical and who are ready for the same damage at the same
// moment get ONE encode, whose bytes go to each of them.
//
// Who shares: at a refresh pass (and after a shared update went out), the
// clients that could take an update now are grouped by ShareKey (what an
// encoder's output depends on besides the pixels) and by their dirty maps:
// the client with the most damage leads a group, and a client whose damage
// is part of the leader's (DirtyMap::subset_of) and at least half of it
// joins and is sent the leader's rectangles.  Sending pixels a client already
// shows is always correct, and it is what brings clients that drifted apart
// (one joined later, one fell behind, two groups whose jobs ended at
// different times) back in step after one update; clients in step then stay
// so, as damage reaches every map at once.  A client that cannot take an
// update now (throttled, no request, CopyRects queued, a resize pending,
// part of the screen asked for) or whose damage is not part of a leader's
// gets its own encode as before.
//
// Parking: a client ready with damage while clients of the same settings
// are encoding (their own job or a shared one) waits until none is
// (Server::after_jobs) instead of starting its own encode: no new job of
// those settings starts meanwhile, so the jobs in flight drain and the
// pass that follows groups everyone ready at once; clients that even then
// have no group encode alone.  The wait is at most the jobs in flight,
// which a client of its own would have queued behind on the workers anyway.
//
// Streams: each client's zlib inflater continues its own stream, so the
// shared bytes must not refer back to anything before them, and must not
// start a stream: the shared encoder forgets its history before every
// encode (Encoder::forget_history: a raw deflate reset, no header), only
// clients whose stream header already went out take part
// (Encoder::accepts_shared), and a client's own encoder forgets its history
// after shared bytes went into its stream, since its peer's window now
// holds those.  A client's first update is therefore its own, and a
// single viewer's stream is exactly what it was without sharing.  Tight
// can reset a client's streams in-band (control byte bits 0-3): its
// forget_history() starts its streams over and sends those bits, so its
// clients always accept shared bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "encode-job.hpp"
#include "pixel-format.hpp"

namespace qvnc::vnc {

class Connection;
class Server;

// What an encoder's output depends on besides the pixels and rectangles
// (EncodeContext; lossy is per display).
struct ShareKey {
    int32_t encoding = 0;
    PixelFormat pf;
    int compress_level = -1;
    int quality_level = -1;
    bool operator==(const ShareKey &) const = default;
};

class SharePass {
public:
    explicit SharePass(Server &server) : server_(server) {}
    SharePass(const SharePass &) = delete;
    SharePass &operator=(const SharePass &) = delete;

    // Groups the clients that can take an update now and starts one
    // encode per group of two or more; the others are left to their own
    // try_send_update().
    void run();

    // Shared encodes made, and the client updates they served.
    uint64_t encodes() const { return encodes_; }
    uint64_t sends() const { return sends_; }

private:
    struct Member {
        Connection *conn;
        std::weak_ptr<int> alive;
    };
    struct Job {
        ShareKey key;
        EncodeJob enc;
        // enc.out moved here when done: the members' queues hold it.
        std::shared_ptr<io::ByteBuffer> bytes;
        uint32_t conv_from = 0; // the server format enc.conv converts from
        std::vector<Member> members;
    };
    struct Candidate {
        Connection *conn;
        ShareKey key;
        size_t blocks; // dirty blocks
    };
    struct Group {
        ShareKey key;
        Candidate lead;
        std::vector<Connection *> members; // lead first
    };

    void start(const Group &g);
    // `inline_encoded`: the caller goes on to offer every client an update,
    // so no new pass and no try_send_update from here.
    void finish(const std::shared_ptr<Job> &job, bool inline_encoded);
    std::unique_ptr<Encoder> take_encoder(const ShareKey &key);

    Server &server_;
    bool running_ = false;
    // Scratch kept for its capacity (no allocation per pass once warm).
    std::vector<Candidate> cands_;
    std::vector<Connection *> done_;
    std::vector<Group> groups_;
    size_t ngroups_ = 0;
    // Idle shared encoders (each forgets its history before use, so any
    // idle one of a key will do), and finished jobs for their buffers.
    std::vector<std::pair<ShareKey, std::unique_ptr<Encoder>>> idle_;
    std::vector<std::shared_ptr<Job>> free_jobs_;
    uint64_t encodes_ = 0;
    uint64_t sends_ = 0;
};

} // namespace qvnc::vnc
