#include "security-sasl.hpp"

#include "byte-writer.hpp"
#include "error.hpp"

namespace qvnc::vnc {

namespace {
constexpr uint32_t kMaxData = 1024 * 1024; // QEMU's SASL_DATA_MAX_LEN
constexpr uint32_t kMaxMechName = 100;
constexpr unsigned kMinSsf = 56;

bool in_mechlist(const std::string &list, const std::string &mech)
{
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t end = list.find(',', pos);
        if (end == std::string::npos) {
            end = list.size();
        }
        if (list.compare(pos, end - pos, mech) == 0 && end - pos == mech.size()) {
            return true;
        }
        pos = end + 1;
    }
    return false;
}
} // namespace

void SecuritySasl::begin(io::ByteBuffer &out)
{
    auto s = crypto::SaslServer::create(env_.local, env_.remote, env_.props);
    if (!s) {
        setup_error_ = s.error().message;
        return;
    }
    sasl_ = std::move(s.value());
    auto list = sasl_->mechlist();
    if (!list) {
        setup_error_ = list.error().message;
        return;
    }
    mechlist_ = std::move(list.value());
    if (mechlist_.empty()) {
        // QEMU >= 9.2: nothing to offer, close without sending.
        setup_error_ = "no SASL mechanisms available (check qemu.conf and the SSF rules)";
        return;
    }
    io::ByteWriter(out).u32(static_cast<uint32_t>(mechlist_.size())).text(mechlist_);
}

Step SecuritySasl::decide_without_input()
{
    if (!setup_error_.empty()) {
        state_ = State::Failed;
        return Step::abort(setup_error_);
    }
    return Step::need_more();
}

Step SecuritySasl::on_input(io::ByteReader &in, io::ByteBuffer &out)
{
    for (;;) {
        switch (state_) {
        case State::MechLen:
            if (!in.has(4)) {
                return Step::need_more();
            }
            len_ = in.u32();
            if (len_ < 1 || len_ > kMaxMechName) {
                state_ = State::Failed;
                return Step::abort(strprintf("SASL mechname length %u out of range", len_));
            }
            state_ = State::MechName;
            break;
        case State::MechName: {
            if (!in.has(len_)) {
                return Step::need_more();
            }
            mech_ = std::string(in.text(len_));
            if (!in_mechlist(mechlist_, mech_)) {
                state_ = State::Failed;
                return Step::abort("SASL mechanism '" + mech_ + "' was not offered");
            }
            state_ = State::DataLen;
            break;
        }
        case State::DataLen:
            if (!in.has(4)) {
                return Step::need_more();
            }
            len_ = in.u32();
            if (len_ > kMaxData) {
                state_ = State::Failed;
                return Step::abort(strprintf("SASL data of %u bytes exceeds 1 MiB", len_));
            }
            state_ = State::Data;
            break;
        case State::Data: {
            if (!in.has(len_)) {
                return Step::need_more();
            }
            std::optional<std::string> data;
            if (len_ > 0) {
                std::string_view raw = in.text(len_);
                // The client counts one NUL after its data (so "" and NULL
                // differ); anything else there is a malformed message
                // (QEMU >= 9.2).  Exception: gtk-vnc sends GSSAPI's binary
                // tokens with the byte after the token instead of a NUL, so
                // for GSSAPI the last byte is dropped unchecked, as QEMU
                // <= 9.1 did — otherwise Kerberos logins from virt-viewer
                // would fail.
                if (raw.back() != '\0' && mech_ != "GSSAPI") {
                    state_ = State::Failed;
                    return Step::abort("Missing SASL NUL padding byte");
                }
                data = std::string(raw.substr(0, raw.size() - 1));
            }
            state_ = State::DataLen;
            return handle_data(std::move(data), out);
        }
        case State::Failed:
            return Step::abort("SASL already failed");
        }
    }
}

Step SecuritySasl::handle_data(std::optional<std::string> data, io::ByteBuffer &out)
{
    crypto::SaslServer::StepResult r =
        started_ ? sasl_->step(data) : sasl_->start(mech_, data);
    started_ = true;
    if (r.kind == crypto::SaslServer::StepResult::Kind::Fail) {
        // QEMU closes without a SecurityResult on SASL errors.
        state_ = State::Failed;
        return Step::abort_credentials("SASL authentication failed: " + r.error);
    }
    io::ByteWriter w(out);
    if (r.out) {
        w.u32(static_cast<uint32_t>(r.out->size() + 1)).text(*r.out).u8(0);
    } else {
        w.u32(0);
    }
    bool complete = r.kind == crypto::SaslServer::StepResult::Kind::Ok;
    w.u8(complete ? 1 : 0);
    if (!complete) {
        return Step::need_more();
    }
    return finish();
}

Step SecuritySasl::finish()
{
    state_ = State::Failed; // nothing more is read by this handler
    unsigned ssf = sasl_->ssf();
    if (env_.want_ssf && ssf < kMinSsf) {
        return Step::reject_sasl(strprintf("SASL SSF %u is below the required %u", ssf, kMinSsf));
    }
    std::optional<std::string> user = sasl_->username();
    if (!user) {
        return Step::reject_sasl("SASL provided no username");
    }
    std::string why;
    if (env_.authorize && !env_.authorize(*user, &why)) {
        return Step::reject_sasl("SASL username " + *user + " is not authorized" +
                                 (why.empty() ? "" : ": " + why));
    }
    bool run_ssf = env_.want_ssf && ssf > 0;
    env_.on_success(std::move(sasl_), *user, run_ssf);
    return Step::done();
}

} // namespace qvnc::vnc
